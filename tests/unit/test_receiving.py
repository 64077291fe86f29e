"""The use case with in-memory stand-ins for the table and topic: who publishes, who is held, and when."""

from __future__ import annotations

import json

import pytest

from tests.unit.memory import TOKEN, FixedTokens, MemoryQuarantine
from zenoti_receiver.errors import PayloadTooLarge, TemporaryFailure, Unauthorized
from zenoti_receiver.logic.parsing import MAX_BODY_BYTES
from zenoti_receiver.logic.ports import HeldDelivery
from zenoti_receiver.logic.receiving import ClassBookingReceiver, Delivery
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


def test_authenticated_invalid_body_is_held_not_refused(receiver, table, topic, quarantine):
    receipt = receiver.receive(Delivery("req-9", (TOKEN, None), '{"event_id": "x"}', header_names=("content-type",)))

    assert receipt.outcome == "held"
    assert receipt.held is not None
    assert receipt.held.reason == "invalid_event"
    [kept] = quarantine.kept
    assert (kept.body, kept.request_id, kept.reason) == (b'{"event_id": "x"}', "req-9", "invalid_event")
    assert {error["field"] for error in kept.errors} >= {"id", "data"}
    assert kept.received_at.endswith("Z")
    assert kept.header_names == ("content-type",)
    assert table.rows == {}
    assert topic.sent == []


def test_body_that_is_not_base64_is_held_as_received(receiver, quarantine):
    receipt = receiver.receive(Delivery("req", (TOKEN, None), "not*base64", body_is_base64=True))

    assert receipt.held is not None
    assert receipt.held.reason == "malformed_body"
    assert quarantine.kept[0].body == b"not*base64"


def test_a_body_too_large_to_hold_is_refused_and_kept_nowhere(receiver, table, quarantine):
    with pytest.raises(PayloadTooLarge):
        receiver.receive(Delivery("req", (TOKEN, None), "x" * (MAX_BODY_BYTES + 1)))

    assert quarantine.kept == []
    assert table.rows == {}


def test_when_the_quarantine_fails_the_delivery_is_retried_not_refused(table, topic, clock):
    class BrokenQuarantine:
        def keep(self, held: HeldDelivery) -> None:
            raise TemporaryFailure("quarantine down", "quarantine_table")

    receiver = ClassBookingReceiver(FixedTokens(), table, topic, BrokenQuarantine(), clock=clock)

    with pytest.raises(TemporaryFailure):
        receiver.receive(Delivery("req", (TOKEN, None), "{}"))


def test_the_request_header_names_are_stored_with_the_event(receiver, table, delivery):
    named = Delivery(delivery.request_id, delivery.presented_tokens, delivery.body, header_names=("a", "b"))

    receipt = receiver.receive(named)

    assert (receipt.outcome, receipt.event_type) == ("accepted", "Class.Booking.Deleted")
    assert table.rows[receipt.event_id].received.header_names == ("a", "b")


def test_a_byte_order_mark_is_ignored_and_not_stored(receiver, table, topic, quarantine, raw_payload):
    receipt = receiver.receive(Delivery("req", (TOKEN, None), "\ufeff" + raw_payload))

    assert receipt.outcome == "accepted"
    assert table.rows[receipt.event_id].received.payload == raw_payload
    assert quarantine.kept == []
    # The same event sent again without the mark is a redelivery, not another body.
    assert receiver.receive(Delivery("req-2", (TOKEN, None), raw_payload)).held is None


def test_a_conflicting_duplicate_is_answered_duplicate_and_its_body_held(
    receiver, table, topic, quarantine, delivery, raw_payload
):
    receiver.receive(delivery)
    other = json.loads(raw_payload)
    other["data"]["registration_id"] = 1
    forged = json.dumps(other)

    receipt = receiver.receive(Delivery("req-2", (TOKEN, None), forged, header_names=("x-forged",)))

    assert (receipt.outcome, receipt.event_id) == ("duplicate", "6239c247a961750e01dda051")
    assert receipt.held is not None
    assert receipt.held.reason == "conflicting_duplicate"
    assert table.rows[receipt.event_id].received.payload == raw_payload  # the first stays the event of record
    assert topic.sent == ["6239c247a961750e01dda051"]  # nothing more is published
    [kept] = quarantine.kept
    assert (kept.body, kept.reason, kept.event_id) == (forged.encode(), "conflicting_duplicate", receipt.event_id)
    assert kept.header_names == ("x-forged",)


def test_a_conflicting_duplicate_of_an_unpublished_event_does_not_publish_it(
    receiver, table, topic, quarantine, delivery, raw_payload, clock
):
    topic.failures = 1
    receiver.receive(delivery)  # stored, pending
    clock.now += CLAIM_SECONDS + 1  # its claim expired: a redelivery of the same body would publish it
    other = json.loads(raw_payload)
    other["event_timestamp"] = "2022-03-22T12:34:16Z"

    receipt = receiver.receive(Delivery("req-2", (TOKEN, None), json.dumps(other)))

    assert receipt.outcome == "duplicate"
    assert topic.sent == []  # the stack publishes the first body; never the second
    assert len(quarantine.kept) == 1


def test_a_redelivery_of_the_same_body_is_a_plain_duplicate(receiver, quarantine, delivery):
    receiver.receive(delivery)

    receipt = receiver.receive(delivery)

    assert (receipt.outcome, receipt.held) == ("duplicate", None)
    assert quarantine.kept == []


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
    receiver = ClassBookingReceiver(
        FixedTokens(), table, topic, MemoryQuarantine(), clock=clock, new_claim_id=lambda: "claim-1"
    )
    real_store_once = table.store_once

    def store_twice(received, claim):
        real_store_once(received, claim)
        return real_store_once(received, claim)

    table.store_once = store_twice  # type: ignore[method-assign]

    assert receiver.receive(delivery).outcome == "accepted"
    assert len(topic.sent) == 1
