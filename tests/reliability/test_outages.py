"""Outages of what does not hold the event (SNS, a crash after the put) never cost Zenoti's webhook or an event.

Zenoti deactivates a webhook after 20 failed deliveries in a row and never re-sends what it
produced meanwhile; the receiver answers 2xx once an event is stored and the stack publishes the
rest itself (logic/publishing_pending.py), so these tests deliver each event once and never again.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import Counter
from typing import Any

import boto3
import pytest

from tests.conftest import LambdaContext, Stack
from tests.reliability.test_faults_and_concurrency import event_with_id, published_event_ids
from zenoti_receiver.logic.ports import Claim


def test_sns_down_for_a_long_run_of_new_events_loses_nothing(invoke, publish_pending, stack: Stack, api_event):
    event_ids = [f"outage{number:03d}" for number in range(40)]  # 40 deliveries: twice Zenoti's limit
    stack.faults.fail("sns", "Publish")
    stack.faults.fail("sns", "PublishBatch")

    answers = [invoke(event_with_id(api_event, event_id)) for event_id in event_ids]
    during = publish_pending()  # the schedule keeps running while SNS is down

    assert {(answer.status, answer.body["publication"]) for answer in answers} == {(200, "pending")}
    assert sorted(item["event_id"]["S"] for item in stack.items()) == event_ids
    assert (during["published"], during["pending"]) == (0, 40)
    assert published_event_ids(stack) == Counter()

    stack.faults.clear()  # SNS is back; Zenoti sends nothing again
    runs = [publish_pending(after=60 * minute) for minute in range(2, 4)]

    assert [run["published"] for run in runs] == [40, 0]
    assert published_event_ids(stack) == Counter({event_id: 1 for event_id in event_ids})
    assert all(item["published"] == {"BOOL": True} for item in stack.items())
    assert runs[-1]["pending"] == 0


class Crash(BaseException):
    """The execution environment dying: no handler code runs after it (not even `except Exception`)."""


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # the crashed request's
def test_a_crash_between_the_put_and_the_publish_is_published_by_the_stack(
    invoke, publish_pending, stack: Stack, api_event, monkeypatch
):
    from zenoti_receiver.adapters.event_topic import EventTopic

    def crash(self: EventTopic, received: Any) -> str:
        raise Crash

    monkeypatch.setattr(EventTopic, "publish_event", crash)
    with pytest.raises(Crash):
        invoke(api_event)  # API Gateway answers 5xx; Zenoti would retry, but need not
    [item] = stack.items()
    assert item["published"] == {"BOOL": False}

    assert publish_pending(after=5)["published"] == 0  # the crashed delivery's claim still holds
    assert publish_pending(after=60)["published"] == 1
    assert published_event_ids(stack) == Counter({json.loads(api_event["body"])["event_id"]: 1})


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_the_stack_and_redeliveries_racing_for_pending_events_publish_each_once(served_handler, api_event):
    """Against moto's server, so the calls of the threads really interleave."""
    handler, resources = served_handler
    from zenoti_receiver.adapters.event_table import EventTable
    from zenoti_receiver.adapters.event_topic import EventTopic
    from zenoti_receiver.logic.parsing import parse_class_booking
    from zenoti_receiver.logic.ports import ReceivedEvent
    from zenoti_receiver.logic.publishing_pending import PendingPublisher

    table = EventTable(resources.table_name)
    event_ids = [f"raced{number:02d}" for number in range(20)]
    for event_id in event_ids:  # stored by deliveries that died long ago: their claims have expired
        body = event_with_id(api_event, event_id)["body"]
        stale = ReceivedEvent(parse_class_booking(body), body, "gone", "2022-03-22T12:00:00.000000Z")
        table.store_once(stale, Claim("crashed", expires_at=1))
    publisher = PendingPublisher(table, EventTopic(resources.topic_arn))
    start = threading.Barrier(3)
    answers: list[str] = []

    def redeliver_all() -> None:
        start.wait()
        for number, event_id in enumerate(event_ids):
            event = copy.deepcopy(event_with_id(api_event, event_id))
            event["requestContext"]["requestId"] = f"{threading.get_ident()}-{number}"
            result = handler.lambda_handler(event, LambdaContext(aws_request_id=event["requestContext"]["requestId"]))
            answers.append(json.loads(result["body"])["status"])

    def publish_pending() -> None:
        start.wait()
        publisher.run(max_events=1000, seconds_left=lambda: 60.0)

    threads = [threading.Thread(target=target) for target in (redeliver_all, redeliver_all, publish_pending)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert Counter(take_event_ids(resources.subscriber_queue_url)) == Counter({event_id: 1 for event_id in event_ids})
    assert set(answers) <= {"accepted", "duplicate"}
    assert publisher.run(max_events=1000, seconds_left=lambda: 60.0).remaining.count == 0


def test_big_events_are_published_within_snss_batch_limit(invoke, publish_pending, stack: Stack, api_event):
    # Each 30 KB, near the body limit: PublishBatch takes 256 KiB in all, so ten need two calls.
    stack.faults.fail("sns", "Publish")
    event_ids = [f"big{number}" for number in range(10)]
    for event_id in event_ids:
        event = event_with_id(api_event, event_id)
        payload = json.loads(event["body"])
        payload["data"]["notes"] = "x" * 30_000
        event["body"] = json.dumps(payload)
        assert invoke(event).body["publication"] == "pending"
    stack.faults.clear()

    assert publish_pending()["published"] == 10
    assert stack.faults.attempts["sns.PublishBatch"] == 2  # 8 and 2 to a call
    assert published_event_ids(stack) == Counter({event_id: 1 for event_id in event_ids})


def take_event_ids(queue_url: str) -> list[str]:
    """The event ids of every message the subscriber queue holds, in the order received; deletes them."""
    sqs = boto3.client("sqs")
    taken: list[str] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        taken += [json.loads(message["Body"])["event_id"] for message in batch]  # raw delivery: the event itself
        entries = [{"Id": str(number), "ReceiptHandle": m["ReceiptHandle"]} for number, m in enumerate(batch)]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
    return taken


@pytest.fixture
def sent_to_sns(stack: Stack) -> list[str]:
    """The event_id of every message the stack hands SNS in a PublishBatch, in order.

    Installed before the functions create their clients (clients copy the session's hooks).
    """
    sent: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.extend(json.loads(entry["Message"])["event_id"] for entry in params["PublishBatchRequestEntries"])

    boto3.DEFAULT_SESSION.events.register("before-parameter-build.sns.PublishBatch", record)
    return sent


@pytest.mark.deep
def test_a_backlog_of_5000_drains_oldest_first_in_bounded_runs(sent_to_sns, publish_pending, stack: Stack, api_event):
    from zenoti_receiver.adapters.event_table import EventTable
    from zenoti_receiver.logic.parsing import parse_class_booking
    from zenoti_receiver.logic.ports import ReceivedEvent

    table = EventTable(stack.resources.table_name, boto3.client("dynamodb"))
    started = int(time.time()) - 3600  # a long outage: received over the last hour
    event_ids = [f"backlog{number:05d}" for number in range(5000)]
    for number, event_id in enumerate(event_ids):
        body = event_with_id(api_event, event_id)["body"]
        moment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started + number * 0.5))
        received_at = f"{moment}.{number % 2 * 500_000:06d}Z"
        table.store_once(ReceivedEvent(parse_class_booking(body), body, "r", received_at), Claim("x", 1))
    # moto's SQS slows down with every message a queue holds, so the demo subscriber would make
    # this test quadratic: what the stack hands SNS is recorded instead (the quick tests prove delivery).
    unsubscribe_all(stack.resources.topic_arn)

    runs = []
    while not runs or runs[-1]["pending"]:
        runs.append(publish_pending(max_events=1000))
        assert len(runs) <= 5, "each run publishes 1,000: five runs drain 5,000"

    assert [run["published"] for run in runs] == [1000] * 5
    assert [run["pending"] for run in runs] == [4000, 3000, 2000, 1000, 0]
    assert sent_to_sns == event_ids  # each exactly once, oldest first
    message_ids = {item["sns_message_id"]["S"] for item in stack.items() if item["published"]["BOOL"]}
    assert len(message_ids) == 5000


def unsubscribe_all(topic_arn: str) -> None:
    sns = boto3.client("sns")
    for subscription in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]:
        sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
