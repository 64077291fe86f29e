"""DynamoDB write request units, counted from item sizes and index projections as the Developer Guide documents
them ("DynamoDB item sizes and formats"; "Provisioned throughput considerations for global secondary indexes")."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Item = dict[str, Any]  # DynamoDB's wire form: {"name": {"S": "..."}, ...}


def value_size(value: dict[str, Any]) -> int:
    [(kind, content)] = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "B":
        return len(content)
    if kind == "N":
        digits = Decimal(content).normalize().as_tuple().digits  # leading and trailing zeroes trimmed
        return math.ceil(len(digits) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in content)
    raise ValueError(f"a DynamoDB type the functions do not write: {kind}")  # maps and sets


def item_size(item: Item) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def units(size: int) -> int:
    """One unit per started KB."""
    return max(1, math.ceil(size / 1024))


def write_cost(table: dict[str, Any], stored: Item | None, request_item: Item | None, written: bool) -> Counter[str]:
    """Write units of one write to `table` (its template resource) by where they are spent: "table" and, when it
    was written, each index whose keys the item has (sparse indexes), by the size of its projected entry."""
    # The larger of the item stored and the one requested, a refused conditional write too.
    sizes = [item_size(item) for item in (stored, request_item) if item]
    spent: Counter[str] = Counter(table=units(max(sizes, default=0)))
    if not written or stored is None:
        return spent
    # The function's writes create their item or are refused: an index entry is never moved or removed.
    properties = table["Properties"]
    for index in properties.get("GlobalSecondaryIndexes", []):
        keys, projection = _names(index["KeySchema"]), index["Projection"]
        if all(key in stored for key in keys):
            kept = {*keys, *_names(properties["KeySchema"]), *projection.get("NonKeyAttributes", ())}
            everything = projection["ProjectionType"] == "ALL"
            entry = {name: value for name, value in stored.items() if everything or name in kept}
            spent[index["IndexName"]] += units(item_size(entry))
    return spent


def _names(key_schema: list[dict[str, str]]) -> list[str]:
    return [key["AttributeName"] for key in key_schema]


@dataclass
class WriteMeter:
    """Installed on a boto3 session, charges every DynamoDB write its clients make to `spent`, reading the item
    after it with `reader` (a client of another session, uncharged); `tables`: their template resources by name."""

    reader: Any
    tables: dict[str, dict[str, Any]]
    spent: Counter[str] = field(default_factory=Counter)

    def install(self, session: Any) -> None:
        for operation in ("PutItem", "UpdateItem"):  # the functions delete nothing
            # The API parameters, as the caller gave them, kept in the context that after-call gets.
            session.events.register(f"before-parameter-build.dynamodb.{operation}", self._before)
            session.events.register(f"after-call.dynamodb.{operation}", self._after)

    def reset(self) -> Counter[str]:
        """What was spent since the last reset."""
        spent, self.spent = self.spent, Counter()
        return spent

    def _before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["write_meter"] = dict(params)

    def _after(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        params = context.pop("write_meter")
        name, table = params["TableName"], self.tables[params["TableName"]]
        key = params.get("Key") or {key: params["Item"][key] for key in _names(table["Properties"]["KeySchema"])}
        stored = self.reader.get_item(TableName=name, Key=key, ConsistentRead=True).get("Item")
        self.spent += write_cost(table, stored, params.get("Item"), written=http_response.status_code < 300)
