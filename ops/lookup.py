"""Showing stored events: an aligned table for people, JSON lines for programs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import suppress
from typing import Any, TextIO

from ops.stored_events import StoredEvent
from zenoti_receiver.models.class_booking import BOOKING_DELETED  # stored before the family: items without event_type

# The attributes the receiver stores of every family (adapters/event_table.py): the resource's id, and the
# guest or employee an event concerns where the family names one.
COLUMNS = (
    "occurred_at", "event_id", "event_type", "center_id", "resource_id", "guest_id", "employee_id", "signature",
    "header_names",
)  # fmt: skip


def print_aligned(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    """Rows of cells in columns as wide as their widest cell (the first row: the columns' names)."""
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(), file=out)


def print_table(events: list[StoredEvent], out: TextIO) -> None:
    print_aligned([COLUMNS, *([_cell(_shown(event).get(column)) for column in COLUMNS] for event in events)], out)
    print(f"({len(events)} event{'' if len(events) == 1 else 's'})", file=out)


def print_jsonl(events: list[StoredEvent], out: TextIO) -> None:
    for event in events:
        shown = dict(sorted(_shown(event).items()))
        if "payload" in shown:  # last, parsed (the receiver only stores JSON; kept as text should that change)
            payload = shown["payload"] = shown.pop("payload")
            with suppress(ValueError):
                shown["payload"] = json.loads(payload)
        print(json.dumps(shown), file=out)


def _shown(event: StoredEvent) -> dict[str, Any]:
    """The item's attributes; one stored before the family is a Class.Booking.Deleted without header names."""
    return {"event_type": BOOKING_DELETED, "header_names": None} | event.attributes


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):  # header names: one cell, no spaces
        return ",".join(value) if value else "(none)"
    return str(value)
