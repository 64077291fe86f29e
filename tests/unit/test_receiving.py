"""The use case with in-memory stand-ins for the table: what is stored, what is held, what Zenoti is told."""

from __future__ import annotations

import json

import pytest

from tests.unit.memory import TOKEN, FixedTokens
from zenoti_receiver.errors import PayloadTooLarge, TemporaryFailure, Unauthorized
from zenoti_receiver.logic.parsing import MAX_BODY_BYTES
from zenoti_receiver.logic.ports import Delivery, HeldDelivery
from zenoti_receiver.logic.receiving import Accepted, Duplicate, Held, TriggerTested, WebhookReceiver

SAMPLE_ID = "6239c247a961750e01dda051"


@pytest.fixture
def delivery(raw_payload) -> Delivery:
    return Delivery(request_id="req-1", presented_tokens=(TOKEN, None), body=raw_payload)


def test_a_new_event_is_stored_once_and_handed_to_the_stream(receiver, table, delivery, raw_payload):
    receipt = receiver.receive(delivery)

    assert receipt == Accepted(SAMPLE_ID, "Class.Booking.Deleted")
    assert table.rows[SAMPLE_ID].payload == raw_payload
    [new] = table.stream
    assert new.event_id == SAMPLE_ID
    assert dict(new.attributes) == {
        "event_type": "Class.Booking.Deleted",
        "event_resource": "Class",
        "center_id": "e1693623-bda5-4b3e-a2a7-611ea4f1f7ad",
    }


def test_unauthenticated_delivery_touches_nothing(receiver, table, held_bodies):
    with pytest.raises(Unauthorized):
        receiver.receive(Delivery("req", ("wrong", None), "not json"))

    assert table.rows == {}
    assert held_bodies.kept == []


def test_authenticated_invalid_body_is_held_not_refused(receiver, table, held_bodies):
    receipt = receiver.receive(Delivery("req-9", (TOKEN, None), '{"event_id": "x"}', header_names=("content-type",)))

    assert isinstance(receipt, Held)
    assert receipt.why.reason == "invalid_event"
    [kept] = held_bodies.kept
    assert (kept.body, kept.request_id, kept.reason) == (b'{"event_id": "x"}', "req-9", "invalid_event")
    assert {error["field"] for error in kept.errors} >= {"id", "data"}
    assert kept.received_at.endswith("Z")
    assert kept.header_names == ("content-type",)
    assert table.rows == {}
    assert table.stream == []


def test_body_that_is_not_base64_is_held_as_received(receiver, held_bodies):
    receipt = receiver.receive(Delivery("req", (TOKEN, None), "not*base64", body_is_base64=True))

    assert isinstance(receipt, Held)
    assert receipt.why.reason == "malformed_body"
    assert held_bodies.kept[0].body == b"not*base64"


def test_a_body_too_large_to_hold_is_refused_and_kept_nowhere(receiver, table, held_bodies):
    with pytest.raises(PayloadTooLarge):
        receiver.receive(Delivery("req", (TOKEN, None), "x" * (MAX_BODY_BYTES + 1)))

    assert held_bodies.kept == []
    assert table.rows == {}


def test_when_the_held_bodies_table_fails_the_delivery_is_retried_not_refused(table, clock):
    class BrokenHeldBodies:
        def keep(self, held: HeldDelivery) -> None:
            raise TemporaryFailure("held_bodies down", "held_bodies_table")

    receiver = WebhookReceiver(FixedTokens(), table, BrokenHeldBodies(), clock=clock)

    with pytest.raises(TemporaryFailure):
        receiver.receive(Delivery("req", (TOKEN, None), "{}"))


def test_when_the_table_fails_the_delivery_is_retried(held_bodies, clock, delivery):
    class BrokenTable:
        def store_once(self, received: object) -> None:
            raise TemporaryFailure("table down", "events_table")

    receiver = WebhookReceiver(FixedTokens(), BrokenTable(), held_bodies, clock=clock)

    with pytest.raises(TemporaryFailure):
        receiver.receive(delivery)
    assert held_bodies.kept == []


def test_the_request_header_names_are_stored_with_the_event(receiver, table, delivery):
    named = Delivery(delivery.request_id, delivery.presented_tokens, delivery.body, header_names=("a", "b"))

    receipt = receiver.receive(named)

    assert receipt == Accepted(SAMPLE_ID, "Class.Booking.Deleted")
    assert table.rows[SAMPLE_ID].header_names == ("a", "b")


def test_a_byte_order_mark_is_ignored_and_not_stored(receiver, table, held_bodies, raw_payload):
    receipt = receiver.receive(Delivery("req", (TOKEN, None), "\ufeff" + raw_payload))

    assert isinstance(receipt, Accepted)
    assert table.rows[SAMPLE_ID].payload == raw_payload
    assert held_bodies.kept == []
    # The same event sent again without the mark is a redelivery, not another body.
    assert receiver.receive(Delivery("req-2", (TOKEN, None), raw_payload)) == Duplicate(
        SAMPLE_ID, "Class.Booking.Deleted"
    )


def test_a_conflicting_duplicate_is_answered_duplicate_and_its_body_held(
    receiver, table, held_bodies, delivery, raw_payload
):
    receiver.receive(delivery)
    other = json.loads(raw_payload)
    other["data"]["registration_id"] = 1
    forged = json.dumps(other)

    receipt = receiver.receive(Delivery("req-2", (TOKEN, None), forged, header_names=("x-forged",)))

    assert isinstance(receipt, Duplicate)
    assert receipt.event_id == SAMPLE_ID
    assert receipt.conflict is not None
    assert receipt.conflict.reason == "conflicting_duplicate"
    assert table.rows[SAMPLE_ID].payload == raw_payload  # the first stays the event of record
    assert len(table.stream) == 1  # nothing more goes to the stream, so nothing more is published
    [kept] = held_bodies.kept
    assert (kept.body, kept.reason, kept.event_id) == (forged.encode(), "conflicting_duplicate", SAMPLE_ID)
    assert kept.header_names == ("x-forged",)


def test_a_redelivery_of_the_same_body_is_a_plain_duplicate(receiver, table, held_bodies, delivery):
    receiver.receive(delivery)

    receipt = receiver.receive(Delivery("req-2", delivery.presented_tokens, delivery.body))

    assert receipt == Duplicate(SAMPLE_ID, "Class.Booking.Deleted")
    assert held_bodies.kept == []
    assert len(table.stream) == 1


def test_our_own_write_seen_again_after_a_sdk_retry_is_stored_once_and_answered_200(
    table, held_bodies, clock, delivery
):
    # botocore retried a put_item whose first attempt had landed: the stored item is this request's own.
    receiver = WebhookReceiver(FixedTokens(), table, held_bodies, clock=clock)
    real_store_once = table.store_once

    def store_twice(received):
        real_store_once(received)
        return real_store_once(received)

    table.store_once = store_twice  # type: ignore[method-assign]

    assert receiver.receive(delivery) == Duplicate(SAMPLE_ID, "Class.Booking.Deleted")  # a 200, nothing held
    assert (len(table.stream), held_bodies.kept) == (1, [])


@pytest.mark.parametrize("body", ["", None])
def test_an_empty_body_with_the_token_is_a_test_and_nothing_is_kept(receiver, table, held_bodies, body):
    receipt = receiver.receive(Delivery("req-test", (TOKEN, None), body))

    assert isinstance(receipt, TriggerTested)
    assert table.rows == {}
    assert held_bodies.kept == []


def test_an_empty_body_without_the_token_is_refused(receiver, held_bodies):
    with pytest.raises(Unauthorized):
        receiver.receive(Delivery("req-test", (None, None), ""))
    assert held_bodies.kept == []
