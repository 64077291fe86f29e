"""The SNS topic that subscribers read Booking Deleted events from."""

from __future__ import annotations

from typing import Any

from zenoti_receiver.adapters.aws import client, unavailable_on_failure
from zenoti_receiver.logic.ports import ReceivedEvent

DEPENDENCY = "topic"


class EventTopic:
    def __init__(self, topic_arn: str, sns: Any = None) -> None:
        self._topic_arn = topic_arn
        self._sns = sns or client("sns")

    def publish_event(self, received: ReceivedEvent) -> str:
        event = received.event
        with unavailable_on_failure("publishing the event", DEPENDENCY):
            response = self._sns.publish(
                TopicArn=self._topic_arn,
                # Verbatim, unknown fields included, so subscribers can rely on Zenoti's documentation.
                Message=received.payload,
                MessageAttributes={
                    "event_type": _string(event.event_type),
                    "event_resource": _string(event.event_resource),
                    "center_id": _string(str(event.data.center_id)),
                },
            )
        return str(response["MessageId"])


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}
