"""The one use case: receive a delivery of the Class booking family, store it once, publish it once.

Custody before judgment: every authenticated body is durably kept before Zenoti gets its answer,
either stored as an event or *held* in the quarantine (with why), and the answer is a 2xx either
way. Zenoti deactivates a webhook after 20 non-2xx answers in a row and never re-sends what it
produced meanwhile, so a body we did not expect must not cost us the webhook; it is ours to look at,
and an operator re-drives it once the cause is fixed. Only a request without the right token, or a
body too large to hold at all, is refused; and only when nothing could be held is the answer a 5xx.

Once the event is stored, an outage of anything that does not hold it (the topic) must not cost us
the webhook either: Zenoti gets its 2xx. The event is published right after it is stored; if that
fails, or there is no time left for it, it stays in the table's pending index and the stack
publishes it (logic/publishing_pending.py), with no redelivery and no operator.

Concurrent deliveries of one event are serialised by a short *claim* on the stored item: only the
holder publishes; the others answer "duplicate". The scheduled publisher obeys the same claim, so
no two of them ever publish one event in the normal case. A delivery under a stored event_id with
another body is a *conflicting duplicate*: answered duplicate (Zenoti is done with it), the first
body stays the event of record and nothing more is published, and the second body is held.

An event is published, and its publication recorded, before the answer, and only when both fit in
the time left (timing.py); otherwise it stays pending for the stack. Recording takes the event out
of the pending index: it is what keeps the stack from publishing it a second time.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from aws_lambda_powertools import Logger

from zenoti_receiver.errors import BodyHeld, ConflictingDuplicate, TemporaryFailure
from zenoti_receiver.logic.authentication import authenticate
from zenoti_receiver.logic.parsing import parse_class_booking, read_body, received_bytes
from zenoti_receiver.logic.ports import (
    Claim,
    EventPublisher,
    EventStore,
    HeldDelivery,
    Quarantine,
    ReceivedEvent,
    StoredState,
    TokenSource,
)
from zenoti_receiver.timing import CLAIM_SECONDS, PUBLISH_AND_RECORD_SECONDS

logger = Logger(child=True)

PendingReason = Literal["publish_failed", "no_time"]


def _unlimited() -> float:
    return math.inf


@dataclass(frozen=True)
class Delivery:
    """One webhook request, as far as the logic cares."""

    request_id: str
    presented_tokens: tuple[str | None, ...]
    body: str | None
    body_is_base64: bool = False
    seconds_left: Callable[[], float] = field(default=_unlimited, compare=False)  # before the function's timeout
    header_names: tuple[str, ...] = ()  # lower case, sorted; never their values


@dataclass(frozen=True)
class Receipt:
    """What became of an authenticated delivery: every one is durably kept, as an event or held."""

    outcome: Literal["accepted", "duplicate", "held"]
    event_id: str | None = None  # None when held before it could be read as an event
    event_type: str | None = None
    # Accepted but not published yet, and why; the stack publishes it.
    pending_because: PendingReason | None = None
    # Why the body is held: outcome "held", or a duplicate whose body differs from the stored one.
    held: BodyHeld | None = None


class ClassBookingReceiver:
    def __init__(
        self,
        tokens: TokenSource,
        store: EventStore,
        publisher: EventPublisher,
        quarantine: Quarantine,
        clock: Callable[[], float] = time.time,
        new_claim_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._tokens = tokens
        self._store = store
        self._publisher = publisher
        self._quarantine = quarantine
        self._clock = clock
        self._new_claim_id = new_claim_id

    def receive(self, delivery: Delivery) -> Receipt:
        authenticate(delivery.presented_tokens, self._tokens.accepted_tokens())
        try:
            payload = read_body(delivery.body, delivery.body_is_base64)
            event = parse_class_booking(payload)
        except BodyHeld as held:
            # Zenoti sent it with our token: keep it, so it can be re-driven once the cause is fixed.
            self._hold(delivery, held)
            return Receipt("held", held=held)
        now = self._clock()
        received = ReceivedEvent(
            event=event,
            payload=payload,
            request_id=delivery.request_id,
            received_at=iso_utc(now),
            header_names=delivery.header_names,
        )
        claim = Claim(claim_id=self._new_claim_id(), expires_at=int(now) + CLAIM_SECONDS)
        stored = self._store.store_once(received, claim)
        if _conflicts(stored, received, claim):
            conflict = ConflictingDuplicate(
                f"event_id {event.event_id} is already stored with another body: "
                "the stored one stays the event of record, this one is held"
            )
            self._hold(delivery, conflict, event_id=event.event_id)
            return Receipt("duplicate", event.event_id, event.event_type, held=conflict)
        if not self._must_publish(stored, claim, event.event_id, int(now)):
            return Receipt("duplicate", event.event_id, event.event_type)
        # Stored: from here on the answer is a 2xx whatever happens to the publication.
        return Receipt("accepted", event.event_id, event.event_type, self._publish(received, delivery.seconds_left))

    def _hold(self, delivery: Delivery, held: BodyHeld, event_id: str | None = None) -> None:
        """Keep the body in the quarantine; a TemporaryFailure if it cannot be (then nothing holds it: a 5xx)."""
        self._quarantine.keep(
            HeldDelivery(
                body=received_bytes(delivery.body, delivery.body_is_base64),
                request_id=delivery.request_id,
                received_at=iso_utc(self._clock()),
                reason=held.reason,
                message=held.message,
                errors=held.errors,
                header_names=delivery.header_names,
                event_id=event_id,
            )
        )

    def _must_publish(self, stored: StoredState | None, claim: Claim, event_id: str, now: int) -> bool:
        """True when this delivery must publish the event: it is new, or stored but never published."""
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

    def _publish(self, received: ReceivedEvent, seconds_left: Callable[[], float]) -> PendingReason | None:
        """Publish the stored event now; otherwise say why it stays pending (its claim simply expires)."""
        event_id = received.event.event_id
        if seconds_left() < PUBLISH_AND_RECORD_SECONDS:
            logger.warning("Stored; too little time left to publish it, the stack will", extra={"event_id": event_id})
            return "no_time"
        try:
            message_id = self._publisher.publish_event(received)
        except Exception:
            # Stored is what Zenoti needs; the pending index keeps the rest for the stack to finish.
            logger.exception("Stored, but publishing failed; the stack will publish it", extra={"event_id": event_id})
            return "publish_failed"
        self._record_publication(event_id, message_id)
        return None

    def _record_publication(self, event_id: str, message_id: str) -> None:
        try:
            self._store.mark_published(event_id, message_id, iso_utc(self._clock()))
        except TemporaryFailure:
            # Stored and published: the delivery succeeded. The event stays in the pending index,
            # so the stack publishes it a second time once the claim has expired.
            logger.warning("Published, but could not record it", extra={"event_id": event_id})


def _conflicts(stored: StoredState | None, received: ReceivedEvent, claim: Claim) -> bool:
    """Another body is stored under this event_id (our own write, seen again after a retry, is not)."""
    if stored is None or stored.claim_id == claim.claim_id or stored.body_sha256 is None:
        return False
    return stored.body_sha256 != received.body_sha256


def iso_utc(epoch_seconds: float) -> str:
    """ISO 8601 in UTC to the microsecond, ending in Z: fixed width, so text order is time order."""
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
