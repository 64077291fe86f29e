"""DynamoDB items as plain Python values, for people and JSON: numbers as int or float, binary as bytes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer

_deserialize = TypeDeserializer().deserialize


def plain_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserialize(value)) for name, value in sorted(item.items())}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Binary):
        return bytes(value)
    return value
