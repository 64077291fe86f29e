"""The stack's own publication of pending events, with in-memory stand-ins: what a run takes, and what it leaves."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.unit.memory import TOKEN
from zenoti_receiver.logic.publishing_pending import BATCH_SIZE, SECONDS_PER_BATCH, PendingPublisher
from zenoti_receiver.logic.receiving import Delivery
from zenoti_receiver.timing import CLAIM_SECONDS


@pytest.fixture
def publisher(table, topic, clock) -> PendingPublisher:
    return PendingPublisher(table, topic, clock=clock)


def plenty() -> float:
    return 60.0


def deliver(receiver, raw_payload: str, event_id: str) -> None:
    body = json.loads(raw_payload)
    body["event_id"] = event_id
    receiver.receive(Delivery(f"req-{event_id}", (TOKEN, None), json.dumps(body)))


def store_while_sns_fails(receiver, topic, clock, raw_payload, event_ids) -> None:
    """Each event stored, a second apart, with its publish failing: all of them pending."""
    for event_id in event_ids:
        topic.failures = 1
        deliver(receiver, raw_payload, event_id)
        clock.now += 1


def test_pending_events_are_published_oldest_first_once(receiver, publisher, table, topic, clock, raw_payload):
    store_while_sns_fails(receiver, topic, clock, raw_payload, ["c", "a", "b"])
    clock.now += CLAIM_SECONDS

    run = publisher.run(max_events=100, seconds_left=plenty)

    assert topic.sent == ["c", "a", "b"]  # the order they were received in
    assert (run.published, run.not_published, run.skipped) == (3, 0, 0)
    assert all(row.published for row in table.rows.values())
    assert (run.remaining.count, run.remaining.oldest_received_at) == (0, None)
    assert publisher.run(max_events=100, seconds_left=plenty).published == 0
    assert topic.sent == ["c", "a", "b"]


def test_a_run_is_bounded_and_the_next_one_goes_on(receiver, publisher, topic, clock, raw_payload):
    event_ids = [f"e{number:03d}" for number in range(25)]
    store_while_sns_fails(receiver, topic, clock, raw_payload, event_ids)
    clock.now += CLAIM_SECONDS

    first = publisher.run(max_events=12, seconds_left=plenty)
    second = publisher.run(max_events=12, seconds_left=plenty)

    assert topic.sent == event_ids[:24]
    assert (first.published, first.remaining.count, second.published, second.remaining.count) == (12, 13, 12, 1)
    assert topic.batch_calls == 4  # batches of at most BATCH_SIZE: 10 + 2, then 10 + 2
    assert BATCH_SIZE == 10


def test_an_event_a_live_delivery_may_still_publish_is_left_alone(receiver, publisher, topic, clock, raw_payload):
    store_while_sns_fails(receiver, topic, clock, raw_payload, ["fresh"])

    run = publisher.run(max_events=100, seconds_left=plenty)

    assert (run.published, run.remaining.count) == (0, 1)
    assert topic.sent == []


def test_a_redelivery_holding_the_claim_is_not_raced(receiver, publisher, table, topic, clock, raw_payload):
    store_while_sns_fails(receiver, topic, clock, raw_payload, ["raced"])
    clock.now += CLAIM_SECONDS
    # A redelivery finds the claim expired and takes it; its publish is in flight when the run starts.
    topic.failures = 1
    deliver(receiver, raw_payload, "raced")

    run = publisher.run(max_events=100, seconds_left=plenty)

    assert (run.published, run.skipped) == (0, 1)
    assert topic.sent == []
    clock.now += CLAIM_SECONDS + 1
    assert publisher.run(max_events=100, seconds_left=plenty).published == 1
    assert topic.sent == ["raced"]


def test_while_sns_fails_events_stay_pending_and_the_run_stops(receiver, publisher, table, topic, clock, raw_payload):
    store_while_sns_fails(receiver, topic, clock, raw_payload, [f"e{number}" for number in range(15)])
    clock.now += CLAIM_SECONDS
    topic.failures = 10**6  # SNS down for good

    for _ in range(3):  # a day apart: nothing expires them
        run = publisher.run(max_events=100, seconds_left=plenty)
        clock.now += 86_400

    assert topic.batch_calls == 3  # one refused batch per run, then the run stops
    assert (run.published, run.not_published, run.remaining.count) == (0, BATCH_SIZE, 15)
    assert not any(row.published for row in table.rows.values())

    topic.failures = 0  # SNS is back
    publisher.run(max_events=100, seconds_left=plenty)
    assert sorted(topic.sent) == sorted(table.rows)


def test_a_run_takes_no_batch_it_may_not_have_time_to_finish(receiver, publisher, topic, clock, raw_payload):
    store_while_sns_fails(receiver, topic, clock, raw_payload, [f"e{number:02d}" for number in range(30)])
    clock.now += CLAIM_SECONDS
    left = iter([60.0, 30.0, SECONDS_PER_BATCH - 1])

    run = publisher.run(max_events=100, seconds_left=lambda: next(left))

    assert run.published == 2 * BATCH_SIZE
    assert run.remaining.count == 10


@pytest.mark.parametrize(
    "now_refused",
    [
        '{"not": "an event any more"}',  # invalid_event
        '{"event_id": ',  # malformed_body
        "[" * 70 + "]" * 70,  # undeliverable: stored before the depth check existed
    ],
)
def test_a_stored_body_the_model_now_refuses_stays_pending(
    receiver, publisher, table, topic, clock, raw_payload, now_refused
):
    store_while_sns_fails(receiver, topic, clock, raw_payload, ["kept", "later"])
    row = table.rows["kept"]
    row.received = dataclasses.replace(row.received, payload=now_refused)
    clock.now += CLAIM_SECONDS

    run = publisher.run(max_events=100, seconds_left=plenty)

    assert (run.published, run.unreadable, run.remaining.count) == (1, 1, 1)
    assert topic.sent == ["later"]
