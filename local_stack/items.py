"""DynamoDB items as plain Python values, for people and JSON: numbers as int or float, binary as bytes."""

from __future__ import annotations

import zlib
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer

_deserialize = TypeDeserializer().deserialize


def plain_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserialize(value)) for name, value in sorted(item.items())}


def plain_event(item: dict[str, Any]) -> dict[str, Any]:
    """An item of the events table, its body as text in `payload` (the receiver stores it compressed)."""
    event = plain_item(item)
    compressed = event.pop("payload_zlib", None)
    if compressed is not None:
        event["payload"] = zlib.decompress(compressed).decode("utf-8")
    return event


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Binary):
        return bytes(value)
    return value
