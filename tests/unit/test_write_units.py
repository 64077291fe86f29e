"""The write-unit model the cost figures rest on (devtools/bench/write_units.py), against AWS's documented rules."""

from __future__ import annotations

from collections import Counter

import pytest

from devtools.bench.write_units import Index, TableShape, item_size, units
from devtools.local_stack.template import load_template, resource


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"S": "héllo"}, 6),  # UTF-8 bytes
        ({"N": "123"}, 3),  # 1 byte per two significant digits, plus 1
        ({"N": "1200"}, 2),  # trailing zeroes trimmed
        ({"N": "0.0015"}, 2),  # leading zeroes trimmed
        ({"B": b"\x00\x01\x02"}, 3),  # raw bytes, not base64
        ({"BOOL": True}, 1),
        ({"NULL": True}, 1),
        ({"L": [{"S": "ab"}, {"N": "1"}]}, 3 + (1 + 2) + (1 + 2)),  # 3 overhead, 1 per element
        ({"M": {"k": {"S": "v"}}}, 3 + (1 + 1 + 1)),
        ({"SS": ["a", "bc"]}, 3),
    ],
)
def test_attribute_sizes_follow_the_developer_guide(value, size):
    assert item_size({"a": value}) == 1 + size


def test_a_started_kilobyte_is_a_whole_unit():
    assert [units(0), units(1), units(1024), units(1025)] == [1, 1, 1, 2]


SHAPE = TableShape(
    keys=("id",),
    indexes=(
        Index("by_group", ("group", "at"), "KEYS_ONLY"),
        Index("everything", ("group",), "ALL"),
        Index("sparse", ("flag", "at"), "KEYS_ONLY"),
    ),
)
BEFORE = {"id": {"S": "1"}, "group": {"S": "g"}, "at": {"S": "t1"}, "flag": {"S": "0"}, "note": {"S": "x"}}


def test_a_change_of_a_non_key_attribute_rewrites_only_the_indexes_that_project_it():
    after = {**BEFORE, "note": {"S": "y"}}

    assert SHAPE.cost(BEFORE, after, written=True) == Counter(table=1, everything=1)


def test_a_change_of_an_index_key_deletes_the_old_entry_and_puts_the_new_one():
    after = {**BEFORE, "at": {"S": "t2"}}

    assert SHAPE.cost(BEFORE, after, written=True) == Counter(table=1, by_group=2, sparse=2, everything=1)


def test_an_item_leaving_a_sparse_index_costs_one_write_there():
    after = {name: value for name, value in BEFORE.items() if name != "flag"}

    # ...and in every index that projects ALL, whose entry lost the attribute too.
    assert SHAPE.cost(BEFORE, after, written=True) == Counter(table=1, sparse=1, everything=1)


def test_a_refused_conditional_write_costs_the_item_and_touches_no_index():
    big = {**BEFORE, "note": {"S": "x" * 2000}}

    assert SHAPE.cost(big, big, written=False, request_item=BEFORE) == Counter(table=2)


def test_the_events_table_shape_is_read_from_the_template():
    shape = TableShape.from_template(resource(load_template(), "EventsTable"))

    assert shape.keys == ("event_id",)
    assert {index.name: index.projection for index in shape.indexes} == {
        "by_center": "KEYS_ONLY",
        "by_guest": "KEYS_ONLY",
        "by_employee": "KEYS_ONLY",
    }
