"""The SNS topic that subscribers read the Class booking events from."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from zenoti_receiver.adapters.aws import PUBLISHING, client, unavailable_on_failure
from zenoti_receiver.errors import TemporaryFailure
from zenoti_receiver.logic.ports import ReceivedEvent

DEPENDENCY = "topic"
BATCH_ENTRIES = 10  # PublishBatch: at most 10 messages...
BATCH_BYTES = 256 * 1024  # ...and 256 KiB for all of them together, attributes included


class EventTopic:
    def __init__(self, topic_arn: str, sns: Any = None) -> None:
        self._topic_arn = topic_arn
        self._sns = sns or client("sns", PUBLISHING)

    def publish_event(self, received: ReceivedEvent) -> str:
        request = message(received)
        with unavailable_on_failure("publishing the event", DEPENDENCY):
            response = self._sns.publish(TopicArn=self._topic_arn, **request)
        return str(response["MessageId"])

    def publish_events(self, received: Sequence[ReceivedEvent]) -> dict[str, str]:
        """Publish in as few PublishBatch calls as SNS's limits allow; a failed call fails its batch only."""
        published: dict[str, str] = {}
        for batch in _batches(received):
            entries = [{"Id": str(number), **message(event)} for number, event in enumerate(batch)]
            try:
                with unavailable_on_failure("publishing events", DEPENDENCY):
                    response = self._sns.publish_batch(TopicArn=self._topic_arn, PublishBatchRequestEntries=entries)
            except TemporaryFailure:
                continue  # they stay pending
            for success in response.get("Successful", []):
                published[batch[int(success["Id"])].event.event_id] = str(success["MessageId"])
        return published


def message(received: ReceivedEvent) -> dict[str, Any]:
    """The message subscribers get: the body verbatim, and attributes for their filter policies."""
    event = received.event
    return {
        # Verbatim, unknown fields included, so subscribers can rely on Zenoti's documentation.
        "Message": received.payload,
        "MessageAttributes": {
            "event_type": _string(event.event_type),
            "event_resource": _string(event.event_resource),
            "center_id": _string(str(event.data.center_id)),
        },
    }


def _batches(received: Sequence[ReceivedEvent]) -> Iterator[list[ReceivedEvent]]:
    batch: list[ReceivedEvent] = []
    size = 0
    for event in received:
        event_size = _size(event)
        if batch and (len(batch) == BATCH_ENTRIES or size + event_size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(event)
        size += event_size
    if batch:
        yield batch


def _size(received: ReceivedEvent) -> int:
    # What SNS counts: the message and each attribute's name, type and value.
    attributes = message(received)["MessageAttributes"]
    return len(received.payload.encode()) + sum(
        len(name) + len(value["DataType"]) + len(value["StringValue"].encode()) for name, value in attributes.items()
    )


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}
