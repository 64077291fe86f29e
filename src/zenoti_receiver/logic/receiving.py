"""The one use case: receive a delivery of any of Zenoti's webhooks and keep it, stored once as an event or held."""

# Zenoti turns a webhook off after 20 non-2xx answers in a row and never re-sends what it produced meanwhile,
# so every authenticated body is durably kept before a 2xx. Refused, nothing stored: a wrong token, a body too large
# to hold, a signature that does not match where signatures are enforced, and a verb Zenoti never uses (refused by
# adapters/api_gateway.py). docs/design.md: the contract, duplicates, held bodies; docs/contracts.md: every answer.

import time
from collections.abc import Callable
from dataclasses import dataclass

from zenoti_receiver.clock import iso_utc
from zenoti_receiver.errors import BodyHeld, ConflictingDuplicate, SignatureMismatch, TemporaryFailure
from zenoti_receiver.logic.authentication import TokenUsed, authenticate
from zenoti_receiver.logic.parsing import claimed_event_type, parse_event, read_body, received_bytes
from zenoti_receiver.logic.ports import Delivery, EventStore, HeldBodies, HeldDelivery, ReceivedEvent, TokenSource
from zenoti_receiver.logic.signature import SignatureCheck, check_signature


@dataclass(frozen=True)
class TriggerTested:
    """An empty body with the right token: Zenoti's "test your trigger" button. Nothing is stored."""

    signature: SignatureCheck


@dataclass(frozen=True)
class Accepted:
    """A new event, stored: the stream publishes it."""

    event_id: str
    event_type: str
    signature: SignatureCheck = "unchecked"


@dataclass(frozen=True)
class Duplicate:
    """Stored before under this event_id; `conflict` when this body differs from the stored one (it is held)."""

    event_id: str
    event_type: str  # the type this delivery says
    conflict: ConflictingDuplicate | None = None
    signature: SignatureCheck = "unchecked"


@dataclass(frozen=True)
class Held:
    """Authenticated, but not an event we store and publish: kept for an operator, with why."""

    why: BodyHeld
    signature: SignatureCheck = "unchecked"


# What became of an authenticated delivery: every one with a body is durably kept, as an event or held.
Receipt = Accepted | Duplicate | Held | TriggerTested


@dataclass
class WebhookReceiver:
    """With `enforce_signatures`, a delivery whose signature does not match is refused (401), nothing stored."""

    tokens: TokenSource
    store: EventStore
    held_bodies: HeldBodies
    clock: Callable[[], float] = time.time
    enforce_signatures: bool = False

    def receive(self, delivery: Delivery) -> Receipt:
        accepted = self.tokens.accepted_tokens()
        token = authenticate(delivery.presented_tokens, accepted)
        # The body's bytes here only where there is a secret to check them with (most stacks have none);
        # otherwise only a body that is held needs them.
        body = received_bytes(delivery.body, delivery.body_is_base64) if accepted.signing_secret else None
        signature = self._check_signature(body or b"", delivery.signature, accepted.signing_secret)
        if not delivery.body:
            # Zenoti's "test your trigger" button posts nothing: a 2xx tells the customer the URL works.
            return TriggerTested(signature)
        received_at = iso_utc(self.clock())
        try:
            payload = read_body(delivery.body, delivery.body_is_base64)
            event = parse_event(payload)
        except BodyHeld as held:
            # Zenoti sent it with our token: keep it, so it can be re-driven once the cause is fixed.
            self._hold(delivery, body, received_at, held, token, signature)
            return Held(held, signature)
        received = ReceivedEvent(
            event=event,
            payload=payload,
            request_id=delivery.request_id,
            received_at=received_at,
            header_names=delivery.header_names,
            token=token,
            signature=signature,
        )
        stored = self.store.store_once(received)
        if stored is None:
            return Accepted(event.event_id, event.event_type, signature)
        if stored.body_sha256 is None or stored.body_sha256 == received.body_sha256:
            # A redelivery, already stored (and published by the stream); or our own write, seen again when
            # botocore retried a put whose first attempt had landed: a 200 either way, and stored once.
            return Duplicate(event.event_id, event.event_type, signature=signature)
        conflict = ConflictingDuplicate(
            f"event_id {event.event_id} is already stored with another body: "
            "the stored one stays the event of record, this one is held"
        )
        self._hold(delivery, body, received_at, conflict, token, signature, event.event_id, event.event_type)
        return Duplicate(event.event_id, event.event_type, conflict, signature)

    def _check_signature(self, body: bytes, presented: str | None, secret: str | None) -> SignatureCheck:
        """The signature's outcome; refused (nothing stored) only when enforced and it does not match."""
        signature = check_signature(body, presented, secret)
        if not self.enforce_signatures or signature == "matched":
            return signature
        if signature == "unchecked":
            # Our misconfiguration, not the sender's: a 5xx, so Zenoti sends it again once the secret is set.
            raise TemporaryFailure(
                "signatures are enforced, but the token secret has no signing_secret", dependency="secret"
            )
        raise SignatureMismatch(f"signature {signature}: signatures are enforced (docs/security.md)")

    def _hold(
        self,
        delivery: Delivery,
        body: bytes | None,
        received_at: str,
        held: BodyHeld,
        token: TokenUsed,
        signature: SignatureCheck,
        event_id: str | None = None,
        event_type: str | None = None,
    ) -> None:
        """Keep the body; a TemporaryFailure if it cannot be (then nothing holds it: a 5xx)."""
        if body is None:  # not read for a signature
            body = received_bytes(delivery.body, delivery.body_is_base64)
        self.held_bodies.keep(
            HeldDelivery(
                body=body,
                request_id=delivery.request_id,
                received_at=received_at,
                reason=held.reason,
                message=held.message,
                errors=held.errors,
                header_names=delivery.header_names,
                event_id=event_id,
                token=token,
                event_type=event_type or claimed_event_type(body, held),
                signature=signature,
            )
        )
