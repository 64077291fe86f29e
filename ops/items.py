"""DynamoDB for the operator tools: items as plain Python values, and Scans or Queries read to their last page."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer

from zenoti_receiver.adapters.event_table import stored_payload
from zenoti_receiver.adapters.held_bodies import held_body

_deserialize = TypeDeserializer().deserialize
# (attribute, operator, value) of a FilterExpression; an empty value leaves the condition out. IN takes a tuple.
Condition = tuple[str, str, Any]
# None: DynamoDB's own page size (1 MB); tests make it small to prove that every page is read.
PAGE_SIZE: int | None = None


def plain_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserialize(value)) for name, value in sorted(item.items())}


def plain_event(item: dict[str, Any]) -> dict[str, Any]:
    """An item of the events table, its body as text in `payload` (the receiver stores it compressed)."""
    event = {name: value for name, value in plain_item(item).items() if name != "payload_zlib"}
    if "payload_zlib" in item:
        event["payload"] = stored_payload(item)
    return event


def plain_held(item: dict[str, Any]) -> dict[str, Any]:
    """An entry of the held bodies' table, its body as received in `body` (bytes: it may not be UTF-8)."""
    return {name: value for name, value in plain_item(item).items() if name != "body_zlib"} | {"body": held_body(item)}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Binary):
        return bytes(value)
    return value


def filtered(request: dict[str, Any], conditions: Iterable[Condition]) -> dict[str, Any]:
    """The request with a FilterExpression of every condition that has a value, all of them to hold."""
    names, terms = dict(request.get("ExpressionAttributeNames", {})), []
    values: dict[str, Any] = {}
    for number, (attribute, operator, value) in enumerate(conditions):
        if not value:
            continue
        names[f"#c{number}"] = attribute
        texts = value if operator == "IN" else (value,)
        keys = [f":c{number}_{index}" for index in range(len(texts))]
        values |= {key: {"S": text} for key, text in zip(keys, texts, strict=True)}
        terms.append(f"#c{number} {operator} " + (f"({', '.join(keys)})" if operator == "IN" else keys[0]))
    if not terms:
        return request
    filters = {"FilterExpression": " AND ".join(terms), "ExpressionAttributeValues": values}
    return {**request, "ExpressionAttributeNames": names, **filters}


def every_item(operation: Callable[..., Any], request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The items of a Scan or Query (`operation`), every page of it read in turn."""
    if PAGE_SIZE is not None:
        request = {**request, "Limit": PAGE_SIZE}
    while True:
        page = operation(**request)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def setting(changes: dict[str, Any]) -> dict[str, Any]:
    """An UpdateItem's expression, names and values that set each attribute to its value (DynamoDB-typed)."""
    return {
        "UpdateExpression": "SET " + ", ".join(f"#s{number} = :s{number}" for number in range(len(changes))),
        "ExpressionAttributeNames": {f"#s{number}": name for number, name in enumerate(changes)},
        "ExpressionAttributeValues": {f":s{number}": value for number, value in enumerate(changes.values())},
    }
