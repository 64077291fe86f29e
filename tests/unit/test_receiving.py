"""The use case with in-memory stand-ins for the table and topic: who publishes, and when."""

from __future__ import annotations

import pytest

from tests.unit.memory import TOKEN, FixedTokens, MemoryQuarantine
from zenoti_receiver.errors import InvalidEvent, MalformedBody, TemporaryFailure, Unauthorized
from zenoti_receiver.logic.ports import RejectedDelivery
from zenoti_receiver.logic.receiving import BookingDeletedReceiver, Delivery
from zenoti_receiver.timing import CLAIM_SECONDS, PUBLISH_AND_RECORD_SECONDS


@pytest.fixture
def delivery(raw_payload) -> Delivery:
    return Delivery(request_id="req-1", presented_tokens=(TOKEN, None), body=raw_payload)


def test_new_event_is_stored_then_published(receiver, table, topic, delivery):
    receipt = receiver.receive(delivery)

    assert (receipt.outcome, receipt.event_id) == ("accepted", "6239c247a961750e01dda051")
    assert topic.sent == ["6239c247a961750e01dda051"]
    assert table.rows["6239c247a961750e01dda051"].published


def test_unauthenticated_delivery_touches_nothing(receiver, table, topic, quarantine, delivery):
    with pytest.raises(Unauthorized):
        receiver.receive(Delivery("req", ("wrong", None), "not json"))

    assert table.rows == {}
    assert topic.sent == []
    assert quarantine.kept == []


def test_authenticated_invalid_body_is_quarantined_then_refused(receiver, table, topic, quarantine):
    with pytest.raises(InvalidEvent) as raised:
        receiver.receive(Delivery("req-9", (TOKEN, None), '{"event_id": "x"}'))

    assert raised.value.quarantined
    [kept] = quarantine.kept
    assert (kept.body, kept.request_id, kept.reason) == (b'{"event_id": "x"}', "req-9", "invalid_event")
    assert {error["field"] for error in kept.errors} >= {"id", "data"}
    assert kept.received_at.endswith("Z")
    assert table.rows == {}
    assert topic.sent == []


def test_body_that_is_not_base64_is_quarantined_as_received(receiver, quarantine):
    with pytest.raises(MalformedBody):
        receiver.receive(Delivery("req", (TOKEN, None), "not*base64", body_is_base64=True))

    assert quarantine.kept[0].body == b"not*base64"


def test_when_the_quarantine_fails_the_delivery_is_retried_not_refused(table, topic, clock):
    class BrokenQuarantine:
        def keep(self, rejected: RejectedDelivery) -> None:
            raise TemporaryFailure("quarantine down", "quarantine_table")

    receiver = BookingDeletedReceiver(FixedTokens(), table, topic, BrokenQuarantine(), clock=clock)

    with pytest.raises(TemporaryFailure):
        receiver.receive(Delivery("req", (TOKEN, None), "{}"))


def test_a_failed_publish_still_accepts_and_leaves_the_event_pending(receiver, table, topic, delivery):
    topic.failures = 1

    receipt = receiver.receive(delivery)

    assert (receipt.outcome, receipt.pending_because) == ("accepted", "publish_failed")
    assert topic.sent == []
    assert not table.rows[receipt.event_id].published  # in the pending index, for the stack


def test_an_unexpected_error_while_publishing_still_accepts(receiver, table, topic, delivery):
    def broken(received):
        raise RuntimeError("a bug in the topic adapter")

    topic.publish_event = broken  # type: ignore[method-assign]

    assert receiver.receive(delivery).pending_because == "publish_failed"
    assert len(table.rows) == 1


def test_with_too_little_time_left_the_event_is_stored_and_left_to_the_stack(receiver, table, topic, raw_payload):
    short = Delivery("req", (TOKEN, None), raw_payload, seconds_left=lambda: PUBLISH_AND_RECORD_SECONDS - 0.1)

    receipt = receiver.receive(short)

    assert (receipt.outcome, receipt.pending_because) == ("accepted", "no_time")
    assert topic.sent == []
    assert len(table.rows) == 1


def test_delivery_while_another_holds_the_claim_does_not_publish(receiver, table, topic, delivery, clock):
    topic.failures = 1
    assert receiver.receive(delivery).pending_because == "publish_failed"  # the claim stays until it expires

    clock.now += CLAIM_SECONDS - 1
    assert receiver.receive(delivery).outcome == "duplicate"
    assert topic.sent == []

    clock.now += 2  # the claim has expired: a redelivery publishes (as the stack would)
    receipt = receiver.receive(delivery)
    assert (receipt.outcome, receipt.pending_because) == ("accepted", None)
    assert len(topic.sent) == 1


def test_published_event_is_never_published_again(receiver, topic, delivery, clock):
    receiver.receive(delivery)
    clock.now += 3600

    assert receiver.receive(delivery).outcome == "duplicate"
    assert len(topic.sent) == 1


def test_failing_to_record_the_publication_still_accepts(receiver, table, topic, delivery):
    table.fail_mark = True

    assert receiver.receive(delivery).outcome == "accepted"
    assert len(topic.sent) == 1


def test_our_own_write_seen_again_after_a_sdk_retry_is_still_published(table, topic, clock, delivery):
    # botocore retried a put_item whose first attempt had landed: the row holds our own claim.
    receiver = BookingDeletedReceiver(
        FixedTokens(), table, topic, MemoryQuarantine(), clock=clock, new_claim_id=lambda: "claim-1"
    )
    real_store_once = table.store_once

    def store_twice(received, claim):
        real_store_once(received, claim)
        return real_store_once(received, claim)

    table.store_once = store_twice  # type: ignore[method-assign]

    assert receiver.receive(delivery).outcome == "accepted"
    assert len(topic.sent) == 1
