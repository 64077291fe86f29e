"""Publishing what the publisher's stream mapping gave up on: the failure queue says when its records arrived (never
the events), and the events received then are published from the table (some twice: subscribers deduplicate)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, TextIO

from ops.errors import OperatorError
from ops.replay import replay
from ops.stored_events import events_received_between
from ops.target import FAILURES_QUEUE_OUTPUT, TABLE_OUTPUT, TOPIC_OUTPUT, Deployment

RECEIVE_BATCH = 10  # SQS's ReceiveMessage limit


def republish(deployment: Deployment, *, dry_run: bool, out: TextIO, err: TextIO) -> int:
    """Publish the events of every batch in the failure queue; the number of events published (or that would be)."""
    dynamodb, sns, sqs = (deployment.client(service) for service in ("dynamodb", "sns", "sqs"))
    table, topic_arn, queue_url = (deployment.names[key] for key in (TABLE_OUTPUT, TOPIC_OUTPUT, FAILURES_QUEUE_OUTPUT))
    published = 0
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=RECEIVE_BATCH).get("Messages", []):
        for message in batch:
            first, last = _arrivals(message)
            # Lambda writes the arrival times to the second; an item's received_at is written just before.
            events = events_received_between(dynamodb, table, first - timedelta(seconds=1), last + timedelta(seconds=2))
            # Their first publication, for most of them: not marked as a replay.
            published += replay(events, sns, topic_arn, dry_run=dry_run, out=out, err=err, marked=False)
            if not dry_run:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if dry_run:
            break  # the messages come back once their visibility ends: nothing was changed
    print(f"{'would publish' if dry_run else 'published'} {published} event(s) from the table to {topic_arn}", file=out)
    return published


def _arrivals(message: dict[str, Any]) -> tuple[datetime, datetime]:
    """When the first and last records of a batch Lambda gave up on arrived (its on-failure record)."""
    try:
        batch = json.loads(message["Body"])["DDBStreamBatchInfo"]
        times = (batch["approximateArrivalOfFirstRecord"], batch["approximateArrivalOfLastRecord"])
        first, last = (datetime.fromisoformat(text.replace("Z", "+00:00")) for text in times)
    except (KeyError, TypeError, ValueError) as error:
        raise OperatorError(f"a message of the failure queue is not Lambda's on-failure record: {error}") from None
    return first, last
