"""Through the queue: SNS delivers, the event source mapping polls (emulated), SQS redelivers and redrives.

The queue, its dead-letter queue and redrive policy are created from template.yaml, so these tests prove
the template's settings (MaxReceiveCount among them) with the real handler.
"""

from __future__ import annotations

import json

import boto3
import pytest
from conftest import Subscriber, notification_body, payload_with
from subscriber_local.event_source import QueueEventSource
from subscriber_local.resources import REGION

from zenoti_receiver.models.class_booking import EVENT_TYPES


def messages_of(invocations) -> list[list[str]]:
    """For each invocation, the event_ids (or raw bodies) of the messages in its batch."""
    batches = []
    for invocation in invocations:
        batch = []
        for record in invocation.event["Records"]:
            try:
                batch.append(json.loads(json.loads(record["body"])["Message"])["event_id"])
            except (ValueError, KeyError, TypeError):
                batch.append(record["body"])
        batches.append(batch)
    return batches


def test_a_published_event_is_recorded_and_deleted_from_the_queue(subscriber: Subscriber):
    subscriber.publish(payload_with("first"))

    invocations = subscriber.queue.drain()

    assert [invocation.reported_failures for invocation in invocations] == [[]]
    assert subscriber.deletions()["first"]["times_recorded"] == "1"
    assert subscriber.waiting() == []
    assert subscriber.dead_letters() == []


@pytest.mark.parametrize("same_batch", [True, False], ids=["in the same batch", "after the first was handled"])
def test_sns_delivering_a_notification_twice_is_recorded_once(subscriber: Subscriber, same_batch):
    subscriber.publish(payload_with("twice"))
    if same_batch:
        [delivered] = subscriber.waiting()
        subscriber.send_raw(delivered["Body"])  # the same notification, a second SQS message
        boto3.client("sqs", region_name=REGION).change_message_visibility(
            QueueUrl=subscriber.resources.queue_url, ReceiptHandle=delivered["ReceiptHandle"], VisibilityTimeout=0
        )
        invocations = subscriber.queue.drain()
        assert messages_of(invocations) == [["twice", "twice"]]
    else:
        [first] = subscriber.queue.drain()
        assert subscriber.waiting() == []  # handled and deleted
        subscriber.send_raw(first.event["Records"][0]["body"])  # the same notification, delivered again later
        invocations = [first, *subscriber.queue.drain()]
        assert messages_of(invocations) == [["twice"], ["twice"]]

    assert all(invocation.reported_failures == [] for invocation in invocations)
    assert subscriber.deletions()["twice"]["times_recorded"] == "1"
    assert subscriber.waiting() == []


def test_a_message_that_always_fails_ends_in_the_dead_letter_queue_after_max_receive_count(subscriber: Subscriber):
    subscriber.outage.active = True
    payload = payload_with("never-works")
    subscriber.publish(payload)

    invocations = subscriber.queue.drain(retry_failed_now=True)

    assert len(invocations) == subscriber.resources.max_receive_count  # the template's MaxReceiveCount (5)
    assert all(invocation.kept and not invocation.deleted for invocation in invocations)
    [dead] = subscriber.dead_letters()
    assert json.loads(dead["Body"])["Message"] == payload  # the notification as SNS delivered it, intact
    assert subscriber.waiting() == []
    assert subscriber.deletions() == {}


def test_once_the_cause_is_fixed_a_redriven_message_is_recorded_once(subscriber: Subscriber):
    subscriber.outage.active = True
    subscriber.publish(payload_with("redriven"))
    subscriber.queue.drain(retry_failed_now=True)
    subscriber.outage.active = False

    # What `aws sqs start-message-move-task --source-arn <DLQ ARN>` does (moto has no move task): every
    # message of the dead-letter queue sent back to its source queue, and deleted from the dead-letter queue.
    sqs = boto3.client("sqs", region_name=REGION)
    for message in subscriber.dead_letters():
        sqs.send_message(QueueUrl=subscriber.resources.queue_url, MessageBody=message["Body"])
        sqs.delete_message(QueueUrl=subscriber.resources.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"])
    invocations = subscriber.queue.drain()

    assert [invocation.reported_failures for invocation in invocations] == [[]]
    assert subscriber.deletions()["redriven"]["times_recorded"] == "1"
    assert subscriber.dead_letters() == []


@pytest.mark.parametrize("bad", ["action fails for it", "not a notification"])
def test_a_batch_with_one_bad_message_does_not_redeliver_the_good_ones(subscriber: Subscriber, bad):
    subscriber.publish(payload_with("good-1"))
    if bad == "action fails for it":
        subscriber.outage.active = True
        subscriber.outage.event_ids = {"bad"}
        subscriber.publish(payload_with("bad"))
    else:
        subscriber.send_raw("bad")
    subscriber.publish(payload_with("good-2"))

    invocations = subscriber.queue.drain(retry_failed_now=True)

    first, *later = messages_of(invocations)
    assert sorted(first) == ["bad", "good-1", "good-2"]  # one batch of three
    assert invocations[0].reported_failures == [
        message["MessageId"] for message in invocations[0].kept
    ]  # exactly the bad one is listed, and only it stays
    assert len(invocations[0].kept) == 1
    assert later == [["bad"]] * (subscriber.resources.max_receive_count - 1)  # never a good one again
    assert {event_id: item["times_recorded"] for event_id, item in subscriber.deletions().items()} == {
        "good-1": "1",
        "good-2": "1",
    }
    assert len(subscriber.dead_letters()) == 1


def test_of_the_whole_family_only_the_types_with_an_action_reach_the_queue(subscriber: Subscriber):
    # The receiver publishes every type on one topic; the subscription's filter (template.yaml) lets through
    # the types ACTIONS handles, so no other type can end in the dead-letter queue.
    for event_type in EVENT_TYPES:
        subscriber.publish(payload_with(event_type.rsplit(".", 1)[1], event_type))

    invocations = subscriber.queue.drain(retry_failed_now=True)

    assert all(invocation.reported_failures == [] for invocation in invocations)
    recorded = {event_id: item["event_type"] for event_id, item in subscriber.deletions().items()}
    assert recorded == {"Deleted": "Class.Booking.Deleted", "Cancelled": "Class.Booking.Cancelled"}
    assert subscriber.dead_letters() == []


def test_a_type_without_an_action_that_arrives_anyway_waits_in_the_dead_letter_queue(subscriber: Subscriber):
    # A subscription whose filter was widened without an action: never acknowledged unhandled.
    payload = payload_with("created", "Class.Booking.Created")
    subscriber.send_raw(notification_body(payload))

    invocations = subscriber.queue.drain(retry_failed_now=True)

    assert len(invocations) == subscriber.resources.max_receive_count
    [dead] = subscriber.dead_letters()
    assert json.loads(dead["Body"])["Message"] == payload  # intact: once its action exists, redrive it
    assert subscriber.deletions() == {}


@pytest.mark.parametrize("raw_message_delivery", ["true"])
def test_deployed_with_raw_delivery_it_reads_the_receivers_raw_delivery_queue(subscriber: Subscriber, logs):
    # The receiver stack's own subscriber queue (SubscriberQueue=true): raw delivery, attributes as SQS's. The
    # function deployed with RawMessageDelivery=true reads it, as it reads its own raw subscription.
    sqs, sns = boto3.client("sqs", region_name=REGION), boto3.client("sns", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="zenoti-subscriber-raw")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=subscriber.topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    raw_queue = QueueEventSource(sqs, queue_url, queue_arn, subscriber.handler.lambda_handler)
    subscriber.publish(payload_with("raw-deleted"))
    subscriber.publish(payload_with("raw-cancelled", "Class.Booking.Cancelled"))
    subscriber.publish(payload_with("raw-replayed"), replay=True)

    invocations = raw_queue.drain()

    assert [invocation.reported_failures for invocation in invocations] == [[]]
    assert {event_id: item["times_recorded"] for event_id, item in subscriber.deletions().items()} == {
        "raw-deleted": "1",
        "raw-cancelled": "1",
        "raw-replayed": "1",
    }
    handled = {line["event_id"]: line for line in logs() if line["message"] == "Event handled"}
    assert {line["shape"] for line in handled.values()} == {"raw delivery"}
    assert handled["raw-replayed"]["replay"] is True
    # Its own queue, subscribed raw too, got the same events: handled once, the repeats skipped.
    invocations = subscriber.queue.drain()
    assert all(invocation.reported_failures == [] for invocation in invocations)
    assert sum(len(invocation.deleted) for invocation in invocations) == 3
    assert all(item["times_recorded"] == "1" for item in subscriber.deletions().values())


def test_a_raw_delivery_queue_read_as_notifications_fails_every_message_to_the_dead_letter_queue(
    subscriber: Subscriber,
):
    # Its subscription made raw without telling the function: no message is guessed into an event, none is
    # acted on, and the dead-letter queue (alarmed) shows the misconfiguration with every message intact.
    sns = boto3.client("sns", region_name=REGION)
    [own] = sns.list_subscriptions_by_topic(TopicArn=subscriber.topic_arn)["Subscriptions"]
    sns.set_subscription_attributes(
        SubscriptionArn=own["SubscriptionArn"], AttributeName="RawMessageDelivery", AttributeValue="true"
    )
    payload = payload_with("delivered-raw")
    subscriber.publish(payload)

    invocations = subscriber.queue.drain(retry_failed_now=True)

    assert len(invocations) == subscriber.resources.max_receive_count
    assert subscriber.deletions() == {}
    [dead] = subscriber.dead_letters()
    assert dead["Body"] == payload
