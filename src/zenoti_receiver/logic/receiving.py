"""The one use case: receive a Class.Booking.Deleted delivery, store it once, publish it once.

Order matters for "never lose an event": the event is stored before it is published, and we
answer 2xx only once it is both stored and published. A stored event that could not be published
is published by the next delivery of it (Zenoti retries every 5xx).

Concurrent deliveries of one event are serialised by a short *claim* on the stored item: only the
holder publishes; the others answer "duplicate", which is safe because the holder either publishes
or answers 5xx, and that 5xx makes Zenoti deliver the event again.

Recording that an event was published is the one step Zenoti need not wait for: it only spares
subscribers a second message on a later redelivery, so it is deferred until after the response.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from aws_lambda_powertools import Logger

from zenoti_receiver.errors import InvalidEvent, MalformedBody, TemporaryFailure
from zenoti_receiver.logic.authentication import authenticate
from zenoti_receiver.logic.parsing import parse_booking_deleted, read_body, received_bytes
from zenoti_receiver.logic.ports import (
    AfterResponse,
    Claim,
    EventPublisher,
    EventStore,
    Quarantine,
    ReceivedEvent,
    RejectedDelivery,
    TokenSource,
)

logger = Logger(child=True)

# Longer than the function may run (its timeout is well under Zenoti's 10 s), so a live attempt
# is never overtaken; shorter than Zenoti's shortest retry gap (30 s), so the retry that follows a
# crashed attempt always finds the claim expired and publishes.
CLAIM_SECONDS = 15


@dataclass(frozen=True)
class Delivery:
    """One webhook request, as far as the logic cares."""

    request_id: str
    presented_tokens: tuple[str | None, ...]
    body: str | None
    body_is_base64: bool = False


@dataclass(frozen=True)
class Receipt:
    outcome: Literal["accepted", "duplicate"]
    event_id: str


class BookingDeletedReceiver:
    def __init__(
        self,
        tokens: TokenSource,
        store: EventStore,
        publisher: EventPublisher,
        quarantine: Quarantine,
        clock: Callable[[], float] = time.time,
        new_claim_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        after_response: AfterResponse | None = None,
    ) -> None:
        self._tokens = tokens
        self._store = store
        self._publisher = publisher
        self._quarantine = quarantine
        self._clock = clock
        self._new_claim_id = new_claim_id
        self._after_response = after_response or _RightAway()

    def receive(self, delivery: Delivery) -> Receipt:
        authenticate(delivery.presented_tokens, self._tokens.accepted_tokens())
        try:
            payload = read_body(delivery.body, delivery.body_is_base64)
            event = parse_booking_deleted(payload)
        except (MalformedBody, InvalidEvent) as rejection:
            # Zenoti sent it with our token: keep it, so it can be re-driven once the cause is fixed.
            self._keep_in_quarantine(delivery, rejection)
            raise
        now = self._clock()
        received = ReceivedEvent(
            event=event,
            payload=payload,
            request_id=delivery.request_id,
            received_at=_iso(now),
        )
        claim = Claim(claim_id=self._new_claim_id(), expires_at=int(now) + CLAIM_SECONDS)
        if not self._store_and_claim(received, claim, int(now)):
            return Receipt("duplicate", event.event_id)
        self._publish(received, claim)
        return Receipt("accepted", event.event_id)

    def _keep_in_quarantine(self, delivery: Delivery, rejection: MalformedBody | InvalidEvent) -> None:
        self._quarantine.keep(
            RejectedDelivery(
                body=received_bytes(delivery.body, delivery.body_is_base64),
                request_id=delivery.request_id,
                received_at=_iso(self._clock()),
                reason=rejection.reason,
                message=rejection.message,
                errors=rejection.errors,
            )
        )
        rejection.quarantined = True

    def _store_and_claim(self, received: ReceivedEvent, claim: Claim, now: int) -> bool:
        """True when this delivery must publish the event: it is new, or stored but never published."""
        event_id = received.event.event_id
        stored = self._store.store_once(received, claim)
        if stored is None or stored.claim_id == claim.claim_id:
            # New, or our own write that landed before a botocore retry of it.
            return True
        if stored.published:
            logger.info("Event already stored and published", extra={"event_id": event_id})
            return False
        if stored.claim_expires_at > now:
            logger.info("Event is being published by another delivery", extra={"event_id": event_id})
            return False
        logger.warning("Event was stored but never published; publishing it now", extra={"event_id": event_id})
        return self._store.take_over_claim(event_id, claim, now)

    def _publish(self, received: ReceivedEvent, claim: Claim) -> None:
        event_id = received.event.event_id
        try:
            message_id = self._publisher.publish_event(received)
        except Exception:
            self._release(event_id, claim)
            raise
        self._after_response.defer(lambda: self._record_publication(event_id, message_id))

    def _record_publication(self, event_id: str, message_id: str) -> None:
        try:
            self._store.mark_published(event_id, message_id, _iso(self._clock()))
        except TemporaryFailure:
            # Stored and published: the delivery succeeded. The only cost is that a redelivery
            # arriving after the claim expires would publish the event a second time.
            logger.warning("Published, but could not record it", extra={"event_id": event_id})

    def _release(self, event_id: str, claim: Claim) -> None:
        try:
            self._store.release_claim(event_id, claim)
        except TemporaryFailure:
            # The claim simply expires; Zenoti's next retry comes after it has.
            logger.warning("Could not release the publication claim", extra={"event_id": event_id})


class _RightAway:
    def defer(self, task: Callable[[], None]) -> None:
        task()


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
