"""Publishing what the table's stream carries: each new event, once, in the order it was stored."""

# Lambda retries a batch that reports failures from the first record reported, sending every record after
# it again: so records are published one at a time, and nothing after one not published is attempted.
# Only a crash between a publish and the answer repeats a message; subscribers deduplicate by event_id.

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from zenoti_receiver.errors import TemporaryFailure
from zenoti_receiver.logic.ports import EventPublisher, StoredEvent

logger = Logger(child=True)


class NotAttempted(Exception):
    """A record after one that was not published: left for the retry, so that the order is kept."""


@dataclass
class InOrderPublication:
    """One batch's publication: `publish` each record in stream order; `read` turns a record into its event."""

    topic: EventPublisher
    read: Callable[[Any], StoredEvent]
    seconds_left: Callable[[], float]
    # A publish started with less time than this could be cut off by the function's timeout, which fails
    # the whole batch: Lambda would then retry records this invocation had published.
    seconds_needed: float
    outage: TemporaryFailure | None = field(default=None, init=False)  # SNS failed
    bug: bool = field(default=False, init=False)  # a record could not be read or published for a reason of ours
    stopped_because: str | None = field(default=None, init=False)

    def publish(self, record: Any) -> str:
        """Publish one record's event; its SNS message id. Raises when it is not published, and for every one after."""
        if self.stopped_because is None and self.seconds_left() < self.seconds_needed:
            self.stopped_because = "too little time left in this invocation"
        if self.stopped_because is not None:
            raise NotAttempted(f"not attempted: {self.stopped_because}")
        event_id = None
        try:
            event = self.read(record)
            event_id = event.event_id
            message_id = self.topic.publish_event(event)
        except TemporaryFailure as failure:
            self.outage, self.stopped_because = failure, f"event {event_id} was not published"
            logger.warning("Publishing failed; Lambda retries from this event", extra={"event_id": event_id})
            raise
        except Exception:
            self.bug, self.stopped_because = True, f"event {event_id} could not be published"
            logger.exception("Unexpected error (a bug in the publisher); Lambda retries from this event")
            raise
        # The record of a publication an operator looks for (docs/operations.md#publication).
        published = {"event_id": event_id, "event_type": event.attributes.get("event_type")}
        logger.info("Event published", extra={**published, "message_id": message_id})
        return message_id
