"""Reading stored events back from the table: by id, through the indexes (center, guest, employee), or by Scan; the
indexes project only keys (docs/design.md#cost-write-units), so what they find is then read by key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from ops.errors import OperatorError
from ops.items import Condition, every_item, filtered, plain_event
from zenoti_receiver.clock import utc_text

BATCH_GET_KEYS = 100  # BatchGetItem's limit


@dataclass(frozen=True)
class TimeWindow:
    """[since, until), either end open: on occurred_at, or what a command compares (first_seen, received_at)."""

    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def parse(cls, since: str | None, until: str | None) -> TimeWindow:
        window = cls(_parse_moment("--since", since), _parse_moment("--until", until))
        if window.since and window.until and window.since >= window.until:
            raise OperatorError(f"--since {since} is not before --until {until}: the window is empty")
        return window

    def texts(self) -> tuple[str | None, str | None]:
        """The ends as the tables write times (fixed-width UTC, so text order is time order)."""
        return (utc_text(self.since) if self.since else None, utc_text(self.until) if self.until else None)

    def condition(self, values: dict[str, Any]) -> str:
        """A key condition on occurred_at; fills in its values."""
        # DynamoDB allows one condition on a sort key: the exclusive end becomes an inclusive one a microsecond
        # earlier (occurred_at has microsecond resolution, so nothing falls in between); an open end is a text
        # before or after every time ("0", "9").
        values[":since"] = {"S": utc_text(self.since) if self.since else "0"}
        values[":until"] = {"S": utc_text(self.until - timedelta(microseconds=1)) if self.until else "9"}
        return "occurred_at BETWEEN :since AND :until"

    def describe(self) -> str:
        since, until = self.texts()
        if since and until:
            return f" from {since} until (before) {until}"
        return f" since {since}" if since else f" before {until}" if until else ""


def _parse_moment(option: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        # Python keeps 6 fractional digits of Zenoti's 7, as the receiver does for occurred_at.
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OperatorError(
            f"{option} {text!r} is not an ISO 8601 date or time (for example 2022-03-22 or 2022-03-22T12:34:15Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # without an offset: UTC


@dataclass(frozen=True)
class StoredEvent:
    """One item of the table as DynamoDB gave it; its attributes as plain values, the body as text in `payload`."""

    item: dict[str, Any]

    @cached_property
    def attributes(self) -> dict[str, Any]:
        return plain_event(self.item)

    @property
    def event_id(self) -> str:
        return str(self.attributes["event_id"])

    @property
    def occurred_at(self) -> str:
        return str(self.attributes.get("occurred_at", ""))


def events_by_id(dynamodb: Any, table: str, event_ids: list[str]) -> list[StoredEvent]:
    """The events with these ids; refuses all of them if one is not stored (a typo must not replay half)."""
    wanted = list(dict.fromkeys(event_ids))  # each id once, in the order given
    found = [event for event in items_by_id(dynamodb, table, wanted) if "payload" in event.attributes]
    missing = sorted(set(wanted) - {event.event_id for event in found}, key=wanted.index)
    if missing:
        raise OperatorError(f"no stored event with event_id {', '.join(missing)} in table {table}")
    return found


def events_of(dynamodb: Any, table: str, index: str, key: str, value: str, window: TimeWindow) -> list[StoredEvent]:
    """The events of one center, guest or employee, in time order: a Query on one of the indexes, every page."""
    # The indexes hold GUIDs in their canonical lower case, whatever the case Zenoti (or you) wrote them in.
    values: dict[str, Any] = {":key": {"S": value.lower()}}
    request = {"TableName": table, "IndexName": index, "ExpressionAttributeValues": values}
    request["KeyConditionExpression"] = f"{key} = :key AND {window.condition(values)}"
    return items_by_id(dynamodb, table, [item["event_id"]["S"] for item in every_item(dynamodb.query, request)])


def items_by_id(dynamodb: Any, table: str, event_ids: list[str]) -> list[StoredEvent]:
    """The stored events with these ids, in that order (BatchGetItem, strongly consistent); absent ones left out."""
    found: dict[str, StoredEvent] = {}
    for start in range(0, len(event_ids), BATCH_GET_KEYS):
        keys = [{"event_id": {"S": event_id}} for event_id in event_ids[start : start + BATCH_GET_KEYS]]
        request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
        while request:
            answer = dynamodb.batch_get_item(RequestItems=request)
            events = map(StoredEvent, answer.get("Responses", {}).get(table, []))
            found |= {event.event_id: event for event in events}
            request = answer.get("UnprocessedKeys") or {}  # DynamoDB may answer part of a batch
    return [found[event_id] for event_id in event_ids if event_id in found]


def scanned(dynamodb: Any, table: str, conditions: list[Condition]) -> list[StoredEvent]:
    """Every event the conditions select: a Scan, which reads (and bills) the whole table."""
    request = filtered({"TableName": table}, conditions)
    return [StoredEvent(item) for item in every_item(dynamodb.scan, request)]


def events_in_window(dynamodb: Any, table: str, window: TimeWindow) -> list[StoredEvent]:
    """Every event in the window, whatever its center."""
    since, until = window.texts()
    return scanned(dynamodb, table, [("occurred_at", ">=", since), ("occurred_at", "<", until)])


def events_received_between(dynamodb: Any, table: str, since: datetime, until: datetime) -> list[StoredEvent]:
    """Every event received in [since, until], in the order received."""
    events = scanned(dynamodb, table, [("received_at", ">=", utc_text(since)), ("received_at", "<=", utc_text(until))])
    return sorted(events, key=lambda event: (str(event.attributes.get("received_at", "")), event.event_id))
