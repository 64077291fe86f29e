"""The subscriber queue's filter policy, as template.yaml builds it, evaluated by SNS (moto) on what the
receiver really publishes: every type of the family, from several centers, through the real handler.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from devtools.local_stack.resources import REGION
from devtools.local_stack.template import load_template
from tests.conftest import Stack, with_payload
from tests.unit.test_template_subscriber import CENTER_A, CENTER_B, Deployment
from zenoti_receiver.models.class_booking import BOOKING_DELETED, EVENT_TYPES

CENTER_C = "0b7d2e4f-1a3c-4e5d-8f6a-9b0c1d2e3f4a"  # a center no filter names


def subscribe_as_the_template_does(stack: Stack, **parameters: str) -> str:
    """A queue subscribed to the topic with the subscription the template creates for these parameters."""
    subscription = Deployment(load_template(), SubscriberQueue="true", **parameters).properties(
        "SubscriberSubscription"
    )
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = str(sqs.create_queue(QueueName="filtered-subscriber")["QueueUrl"])
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"RawMessageDelivery": str(subscription["RawMessageDelivery"]).lower()}
    if "FilterPolicy" in subscription:  # JSON text when it filters by type (a family is a prefix), else an object
        policy = subscription["FilterPolicy"]
        attributes["FilterPolicy"] = policy if isinstance(policy, str) else json.dumps(policy)
    boto3.client("sns", region_name=REGION).subscribe(
        TopicArn=stack.resources.topic_arn, Protocol=subscription["Protocol"], Endpoint=queue_arn, Attributes=attributes
    )
    return queue_url


def deliver_the_family(invoke: Any, api_event: dict[str, Any], raw_payload: str) -> None:
    """Zenoti delivering each of the six types for each of three centers (one written in upper case)."""
    for center in (CENTER_A, CENTER_B.upper(), CENTER_C):
        for event_type in EVENT_TYPES:
            payload = json.loads(raw_payload)
            payload["event_id"] = f"{event_type.rsplit('.', 1)[1]}-{center[:8]}"
            payload["event_type"] = event_type
            payload["data"]["center_id"] = center
            response = invoke(with_payload(api_event, payload))
            assert (response.status, response.body["status"]) == (200, "accepted")


def received(queue_url: str) -> set[tuple[str, str]]:
    """(event_type, center_id in lower case) of every message in the queue."""
    sqs = boto3.client("sqs", region_name=REGION)
    found: set[tuple[str, str]] = set()
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            event = json.loads(message["Body"])  # raw delivery: Zenoti's JSON itself
            found.add((event["event_type"], event["data"]["center_id"].lower()))
    return found


@pytest.mark.parametrize(
    ("parameters", "types", "centers"),
    [
        pytest.param({}, [BOOKING_DELETED], [CENTER_A, CENTER_B, CENTER_C], id="defaults: deletions of every center"),
        pytest.param(
            {"SubscriberEventTypes": ""}, list(EVENT_TYPES), [CENTER_A, CENTER_B, CENTER_C], id="every type and center"
        ),
        pytest.param(
            {"SubscriberEventTypes": "", "SubscriberCenterIds": f"{CENTER_A},{CENTER_B}"},
            list(EVENT_TYPES),
            [CENTER_A, CENTER_B],
            id="every type of two centers",
        ),
        pytest.param(
            {"SubscriberEventTypes": "Class.Booking.Created,Class.Booking.NoShow", "SubscriberCenterIds": CENTER_B},
            ["Class.Booking.Created", "Class.Booking.NoShow"],
            [CENTER_B],
            id="two types AND one center",
        ),
    ],
)
def test_the_queue_receives_exactly_the_types_and_centers_it_was_deployed_for(
    invoke, stack: Stack, api_event, raw_payload, parameters, types, centers
):
    queue_url = subscribe_as_the_template_does(stack, **parameters)

    deliver_the_family(invoke, api_event, raw_payload)
    stack.publish()

    assert received(queue_url) == {(event_type, center) for event_type in types for center in centers}
