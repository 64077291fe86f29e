"""What the logic needs from the outside world; the adapters provide it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from zenoti_receiver.errors import FieldError, HeldReason
from zenoti_receiver.logic.authentication import AcceptedTokens, TokenUsed
from zenoti_receiver.logic.signature import SignatureCheck

if TYPE_CHECKING:  # the publisher imports these ports but never a model: its cold start builds none
    from zenoti_receiver.models.envelope import ZenotiEvent


@dataclass(frozen=True)
class Delivery:
    """One webhook request, as far as the logic cares."""

    request_id: str
    presented_tokens: tuple[str | None, ...]
    body: str | None
    body_is_base64: bool = False
    header_names: tuple[str, ...] = ()  # lower case, sorted; never their values
    signature: str | None = None  # the signature header's value, if any (logic/signature.py)


@dataclass(frozen=True)
class ReceivedEvent:
    """An authenticated, valid event and how it reached us."""

    event: ZenotiEvent
    payload: str  # the body exactly as Zenoti sent it (without a byte order mark)
    request_id: str
    received_at: str  # ISO 8601, UTC
    header_names: tuple[str, ...] = ()  # of the request, lower case, sorted; never their values
    token: TokenUsed | None = None  # which token authenticated it (None only where a test stores an event directly)
    signature: SignatureCheck = "unchecked"

    @property
    def attributes(self) -> dict[str, str]:
        """The message attributes subscribers filter on (docs/contracts.md), stored with the event."""
        return self.event.message_attributes

    @cached_property
    def body_sha256(self) -> str:
        """sha256 of the payload's UTF-8 bytes, in hex: tells a redelivery from another body under one event_id."""
        return hashlib.sha256(self.payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AlreadyStored:
    """What the table already holds under a delivery's event_id."""

    body_sha256: str | None  # of the stored payload; None if it cannot be told


@dataclass(frozen=True)
class StoredEvent:
    """A stored event as the table (or its stream) gives it back: what subscribers are sent."""

    event_id: str
    payload: str  # the body exactly as Zenoti sent it
    # The message attributes subscribers filter on, as they were stored: event_type, event_resource
    # (when the body names one) and center_id (when the event has one).
    attributes: Mapping[str, str]


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
    token: TokenUsed | None = None  # which token authenticated it
    event_type: str | None = None  # what the body says it is, when it says (triage: `ops held list`)
    signature: SignatureCheck = "unchecked"


class TokenSource(Protocol):
    def accepted_tokens(self) -> AcceptedTokens: ...


class EventStore(Protocol):
    def store_once(self, received: ReceivedEvent) -> AlreadyStored | None:
        """Write the event unless its event_id is stored; say what is stored if it was."""


class EventPublisher(Protocol):
    def publish_event(self, event: StoredEvent) -> str:
        """Publish the stored event; return SNS's message id."""


class HeldBodies(Protocol):
    def keep(self, held: HeldDelivery) -> None:
        """Keep the body once (keyed by its hash), counting every delivery of it."""
