"""What an event costs in DynamoDB write units, counted from the real handler's writes (bench/write_units.py).

Write units are most of the stack's per-event AWS bill: the issue's ceiling is 6 per new event
and 2 per duplicate for Zenoti's sample, whatever the publication mechanism adds; a held body of the
sample's size costs no more than the 2 a quarantined one did before bodies were held (issue 19).
"""

from __future__ import annotations

import copy
import time
from collections import Counter

import boto3
import pytest

from bench.write_units import TableShape, WriteMeter, item_size
from local_stack.resources import REGION
from local_stack.template import load_template, resource
from tests.conftest import Stack, with_body
from tests.reliability.test_faults_and_concurrency import event_with_id
from zenoti_receiver.adapters.event_table import stored_payload


@pytest.fixture
def meter(stack: Stack) -> WriteMeter:
    """Installed before the function creates its clients (they copy the session's hooks)."""
    template = load_template()
    shapes = {
        stack.resources.table_name: TableShape.from_template(resource(template, "EventsTable")),
        stack.resources.quarantine_table_name: TableShape.from_template(resource(template, "QuarantineTable")),
    }
    found = WriteMeter(reader=boto3.session.Session(region_name=REGION).client("dynamodb"), shapes=shapes)
    found.install(boto3.DEFAULT_SESSION)
    return found


def test_a_new_event_costs_six_write_units_and_a_duplicate_one(meter, invoke, stack: Stack, api_event):
    invoke(event_with_id(api_event, "warm-up"))  # the secret is read: no write, but keep it out anyway
    meter.reset()

    assert invoke(api_event).body["publication"] == "published"
    new = meter.reset()
    again = copy.deepcopy(api_event)
    again["requestContext"]["requestId"] = "redelivered"
    assert invoke(again).body["status"] == "duplicate"
    duplicate = meter.reset()

    # The put: the item (under 1 KB) and an entry in each of the three indexes; recording the
    # publication: the item again, and the pending entry it removes. by_center and by_guest project
    # keys only, so the record rewrites neither.
    assert new == Counter(table=2, by_center=1, by_guest=1, pending=2)
    assert sum(new.values()) <= 6
    assert duplicate == Counter(table=1)  # the refused conditional put, which returns the stored item
    [item] = [item for item in stack.items() if item["event_id"]["S"] != "warm-up"]
    assert item_size(item) < 1024


def test_an_event_published_by_the_stack_costs_two_more_units(meter, invoke, publish_pending, stack: Stack, api_event):
    stack.faults.fail("sns", "Publish")
    invoke(api_event)
    stack.faults.clear()
    meter.reset()

    publish_pending()

    # The claim (the item), then the record (the item, and the pending entry removed).
    assert meter.reset() == Counter(table=2, pending=1)


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
    [entry] = [item for item in stack.quarantined() if item["reason"] == {"S": "invalid_event"}]
    assert item_size(entry) < 1024
    # The refused conditional put, which returns the stored hash, and the held entry.
    assert conflicting_cost == Counter(table=2)


@pytest.fixture
def a_year_of_retention(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_RETENTION_DAYS", "365")


def test_with_a_retention_published_events_expire_and_pending_ones_never(
    a_year_of_retention, meter, invoke, stack: Stack, api_event
):
    started = int(time.time())
    invoke(event_with_id(api_event, "published"))
    stack.faults.fail("sns", "Publish")
    invoke(event_with_id(api_event, "pending"))
    meter.reset()

    items = {item["event_id"]["S"]: item for item in stack.items()}
    year = 365 * 86_400
    assert started + year <= int(items["published"]["expires_at"]["N"]) <= time.time() + year
    assert "expires_at" not in items["pending"]  # TTL must never remove an event not yet published
    assert item_size(items["published"]) < 1024  # the expiry costs no write unit
