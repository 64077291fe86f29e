"""Events stored but not yet published: what the scheduled publisher still has to send."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any, TextIO

from ops.stored_events import StoredEvent, items_by_id

PENDING_INDEX = "pending"  # template.yaml: sparse, only unpublished events carry its key
COLUMNS = ("received_at", "waiting", "event_id", "center_id", "occurred_at", "claim")


def pending_events(dynamodb: Any, table: str) -> list[StoredEvent]:
    """Every pending event, oldest first: a Scan of the sparse index, which holds nothing else."""
    request: dict[str, Any] = {"TableName": table, "IndexName": PENDING_INDEX}
    entries: list[tuple[str, str]] = []
    while True:
        page = dynamodb.scan(**request)
        entries += [(item["received_at"]["S"], item["event_id"]["S"]) for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    # Read each one back by key: an event published meanwhile is no longer pending.
    events = items_by_id(dynamodb, table, [event_id for _, event_id in sorted(entries)])
    return [event for event in events if not event.attributes.get("published")]


def print_pending(events: list[StoredEvent], out: TextIO, *, as_jsonl: bool, now: float | None = None) -> None:
    now = time.time() if now is None else now
    if as_jsonl:
        for event in events:
            shown = {name: value for name, value in event.attributes.items() if name != "payload"}
            print(json.dumps({**shown, "waiting_seconds": round(_waiting(event, now))}), file=out)
        return
    rows = [COLUMNS, *(_row(event, now) for event in events)]
    widths = [max(len(row[index]) for row in rows) for index in range(len(COLUMNS))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(), file=out)
    print(f"({len(events)} pending event{'' if len(events) == 1 else 's'})", file=out)


def _row(event: StoredEvent, now: float) -> tuple[str, ...]:
    attributes = event.attributes
    expires = int(attributes.get("claim_expires_at", 0))
    claim = f"held {expires - int(now)} s more" if expires > now else "free"
    return (
        str(attributes.get("received_at", "-")),
        _duration(_waiting(event, now)),
        event.event_id,
        str(attributes.get("center_id", "-")),
        event.occurred_at or "-",
        claim,
    )


def _waiting(event: StoredEvent, now: float) -> float:
    received = datetime.fromisoformat(str(event.attributes["received_at"]).replace("Z", "+00:00"))
    return max(0.0, now - received.astimezone(UTC).timestamp())


def _duration(seconds: float) -> str:
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    if days:
        return f"{days}d{hour:02d}h"
    if hours:
        return f"{hours}h{minute:02d}m"
    return f"{minutes}m{second:02d}s"
