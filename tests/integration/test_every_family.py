"""Every family on the one URL, through the real handler: each sample stored once and published once with the
attributes subscribers filter on, a redelivery answered duplicate, a body invalid for its type held, and a
subscriber filtering on one family receiving that family only.

The samples are events/<family>_<type>.json as Zenoti delivers them (the data-only ones in Zenoti's envelope,
under their inferred names), each in its API Gateway event events/apigw_<family>_<type>.json.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest

from devtools.local_stack.resources import REGION
from tests.conftest import EVENTS, Stack, load_event, with_payload
from tests.integration.test_subscriber_filter import subscribe_as_the_template_does
from tests.unit.test_samples import sample_name
from zenoti_receiver.adapters.event_table import stored_payload
from zenoti_receiver.models import catalog
from zenoti_receiver.models.catalog import FAMILIES, model_for
from zenoti_receiver.models.envelope import ZenotiEvent

# Where each family keeps its center and the person it concerns, as docs/families.md says (the models are
# tested against the samples in tests/unit/test_family_models.py; here, what the table and the topic get).
PERSON_KIND = {
    "class-booking": "guest",
    "guest": "guest",
    "guest-membership": "guest",
    "guest-pass": "guest",
    "appointment": "guest",
    "appointment-group": "guest",
    "invoice": "guest",
    "employee": "employee",
}


def sample_text(event_type: str) -> str:
    return (EVENTS / f"{sample_name(event_type)}.json").read_text(encoding="utf-8")


def gateway_event(event_type: str) -> dict[str, Any]:
    return load_event(f"apigw_{sample_name(event_type)}.json")


def read(event_type: str) -> ZenotiEvent:
    model = model_for(event_type)
    assert model is not None
    return model.model_validate_json(sample_text(event_type))


def the_item(stack: Stack) -> dict[str, Any]:
    [item] = stack.items()
    return item


@pytest.mark.parametrize("event_type", catalog.EVENT_TYPES)
def test_each_sample_is_stored_once_and_published_once_with_its_attributes(invoke, stack: Stack, event_type):
    event = gateway_event(event_type)
    sample = read(event_type)
    family = catalog.family_of(event_type)
    assert family is not None

    first = invoke(event)
    again = copy.deepcopy(event)
    again["requestContext"]["requestId"] = "redelivered"
    second = invoke(again)

    assert (first.status, first.body) == (
        200,
        {"status": "accepted", "event_id": sample.event_id, "event_type": event_type},
    )
    assert (second.status, second.body["status"]) == (200, "duplicate")
    item = the_item(stack)
    assert stored_payload(item) == sample_text(event_type)  # verbatim
    assert item["resource_id"] == {"S": sample.resource_id}
    # The center its model reads (tested against the sample in tests/unit/test_family_models.py); none for a
    # guest pass, a guest's opt-in or opt-out, or an appointment group's status, whose bodies name none.
    assert item.get("center_id") == (None if sample.center_id is None else {"S": sample.center_id})
    person = sample.person
    if person is None:
        assert not {"guest_id", "employee_id"} & set(item)
    else:
        assert person.kind == PERSON_KIND[family.name]
        # What `ops lookup --guest` or `--employee` finds it by, and nothing of the other kind.
        assert {name: item[name] for name in ("guest_id", "employee_id") if name in item} == {
            f"{person.kind}_id": {"S": person.id}
        }

    [message] = stack.messages()
    assert json.loads(message["Message"])["event_id"] == sample.event_id
    attributes = {name: value["Value"] for name, value in message["MessageAttributes"].items()}
    expected = {"event_type": event_type}
    if sample.event_resource is not None:
        expected["event_resource"] = sample.event_resource
    if sample.center_id is not None:
        expected["center_id"] = sample.center_id
    assert attributes == expected
    assert stack.messages() == []  # once


def test_the_center_is_where_each_family_keeps_it(invoke, stack: Stack):
    # An invoice's center sits in data.invoice, a membership's in data.center: the attribute says it either way.
    invoice, membership = json.loads(sample_text("Invoice.Closed")), json.loads(sample_text("Guest.Membership.Created"))

    invoke(gateway_event("Invoice.Closed"))
    invoke(gateway_event("Guest.Membership.Created"))

    centers = {item["event_type"]["S"]: item["center_id"]["S"] for item in stack.items()}
    assert centers == {
        "Invoice.Closed": invoice["data"]["invoice"]["center_id"].lower(),
        "Guest.Membership.Created": membership["data"]["center"]["id"].lower(),
    }


@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.name)
def test_a_body_invalid_for_its_type_is_held_with_the_field(invoke, stack: Stack, family):
    event_type = family.event_types[0]
    payload = json.loads(sample_text(event_type))
    payload["event_schema"] = "v2"  # what every family requires: a schema Zenoti may change the meaning of

    response = invoke(with_payload(gateway_event(event_type), payload))

    assert (response.status, response.body["status"], response.body["reason"]) == (202, "held", "invalid_event")
    assert event_type in response.body["message"]
    assert [error["field"] for error in response.body["errors"]] == ["event_schema"]
    assert stack.items() == []
    assert len(stack.held_bodies()) == 1
    assert stack.messages() == []


def test_an_envelope_of_a_type_nobody_documents_is_held(invoke, stack: Stack):
    payload = json.loads(sample_text("Employee.Created"))
    payload["event_type"] = "Employee.Promoted"

    response = invoke(with_payload(gateway_event("Employee.Created"), payload))

    assert (response.status, response.body["reason"]) == (202, "invalid_event")
    assert [(error["field"], error["type"]) for error in response.body["errors"]] == [
        ("event_type", "unknown_event_type")
    ]
    assert stack.items() == []
    assert len(stack.held_bodies()) == 1


@pytest.mark.parametrize(
    ("types", "taken"),
    [
        pytest.param("Employee.*", set(catalog.EMPLOYEE.event_types), id="one family"),
        pytest.param(
            "Invoice.*,Class.Booking.Deleted", {"Invoice.Closed", "Class.Booking.Deleted"}, id="a family and a type"
        ),
        pytest.param("Appointment.*", set(catalog.APPOINTMENT.event_types), id="Appointment, not AppointmentGroup"),
    ],
)
def test_a_subscriber_filtering_on_a_family_receives_that_family_only(invoke, stack: Stack, types, taken):
    queue_url = subscribe_as_the_template_does(stack, SubscriberEventTypes=types)

    for event_type in catalog.EVENT_TYPES:
        assert invoke(gateway_event(event_type)).body["status"] == "accepted"
    stack.publish()

    assert received_types(queue_url) == taken


def received_types(queue_url: str) -> set[str]:
    sqs = boto3.client("sqs", region_name=REGION)
    found: set[str] = set()
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        found.update(json.loads(message["Body"])["event_type"] for message in batch)  # raw delivery
    return found
