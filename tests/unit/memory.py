"""In-memory stand-ins for the table and the topic, behaving as the adapters do, for the logic's tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from zenoti_receiver.errors import TemporaryFailure
from zenoti_receiver.logic.authentication import AcceptedTokens
from zenoti_receiver.logic.ports import AlreadyStored, HeldDelivery, ReceivedEvent, StoredEvent

TOKEN = "t0ken"


class FixedTokens:
    def accepted_tokens(self) -> AcceptedTokens:
        return AcceptedTokens(token=TOKEN)


@dataclass
class MemoryTable:
    """Conditional writes on one row per event_id; `stream` lists each new row, as the table's stream does."""

    rows: dict[str, ReceivedEvent] = field(default_factory=dict)
    stream: list[StoredEvent] = field(default_factory=list)

    def store_once(self, received: ReceivedEvent) -> AlreadyStored | None:
        stored = self.rows.get(received.event.event_id)
        if stored is not None:
            return AlreadyStored(stored.body_sha256)
        self.rows[received.event.event_id] = received
        self.stream.append(StoredEvent(received.event.event_id, received.payload, received.attributes))
        return None


@dataclass
class MemoryTopic:
    sent: list[str] = field(default_factory=list)  # event_ids, in the order published
    failures: int = 0  # calls to fail from now on

    def publish_event(self, event: StoredEvent) -> str:
        if self.failures:
            self.failures -= 1
            raise TemporaryFailure("publish", "topic")
        self.sent.append(event.event_id)
        return f"message-{len(self.sent)}"


@dataclass
class MemoryHeldBodies:
    kept: list[HeldDelivery] = field(default_factory=list)

    def keep(self, held: HeldDelivery) -> None:
        self.kept.append(held)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now
