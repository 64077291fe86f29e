"""The SNS topic that subscribers read the events from: one message per event, its body verbatim."""

from typing import Any

from zenoti_receiver.adapters.aws import client, unavailable_on_failure
from zenoti_receiver.logic.ports import StoredEvent

DEPENDENCY = "topic"
REPLAY_ATTRIBUTE = "replay"  # "true" on what `python -m ops replay` sends again


class EventTopic:
    def __init__(self, topic_arn: str, sns: Any = None) -> None:
        self._topic_arn = topic_arn
        self._sns = sns or client("sns")

    def publish_event(self, event: StoredEvent) -> str:
        request = message(event)
        with unavailable_on_failure("publishing the event", DEPENDENCY):
            response = self._sns.publish(TopicArn=self._topic_arn, **request)
        return str(response["MessageId"])


def message(event: StoredEvent, replay: bool = False) -> dict[str, Any]:
    """The message subscribers get: the body verbatim, and attributes for their filter policies."""
    attributes = {**event.attributes, **({REPLAY_ATTRIBUTE: "true"} if replay else {})}
    return {
        # Verbatim, unknown fields included, so subscribers can rely on Zenoti's documentation.
        "Message": event.payload,
        "MessageAttributes": {name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    }
