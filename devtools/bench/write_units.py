"""DynamoDB write request units, counted from item sizes and index projections as the Developer Guide documents
them ("DynamoDB item sizes and formats"; "Provisioned throughput considerations for global secondary indexes")."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Item = dict[str, Any]  # DynamoDB's wire form: {"name": {"S": "..."}, ...}

KB = 1024
WRITES = ("PutItem", "UpdateItem", "DeleteItem")


def attribute_size(name: str, value: dict[str, Any]) -> int:
    return len(name.encode()) + value_size(value)


def value_size(value: dict[str, Any]) -> int:
    [(kind, content)] = value.items()
    if kind in ("S", "N", "B"):
        return _scalar_size(kind, content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_scalar_size(kind[0], element) for element in content)
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in content)
    if kind == "M":
        return 3 + sum(1 + attribute_size(key, element) for key, element in content.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def _scalar_size(kind: str, content: Any) -> int:
    if kind == "S":
        return len(content.encode())
    if kind == "B":
        return len(content)
    digits = Decimal(content).normalize().as_tuple().digits  # a number: leading and trailing zeroes trimmed
    return math.ceil(len(digits) / 2) + 1


def item_size(item: Item) -> int:
    return sum(attribute_size(name, value) for name, value in item.items())


def units(size: int) -> int:
    """One unit per started KB."""
    return max(1, math.ceil(size / KB))


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str  # KEYS_ONLY, INCLUDE or ALL
    non_key_attributes: tuple[str, ...] = ()

    def entry(self, item: Item | None, table_keys: tuple[str, ...]) -> Item | None:
        """The index entry of `item`, or None when there is none or it lacks a key of the index (sparse)."""
        if item is None or any(key not in item for key in self.keys):
            return None
        kept = set(self.keys) | set(table_keys) | set(self.non_key_attributes)
        return dict(item) if self.projection == "ALL" else {name: item[name] for name in item if name in kept}

    def writes(self, before: Item | None, after: Item | None, table_keys: tuple[str, ...]) -> int:
        """One write of the entry's size when it appears, disappears or changes; two when its key changes."""
        old, new = self.entry(before, table_keys), self.entry(after, table_keys)
        if old is None and new is None:
            return 0
        if old is None or new is None:
            return units(item_size(old or new or {}))
        if any(old[key] != new[key] for key in self.keys):
            return units(item_size(old)) + units(item_size(new))
        return units(item_size(new)) if old != new else 0


@dataclass(frozen=True)
class TableShape:
    keys: tuple[str, ...]
    indexes: tuple[Index, ...]

    @classmethod
    def from_template(cls, table: dict[str, Any]) -> TableShape:
        """The key schema and global secondary indexes of an AWS::DynamoDB::Table resource."""
        properties = table["Properties"]
        indexes = tuple(
            Index(
                name=index["IndexName"],
                keys=tuple(key["AttributeName"] for key in index["KeySchema"]),
                projection=index["Projection"]["ProjectionType"],
                non_key_attributes=tuple(index["Projection"].get("NonKeyAttributes", ())),
            )
            for index in properties.get("GlobalSecondaryIndexes", [])
        )
        return cls(tuple(key["AttributeName"] for key in properties["KeySchema"]), indexes)

    def cost(
        self, before: Item | None, after: Item | None, *, written: bool, request_item: Item | None = None
    ) -> Counter[str]:
        """Write units of one write by where they are spent: "table" (the larger of the item before and after, a
        refused conditional write too) and, when it was written, each index's name."""
        sizes = [item_size(item) for item in (before, after, request_item) if item]
        spent: Counter[str] = Counter(table=units(max(sizes, default=0)))
        if written:
            for index in self.indexes:
                if writes := index.writes(before, after, self.keys):
                    spent[index.name] += writes
        return spent


@dataclass
class WriteMeter:
    """Installed on a boto3 session, charges every DynamoDB write its clients make to `spent`, reading the item
    before and after with `reader` (a client of another session, uncharged); `shapes`: the tables by name."""

    reader: Any
    shapes: dict[str, TableShape]
    spent: Counter[str] = field(default_factory=Counter)

    def install(self, session: Any) -> None:
        for operation in WRITES:
            # The API parameters, as the caller gave them, and the same context as after-call.
            session.events.register(f"before-parameter-build.dynamodb.{operation}", self._before)
            session.events.register(f"after-call.dynamodb.{operation}", self._after)

    def reset(self) -> Counter[str]:
        """What was spent since the last reset."""
        spent, self.spent = self.spent, Counter()
        return spent

    def _before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["write_meter"] = (dict(params), self._read(params))

    def _after(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        params, before = context.pop("write_meter")
        written = http_response.status_code < 300
        shape = self.shapes[params["TableName"]]
        self.spent += shape.cost(before, self._read(params), written=written, request_item=params.get("Item"))

    def _read(self, params: dict[str, Any]) -> Item | None:
        table = params["TableName"]
        key = params.get("Key") or {name: params["Item"][name] for name in self.shapes[table].keys}
        item: Item | None = self.reader.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return item
