"""Publishing what the publisher's stream mapping gave up on: the events from the table, where from the failure queue.

Lambda retries a record of the stream for as long as the stream keeps it (24 hours). A record it gives
up on leaves, in the failure queue, where it was: the shard, the first and last sequence numbers, and
when the first and last records arrived; never the event. The events are still in the table: those
received in that time (to the second, as Lambda writes it) are published again, each with the code
that published it the first time, and the queue's message is deleted once all of them are. An event
received in that second and published before is published twice: subscribers deduplicate by event_id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TextIO

from ops.errors import OperatorError
from ops.replay import replay_message
from ops.stored_events import StoredEvent, events_received_between

RECEIVE_BATCH = 10  # SQS's ReceiveMessage limit


@dataclass(frozen=True)
class GivenUp:
    """One message of the failure queue: a batch of the stream that Lambda gave up publishing."""

    receipt_handle: str
    first_arrival: datetime
    last_arrival: datetime
    batch_size: int

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> GivenUp:
        try:
            batch = json.loads(message["Body"])["DDBStreamBatchInfo"]
            first = datetime.fromisoformat(batch["approximateArrivalOfFirstRecord"].replace("Z", "+00:00"))
            last = datetime.fromisoformat(batch["approximateArrivalOfLastRecord"].replace("Z", "+00:00"))
            return cls(message["ReceiptHandle"], first, last, int(batch["batchSize"]))
        except (KeyError, TypeError, ValueError) as error:
            raise OperatorError(f"a message of the failure queue is not Lambda's on-failure record: {error}") from None


def republish(
    dynamodb: Any, sns: Any, sqs: Any, table: str, topic_arn: str, queue_url: str, *, dry_run: bool, out: TextIO
) -> int:
    """Publish the events of every batch in the failure queue; the number of events published (or that would be)."""
    published = 0
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=RECEIVE_BATCH).get("Messages", []):
        for message in batch:
            given_up = GivenUp.from_message(message)
            # Lambda writes the arrival times to the second; an item's received_at is written just before.
            events = events_received_between(
                dynamodb,
                table,
                given_up.first_arrival - timedelta(seconds=1),
                given_up.last_arrival + timedelta(seconds=2),
            )
            published += _publish(events, sns, topic_arn, dry_run, out)
            if not dry_run:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=given_up.receipt_handle)
        if dry_run:
            break  # the messages come back once their visibility ends: nothing was changed
    verb = "would publish" if dry_run else "published"
    print(f"{verb} {published} event(s) from the table to {topic_arn}", file=out)
    return published


def _publish(events: list[StoredEvent], sns: Any, topic_arn: str, dry_run: bool, out: TextIO) -> int:
    for event in events:
        message = replay_message(event, replay=False)  # their first publication, for most of them
        if dry_run:
            print(f"would publish {event.event_id}  received_at {event.attributes.get('received_at')}", file=out)
            continue
        message_id = sns.publish(TopicArn=topic_arn, **message)["MessageId"]
        print(f"published {event.event_id}  message_id {message_id}", file=out)
    return len(events)
