"""DynamoDB items as plain Python values, for people and JSON: numbers as int or float, binary as bytes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer

from zenoti_receiver.adapters.event_table import stored_payload
from zenoti_receiver.adapters.held_bodies import held_body

_deserialize = TypeDeserializer().deserialize


def plain_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserialize(value)) for name, value in sorted(item.items())}


def plain_event(item: dict[str, Any]) -> dict[str, Any]:
    """An item of the events table, its body as text in `payload` (the receiver stores it compressed)."""
    event = {name: value for name, value in plain_item(item).items() if name != "payload_zlib"}
    if "payload_zlib" in item or "payload" in item:
        event["payload"] = stored_payload(item)
    return event


def plain_held(item: dict[str, Any]) -> dict[str, Any]:
    """An entry of the held bodies' table, its body as received in `body` (bytes: it may not be UTF-8)."""
    entry = {name: value for name, value in plain_item(item).items() if name != "body_zlib"}
    entry["body"] = held_body(item)
    return entry


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Binary):
        return bytes(value)
    return value
