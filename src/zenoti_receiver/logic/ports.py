"""What the logic needs from the outside world; the adapters provide it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from zenoti_receiver.errors import FieldError, HeldReason
from zenoti_receiver.logic.authentication import AcceptedTokens
from zenoti_receiver.models.class_booking import ClassBookingEvent


@dataclass(frozen=True)
class ReceivedEvent:
    """An authenticated, valid event and how it reached us."""

    event: ClassBookingEvent
    payload: str  # the body exactly as Zenoti sent it (without a byte order mark)
    request_id: str
    received_at: str  # ISO 8601, UTC
    header_names: tuple[str, ...] = ()  # of the request, lower case, sorted; never their values

    @cached_property
    def body_sha256(self) -> str:
        """sha256 of the payload's UTF-8 bytes, in hex: tells a redelivery from another body under one event_id."""
        return hashlib.sha256(self.payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Claim:
    """The right, for a short time, to publish one stored event."""

    claim_id: str
    expires_at: int  # epoch seconds


@dataclass(frozen=True)
class StoredState:
    """What the table already holds for an event_id."""

    published: bool
    claim_id: str | None
    claim_expires_at: int
    body_sha256: str | None = None  # of the stored payload; None if it cannot be told


@dataclass(frozen=True)
class StoredEvent:
    """A stored event as the table gives it back: what was received, to publish it as it came."""

    event_id: str
    payload: str
    request_id: str
    received_at: str


@dataclass(frozen=True)
class PendingEntry:
    """An event stored but not yet published, as the table's pending index lists it."""

    event_id: str
    received_at: str


@dataclass(frozen=True)
class PendingCensus:
    """How many events wait to be published, and since when the oldest has."""

    count: int
    oldest_received_at: str | None


@dataclass(frozen=True)
class HeldDelivery:
    """An authenticated body that is not an event we store and publish, kept so it can be re-driven once fixed."""

    body: bytes  # as received (decoded from base64 where that worked)
    request_id: str
    received_at: str  # ISO 8601, UTC
    reason: HeldReason
    message: str
    errors: list[FieldError]
    header_names: tuple[str, ...] = ()
    event_id: str | None = None  # when the body is an event: a conflicting duplicate's


class TokenSource(Protocol):
    def accepted_tokens(self) -> AcceptedTokens: ...


class EventStore(Protocol):
    def store_once(self, received: ReceivedEvent, claim: Claim) -> StoredState | None:
        """Write the event unless its event_id is stored; return the stored state if it was."""

    def take_over_claim(self, event_id: str, claim: Claim, now: int) -> bool:
        """Claim an unpublished event whose earlier claim has expired; False if someone else holds it."""

    def mark_published(self, event_id: str, message_id: str, published_at: str) -> None:
        """Record the publication: the event leaves the pending index."""


class PendingStore(Protocol):
    def oldest_pending(self, limit: int, received_before: str) -> list[PendingEntry]:
        """Up to `limit` pending events received before that time, oldest first."""

    def claim_pending(self, event_id: str, claim: Claim, now: int) -> StoredEvent | None:
        """take_over_claim, returning the stored event; None if it was published or is claimed."""

    def mark_published(self, event_id: str, message_id: str, published_at: str) -> None: ...

    def pending_census(self) -> PendingCensus: ...


class EventPublisher(Protocol):
    def publish_event(self, received: ReceivedEvent) -> str:
        """Publish the event; return the message id."""

    def publish_events(self, received: Sequence[ReceivedEvent]) -> dict[str, str]:
        """Publish several at once; return the message id of each event_id published (absent: not published)."""


class Quarantine(Protocol):
    def keep(self, held: HeldDelivery) -> None:
        """Keep the body once (keyed by its hash), counting every delivery of it."""
