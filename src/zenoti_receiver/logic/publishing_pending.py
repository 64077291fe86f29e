"""The stack's own publication of events that were stored but not published.

The receiving function publishes each event right after storing it. When that publish fails, or
the function dies between the two, the event stays in the table's sparse `pending` index. A
scheduled function runs `PendingPublisher.run` every minute: it takes the oldest pending events,
claims each under the rules a redelivery obeys (so it never races a live delivery or a
redelivery into a second message), publishes them in batches and records each publication.

Each run is bounded: at most `max_events`, and only while the function has time for another batch.
A backlog of any size drains over successive runs, oldest first; while SNS keeps failing, events
simply stay pending (nothing expires them) and the census says how many and since when.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from zenoti_receiver.errors import BodyHeld
from zenoti_receiver.logic.parsing import parse_class_booking
from zenoti_receiver.logic.ports import Claim, EventPublisher, PendingCensus, PendingStore, ReceivedEvent, StoredEvent
from zenoti_receiver.logic.receiving import iso_utc
from zenoti_receiver.timing import CLAIM_SECONDS

logger = Logger(child=True)

BATCH_SIZE = 10  # SNS's PublishBatch takes at most 10 messages
# The worst case of one batch: 10 claims and 10 records (each bounded to about 6 s only when
# DynamoDB is failing, which ends the run at the first failure) and one publish (about 5 s).
SECONDS_PER_BATCH = 15


@dataclass(frozen=True)
class PendingRun:
    """What one run did, and what is still pending after it."""

    published: int
    not_published: int  # claimed, but SNS refused them: they stay pending for the next run
    skipped: int  # published or claimed by a delivery meanwhile
    unreadable: int  # the stored body no longer passes the model: left pending for an operator
    remaining: PendingCensus


class PendingPublisher:
    def __init__(
        self,
        store: PendingStore,
        publisher: EventPublisher,
        clock: Callable[[], float] = time.time,
        new_claim_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._clock = clock
        self._new_claim_id = new_claim_id

    def run(self, max_events: int, seconds_left: Callable[[], float]) -> PendingRun:
        """Publish up to `max_events` of the oldest pending events, one batch at a time."""
        # Younger events may still be published by the delivery that stored them.
        backlog = self._store.oldest_pending(max_events, received_before=iso_utc(self._clock() - CLAIM_SECONDS))
        batches = [backlog[start : start + BATCH_SIZE] for start in range(0, len(backlog), BATCH_SIZE)]
        published = not_published = skipped = unreadable = 0
        for number, batch in enumerate(batches):
            if seconds_left() < SECONDS_PER_BATCH:
                logger.info(
                    "Out of time for this run; the next one goes on", extra={"batches_left": len(batches) - number}
                )
                break
            claimed = self._claim([entry.event_id for entry in batch])
            skipped += len(batch) - len(claimed)
            events = [event for stored in claimed if (event := self._readable(stored)) is not None]
            unreadable += len(claimed) - len(events)
            message_ids = self._publisher.publish_events(events) if events else {}
            for event_id, message_id in message_ids.items():
                self._store.mark_published(event_id, message_id, iso_utc(self._clock()))
            published += len(message_ids)
            not_published += len(events) - len(message_ids)
            if events and not message_ids:
                # SNS refused a whole batch: it is down or refusing us. The next run tries again.
                logger.warning("Publishing failed; this run stops here", extra={"not_published": len(events)})
                break
        return PendingRun(published, not_published, skipped, unreadable, self._store.pending_census())

    def _claim(self, event_ids: list[str]) -> list[StoredEvent]:
        now = self._clock()
        claim = Claim(claim_id=self._new_claim_id(), expires_at=int(now) + CLAIM_SECONDS)
        return [stored for event_id in event_ids if (stored := self._store.claim_pending(event_id, claim, int(now)))]

    def _readable(self, stored: StoredEvent) -> ReceivedEvent | None:
        """The stored event as the receiver validated it, so its message is built the same way."""
        try:
            event = parse_class_booking(stored.payload)
        except BodyHeld as refusal:  # malformed, invalid or undeliverable, as a delivery of it would be held
            # Stored under an earlier, more lenient model: publishing it needs a person's decision.
            logger.error(
                "A pending event no longer passes the model; it stays pending",
                extra={"event_id": stored.event_id, "detail": refusal.message},
            )
            return None
        return ReceivedEvent(event, stored.payload, stored.request_id, stored.received_at)
