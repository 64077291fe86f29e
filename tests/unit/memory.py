"""In-memory stand-ins for the table and the topic, behaving as the adapters do, for the logic's tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from zenoti_receiver.errors import TemporaryFailure
from zenoti_receiver.logic.authentication import AcceptedTokens
from zenoti_receiver.logic.ports import (
    Claim,
    HeldDelivery,
    PendingCensus,
    PendingEntry,
    ReceivedEvent,
    StoredEvent,
    StoredState,
)

TOKEN = "t0ken"


class FixedTokens:
    def accepted_tokens(self) -> AcceptedTokens:
        return AcceptedTokens(token=TOKEN)


@dataclass
class Row:
    received: ReceivedEvent
    published: bool = False
    claim_id: str | None = None
    claim_expires_at: int = 0


@dataclass
class MemoryTable:
    """Conditional writes on one row per event_id; unpublished rows are the pending index."""

    rows: dict[str, Row] = field(default_factory=dict)
    fail_mark: bool = False

    def store_once(self, received: ReceivedEvent, claim: Claim) -> StoredState | None:
        row = self.rows.get(received.event.event_id)
        if row is not None:
            return StoredState(row.published, row.claim_id, row.claim_expires_at, row.received.body_sha256)
        self.rows[received.event.event_id] = Row(received, False, claim.claim_id, claim.expires_at)
        return None

    def take_over_claim(self, event_id: str, claim: Claim, now: int) -> bool:
        row = self.rows[event_id]
        if row.published or (row.claim_expires_at >= now and row.claim_id != claim.claim_id):
            return False
        row.claim_id, row.claim_expires_at = claim.claim_id, claim.expires_at
        return True

    def claim_pending(self, event_id: str, claim: Claim, now: int) -> StoredEvent | None:
        if not self.take_over_claim(event_id, claim, now):
            return None
        received = self.rows[event_id].received
        return StoredEvent(event_id, received.payload, received.request_id, received.received_at)

    def mark_published(self, event_id: str, message_id: str, published_at: str) -> None:
        if self.fail_mark:
            raise TemporaryFailure("mark", "events_table")
        row = self.rows[event_id]
        row.published, row.claim_id, row.claim_expires_at = True, None, 0

    def oldest_pending(self, limit: int, received_before: str) -> list[PendingEntry]:
        entries = [
            PendingEntry(event_id, row.received.received_at)
            for event_id, row in self.rows.items()
            if not row.published and row.received.received_at < received_before
        ]
        return sorted(entries, key=lambda entry: (entry.received_at, entry.event_id))[:limit]

    def pending_census(self) -> PendingCensus:
        waiting = sorted(row.received.received_at for row in self.rows.values() if not row.published)
        return PendingCensus(len(waiting), waiting[0] if waiting else None)


@dataclass
class MemoryTopic:
    sent: list[str] = field(default_factory=list)  # event_ids, in the order published
    failures: int = 0  # calls to fail from now on
    batch_calls: int = 0

    def publish_event(self, received: ReceivedEvent) -> str:
        self._fail_if_asked()
        self.sent.append(received.event.event_id)
        return f"message-{len(self.sent)}"

    def publish_events(self, received: Sequence[ReceivedEvent]) -> dict[str, str]:
        self.batch_calls += 1
        try:
            self._fail_if_asked()
        except TemporaryFailure:
            return {}
        return {event.event.event_id: self.publish_event(event) for event in received}

    def _fail_if_asked(self) -> None:
        if self.failures:
            self.failures -= 1
            raise TemporaryFailure("publish", "topic")


@dataclass
class MemoryQuarantine:
    kept: list[HeldDelivery] = field(default_factory=list)

    def keep(self, held: HeldDelivery) -> None:
        self.kept.append(held)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now
