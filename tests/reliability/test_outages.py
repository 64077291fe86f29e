"""Outages of what does not hold the event (SNS, the publisher crashing) never cost Zenoti's webhook or an event.

Zenoti deactivates a webhook after 20 failed deliveries in a row and never re-sends what it
produced meanwhile; the receiver answers 2xx once an event is stored, and the table's stream carries
it to the publisher, which Lambda retries for as long as the stream keeps the record (devtools/local_stack/stream.py
emulates Lambda's event source mapping). So these tests deliver each event once and never again.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import boto3
import pytest

from tests.conftest import Stack
from tests.reliability.test_faults_and_concurrency import event_with_id, published_event_ids

HOUR = 3600


def later(stack: Stack, hours: float) -> None:
    """Lambda's poller reads the stream `hours` from now (the records' age, as Lambda judges it)."""
    stack.stream.clock = lambda: time.time() + hours * HOUR


def test_sns_down_for_most_of_a_day_loses_nothing_and_publishes_each_event_once(invoke, stack: Stack, api_event):
    event_ids = [f"outage{number:03d}" for number in range(40)]  # 40 deliveries: twice Zenoti's limit
    stack.faults.fail("sns", "Publish")

    answers = [invoke(event_with_id(api_event, event_id)) for event_id in event_ids]
    # Lambda keeps retrying the stream's first record all along the outage, which lasts 23 hours.
    for hours in (0, 1, 6, 12, 23):
        later(stack, hours)
        assert stack.publish().failed

    assert {(answer.status, answer.body["status"]) for answer in answers} == {(200, "accepted")}
    assert sorted(item["event_id"]["S"] for item in stack.items()) == event_ids
    assert stack.messages(publish=False) == []
    stack.faults.clear()  # SNS is back; Zenoti sends nothing again, and no operator does anything

    assert published_event_ids(stack) == Counter({event_id: 1 for event_id in event_ids})
    assert _failures(stack) == []  # nothing was given up


def test_a_failure_in_the_middle_of_a_batch_republishes_nothing_before_it(invoke, stack: Stack, api_event):
    event_ids = [f"middle{number}" for number in range(5)]
    for event_id in event_ids:
        invoke(event_with_id(api_event, event_id))
    sent: list[str] = []
    boto3.DEFAULT_SESSION.events.register(
        "before-parameter-build.sns.Publish", lambda params, **_: sent.append(json.loads(params["Message"])["event_id"])
    )
    publishes = 0

    def third_publish_fails(**_: Any) -> None:
        nonlocal publishes
        publishes += 1
        if publishes == 3:  # SNS refuses the third event once (a 500 answer, which ends the call), then recovers
            stack.faults.fail("sns", "Publish", "server_error", times=1)

    boto3.DEFAULT_SESSION.events.register("before-parameter-build.sns.Publish", third_publish_fails)

    first = stack.publish()

    assert first.published == event_ids[:2]
    assert first.failed
    assert published_event_ids(stack) == Counter({event_id: 1 for event_id in event_ids})
    # The retry started at the third event: the first two were never sent again, the last two once.
    assert Counter(sent) == Counter({event_id: 1 for event_id in event_ids} | {event_ids[2]: 2})


class Crash(BaseException):
    """The execution environment dying: no handler code runs after it (not even `except Exception`)."""


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # the crashed invocation's
def test_a_crash_of_the_publisher_loses_nothing_and_repeats_at_most_what_it_had_sent(
    invoke, stack: Stack, api_event, monkeypatch
):
    from zenoti_receiver.adapters.event_topic import EventTopic

    real_publish = EventTopic.publish_event
    calls = 0

    def crash_after_the_second(self: EventTopic, event: Any) -> str:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise Crash  # two events published, the function dies before it answers Lambda
        return real_publish(self, event)

    monkeypatch.setattr(EventTopic, "publish_event", crash_after_the_second)
    event_ids = [f"crash{number}" for number in range(4)]
    for event_id in event_ids:
        invoke(event_with_id(api_event, event_id))
    with pytest.raises(Crash):
        stack.publish()  # Lambda sees the invocation fail, and retries the batch (in halves)
    monkeypatch.setattr(EventTopic, "publish_event", real_publish)

    published = published_event_ids(stack)

    assert set(published) == set(event_ids)  # nothing lost
    assert published == Counter({"crash0": 2, "crash1": 2, "crash2": 1, "crash3": 1})  # twice only what the crash hid


def test_beyond_the_streams_retention_the_alarm_queue_holds_the_batch_and_ops_republishes_it(
    invoke, stack: Stack, api_event
):
    from ops.cli import main as ops

    event_ids = [f"lost{number}" for number in range(3)]
    stack.faults.fail("sns", "Publish")
    for event_id in event_ids:
        invoke(event_with_id(api_event, event_id))
    assert stack.publish().failed
    later(stack, 25)  # SNS was down for longer than the stream keeps a record

    gave_up = stack.publish()

    assert gave_up.given_up == 3
    [failure] = _failures(stack)
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 3
    stack.faults.clear()
    assert published_event_ids(stack) == Counter()  # Lambda moved on: only an operator can publish them now

    options = ["--table", stack.resources.table_name, "--topic-arn", stack.resources.topic_arn]
    assert ops(["republish", *options, "--failures-queue-url", stack.resources.publication_failures_queue_url]) == 0

    assert published_event_ids(stack) == Counter({event_id: 1 for event_id in event_ids})
    assert _failures(stack, peek=True) == []  # the queue is empty: the alarm clears


def _failures(stack: Stack, peek: bool = False) -> list[dict[str, Any]]:
    """What the publication failures queue holds (left in it, visible again at once, when peeking)."""
    sqs = boto3.client("sqs")
    queue = stack.resources.publication_failures_queue_url
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


@pytest.fixture
def sent_to_sns(stack: Stack) -> list[str]:
    """The event_id of every message the publisher hands SNS, in order.

    Installed before the functions create their clients (clients copy the session's hooks).
    """
    sent: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(json.loads(params["Message"])["event_id"])

    boto3.DEFAULT_SESSION.events.register("before-parameter-build.sns.Publish", record)
    return sent


@pytest.mark.deep
def test_a_backlog_of_5000_drains_in_order_in_batches_each_event_once(sent_to_sns, stack: Stack, api_event):
    from zenoti_receiver.adapters.event_table import EventTable
    from zenoti_receiver.logic.parsing import parse_event
    from zenoti_receiver.logic.ports import ReceivedEvent

    table = EventTable(stack.resources.table_name, boto3.client("dynamodb"), retention_days=0)
    event_ids = [f"backlog{number:05d}" for number in range(5000)]
    for event_id in event_ids:  # stored while the publisher was not running
        body = event_with_id(api_event, event_id)["body"]
        table.store_once(ReceivedEvent(parse_event(body), body, "r", "2026-12-06T00:00:00.000000Z"))
    # moto's SQS slows down with every message a queue holds, so a subscriber would make this test
    # quadratic: what the publisher hands SNS is recorded instead (the quick tests prove delivery).
    unsubscribe_all(stack.resources.topic_arn)

    drained = stack.publish()

    assert drained.invocations == 50  # the mapping's BatchSize, 100 records an invocation
    assert sent_to_sns == event_ids  # each exactly once, in the order stored


def unsubscribe_all(topic_arn: str) -> None:
    sns = boto3.client("sns")
    for subscription in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]:
        sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
