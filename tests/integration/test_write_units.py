"""What an event costs in DynamoDB write units, counted from the real handler's writes (devtools/bench/write_units.py).

Write units are most of the stack's per-event AWS bill: issue 26's ceiling is 3 per new event, 1 per
duplicate and 1 per held body of Zenoti's sample's size. The stream costs none: the item is the message.
"""

from __future__ import annotations

import copy
import time
from collections import Counter

import boto3
import pytest

from devtools.bench.write_units import WriteMeter, item_size
from devtools.local_stack.resources import REGION
from devtools.local_stack.template import load_template, resource
from tests.conftest import Stack, load_event, with_body
from tests.reliability.test_faults_and_concurrency import event_with_id
from tests.unit.test_samples import sample_name
from zenoti_receiver.adapters.event_table import stored_payload
from zenoti_receiver.models import catalog


@pytest.fixture
def meter(stack: Stack) -> WriteMeter:
    """Installed before the function creates its clients (they copy the session's hooks)."""
    template = load_template()
    tables = {
        stack.resources.table_name: resource(template, "EventsTable"),
        stack.resources.held_table_name: resource(template, "HeldBodiesTable"),
    }
    found = WriteMeter(reader=boto3.session.Session(region_name=REGION).client("dynamodb"), tables=tables)
    found.install(boto3.DEFAULT_SESSION)
    return found


def test_a_new_event_costs_three_write_units_and_a_duplicate_one(meter, invoke, stack: Stack, api_event):
    invoke(event_with_id(api_event, "warm-up"))  # the secret is read: no write, but keep it out anyway
    stack.publish()
    meter.reset()

    assert invoke(api_event).body["status"] == "accepted"
    stack.publish()  # publishing it writes nothing
    new = meter.reset()
    again = copy.deepcopy(api_event)
    again["requestContext"]["requestId"] = "redelivered"
    assert invoke(again).body["status"] == "duplicate"
    duplicate = meter.reset()

    # The put, and nothing after it: the item (under 1 KB) and an entry in each index, which project keys only.
    assert new == Counter(table=1, by_center=1, by_guest=1)
    assert sum(new.values()) <= 3
    assert duplicate == Counter(table=1)  # the refused conditional put, which returns the stored item
    [item] = [item for item in stack.items() if item["event_id"]["S"] != "warm-up"]
    assert item_size(item) < 1024


def test_the_body_is_kept_compressed_and_still_verbatim(invoke, stack: Stack, api_event, raw_payload):
    invoke(api_event)

    [item] = stack.items()
    assert len(item["payload_zlib"]["B"]) < 0.6 * len(raw_payload.encode())
    assert stored_payload(item) == raw_payload  # byte for byte
    assert "payload" not in item


def test_a_held_body_costs_one_write_unit_and_a_conflicting_duplicate_two(meter, invoke, stack: Stack, api_event):
    invoke(event_with_id(api_event, "warm-up"))
    invoke(api_event)
    meter.reset()

    held = with_body(api_event, api_event["body"].replace('"event_schema": "v1"', '"event_schema": "v2"'))
    assert invoke(held).body["status"] == "held"
    held_cost = meter.reset()
    conflicting = with_body(api_event, api_event["body"].replace("119986", "119987"))
    assert invoke(conflicting).body["reason"] == "conflicting_duplicate"
    conflicting_cost = meter.reset()

    # The entry holds the body compressed, so the sample's stays under 1 KB: one unit (it took 2 uncompressed).
    assert held_cost == Counter(table=1)
    [entry] = [item for item in stack.held_bodies() if item["reason"] == {"S": "invalid_event"}]
    assert item_size(entry) < 1024
    # The refused conditional put, which returns the stored hash, and the held entry.
    assert conflicting_cost == Counter(table=2)


@pytest.fixture
def a_year_of_retention(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_RETENTION_DAYS", "365")


def test_with_a_retention_events_expire_that_long_after_they_were_received(
    a_year_of_retention, meter, invoke, stack: Stack, api_event
):
    started = int(time.time())
    invoke(event_with_id(api_event, "kept-a-year"))
    stack.faults.fail("sns", "Publish")  # not published yet: it still expires a year after it came
    invoke(event_with_id(api_event, "unpublished"))

    items = {item["event_id"]["S"]: item for item in stack.items()}
    year = 365 * 86_400
    for item in items.values():
        assert started + year <= int(item["expires_at"]["N"]) <= time.time() + year
        assert item_size(item) < 1024  # the expiry costs no write unit
    # An item's expiry is a REMOVE in the stream, which the mapping's filter keeps from the publisher.
    stack.faults.clear()
    assert stack.publish().published == ["kept-a-year", "unpublished"]


@pytest.mark.parametrize("event_type", catalog.EVENT_TYPES)
def test_a_new_event_of_any_family_is_written_to_the_indexes_it_is_in_and_no_other(
    meter, invoke, stack: Stack, event_type
):
    invoke(event_with_id(load_event("apigw_booking_deleted.json"), "warm-up"))
    meter.reset()

    assert invoke(load_event(f"apigw_{sample_name(event_type)}.json")).body["status"] == "accepted"
    new = meter.reset()

    [item] = [item for item in stack.items() if item["event_id"]["S"] != "warm-up"]
    # Sparse indexes: one unit in by_center where the event has a center, one in by_guest or by_employee where it
    # concerns a person; the table one unit per started KB of the item, the body compressed: Zenoti's largest
    # samples (a guest, an employee, an invoice: several KB of JSON) take two.
    indexes = {"by_center": "center_id", "by_guest": "guest_id", "by_employee": "employee_id"}
    assert new - Counter(table=new["table"]) == Counter({index: 1 for index, key in indexes.items() if key in item})
    assert new["table"] <= 2
