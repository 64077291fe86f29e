"""The one use case: receive a delivery of the Class booking family and store it once.

Custody before judgment: every authenticated body is durably kept before Zenoti gets its answer,
either stored as an event or *held* (with why), and the answer is a 2xx either way. Zenoti
deactivates a webhook after 20 non-2xx answers in a row and never re-sends what it produced
meanwhile, so a body we did not expect must not cost us the webhook; it is ours to look at, and an
operator re-drives it once the cause is fixed. Only a request without the right token, or a body
too large to hold at all, is refused; and only when nothing could be held is the answer a 5xx.

Storing is the one write before the answer. Publishing is not this function's job: the table's
stream carries each new item to the publisher (publisher_handler.py), which Lambda retries for as
long as the stream keeps the record, so no outage of SNS can cost us the webhook or an event.

A delivery under a stored event_id is a duplicate: with the same body, a redelivery, answered and
forgotten; with another body, a *conflicting duplicate*: answered duplicate (Zenoti is done with
it), the first body stays the event of record, and the second body is held.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from zenoti_receiver.clock import iso_utc
from zenoti_receiver.errors import BodyHeld, ConflictingDuplicate
from zenoti_receiver.logic.authentication import TokenUsed, authenticate
from zenoti_receiver.logic.parsing import claimed_event_type, parse_class_booking, read_body, received_bytes
from zenoti_receiver.logic.ports import EventStore, HeldBodies, HeldDelivery, ReceivedEvent, TokenSource


@dataclass(frozen=True)
class Delivery:
    """One webhook request, as far as the logic cares."""

    request_id: str
    presented_tokens: tuple[str | None, ...]
    body: str | None
    body_is_base64: bool = False
    header_names: tuple[str, ...] = ()  # lower case, sorted; never their values


@dataclass(frozen=True)
class Accepted:
    """A new event, stored: the stream publishes it."""

    event_id: str
    event_type: str


@dataclass(frozen=True)
class Duplicate:
    """Stored before under this event_id; `conflict` when this body differs from the stored one (it is held)."""

    event_id: str
    event_type: str  # the type this delivery says
    conflict: ConflictingDuplicate | None = None


@dataclass(frozen=True)
class Held:
    """Authenticated, but not an event we store and publish: kept for an operator, with why."""

    why: BodyHeld


# What became of an authenticated delivery: every one is durably kept, as an event or held.
Receipt = Accepted | Duplicate | Held


class ClassBookingReceiver:
    def __init__(
        self,
        tokens: TokenSource,
        store: EventStore,
        held_bodies: HeldBodies,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tokens = tokens
        self._store = store
        self._held_bodies = held_bodies
        self._clock = clock

    def receive(self, delivery: Delivery) -> Receipt:
        token = authenticate(delivery.presented_tokens, self._tokens.accepted_tokens())
        try:
            payload = read_body(delivery.body, delivery.body_is_base64)
            event = parse_class_booking(payload)
        except BodyHeld as held:
            # Zenoti sent it with our token: keep it, so it can be re-driven once the cause is fixed.
            self._hold(delivery, held, token)
            return Held(held)
        received = ReceivedEvent(
            event=event,
            payload=payload,
            request_id=delivery.request_id,
            received_at=iso_utc(self._clock()),
            header_names=delivery.header_names,
            token=token,
        )
        stored = self._store.store_once(received)
        if stored is None:
            return Accepted(event.event_id, event.event_type)
        if stored.body_sha256 is None or stored.body_sha256 == received.body_sha256:
            # A redelivery, already stored (and published by the stream); or our own write, seen again when
            # botocore retried a put whose first attempt had landed: a 200 either way, and stored once.
            return Duplicate(event.event_id, event.event_type)
        conflict = ConflictingDuplicate(
            f"event_id {event.event_id} is already stored with another body: "
            "the stored one stays the event of record, this one is held"
        )
        self._hold(delivery, conflict, token, event_id=event.event_id, event_type=event.event_type)
        return Duplicate(event.event_id, event.event_type, conflict)

    def _hold(
        self,
        delivery: Delivery,
        held: BodyHeld,
        token: TokenUsed,
        event_id: str | None = None,
        event_type: str | None = None,
    ) -> None:
        """Keep the body; a TemporaryFailure if it cannot be (then nothing holds it: a 5xx)."""
        body = received_bytes(delivery.body, delivery.body_is_base64)
        self._held_bodies.keep(
            HeldDelivery(
                body=body,
                request_id=delivery.request_id,
                received_at=iso_utc(self._clock()),
                reason=held.reason,
                message=held.message,
                errors=held.errors,
                header_names=delivery.header_names,
                event_id=event_id,
                token=token,
                event_type=event_type or claimed_event_type(body, held),
            )
        )
