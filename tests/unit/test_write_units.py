"""The write-unit model the cost figures rest on (devtools/bench/write_units.py), against AWS's documented rules."""

from __future__ import annotations

from collections import Counter

import pytest

from devtools.bench.write_units import item_size, units, write_cost
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
    ],
)
def test_attribute_sizes_follow_the_developer_guide(value, size):
    assert item_size({"a": value}) == 1 + size


def test_a_started_kilobyte_is_a_whole_unit():
    assert [units(0), units(1), units(1024), units(1025)] == [1, 1, 1, 2]


TABLE = {
    "Properties": {
        "KeySchema": [{"AttributeName": "id"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by_group",
                "KeySchema": [{"AttributeName": "group"}, {"AttributeName": "at"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
            {
                "IndexName": "everything",
                "KeySchema": [{"AttributeName": "group"}],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "sparse",
                "KeySchema": [{"AttributeName": "flag"}, {"AttributeName": "at"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
    }
}
ITEM = {"id": {"S": "1"}, "group": {"S": "g"}, "at": {"S": "t1"}, "note": {"S": "x" * 1500}}


def test_a_new_item_writes_each_index_it_has_the_keys_of_by_its_projected_entry():
    # The item takes two units, its entry where it is projected whole too; the keys alone take one; no flag, no entry.
    assert write_cost(TABLE, ITEM, ITEM, written=True) == Counter(table=2, everything=2, by_group=1)


def test_a_refused_conditional_write_costs_the_larger_item_and_touches_no_index():
    small = {**ITEM, "note": {"S": "x"}}

    assert write_cost(TABLE, ITEM, small, written=False) == Counter(table=2)
    assert write_cost(TABLE, small, ITEM, written=False) == Counter(table=2)


def test_the_events_table_indexes_are_read_from_the_template():
    table = resource(load_template(), "EventsTable")
    stored = {"event_id": {"S": "e"}, "center_id": {"S": "c"}, "occurred_at": {"S": "t"}, "payload_zlib": {"B": b"z"}}

    # Sparse indexes that project keys only: an entry where the event has a center, none for a guest it lacks.
    assert write_cost(table, stored, stored, written=True) == Counter(table=1, by_center=1)
