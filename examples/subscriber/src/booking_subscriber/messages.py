"""What a queue delivers, in the one shape its subscription of the receiver's topic gives it.

- An SNS notification (this example's own subscription, RawMessageDelivery false): the SQS body is the
  notification, its `Message` Zenoti's JSON, its `MessageAttributes` the receiver's attributes.
- A raw delivery (the receiver stack's own subscriber queue, SubscriberQueue=true, or any subscription
  with RawMessageDelivery true): the SQS body is Zenoti's JSON itself, the receiver's attributes are SQS
  message attributes.

The shape is configuration (Settings.raw_message_delivery, from the subscription's RawMessageDelivery),
never read from the message: a raw body that carries SNS's own fields is a body, and the event in its
`Message` was never stored or filtered by the receiver. Either way the event is parsed with the
receiver's own model (Powertools' SNS and SQS models around it), so what the receiver accepted and
published is exactly what parses here; and the attributes that filter policies chose the message by
must describe that event, or the message is refused. The batch processor hands each message here
alone, so one bad message fails alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from aws_lambda_powertools.utilities.parser.models import SnsNotificationModel, SqsRecordModel
from pydantic import Json

# The same model the receiver validates with.
from zenoti_receiver.models.class_booking import ClassBookingEvent

REPLAY_ATTRIBUTE = "replay"  # the String attribute `python -m ops replay` adds, "true"

Shape = Literal["sns notification", "raw delivery"]

__all__ = ["AttributesDisagree", "ClassBookingNotification", "Delivery", "read_delivery"]


class ClassBookingNotification(SnsNotificationModel):
    """The SNS notification: Zenoti's JSON body verbatim in Message, the receiver's attributes beside it."""

    Message: Json[ClassBookingEvent]  # type: ignore[assignment]


class AttributesDisagree(Exception):
    """The message's attributes do not describe the event it holds: names the attributes, never their values."""

    def __init__(self, event: ClassBookingEvent, missing: list[str], disagreeing: list[str]) -> None:
        self.event_id = event.event_id
        problems = [f"missing: {', '.join(missing)}"] if missing else []
        problems += [f"describing another event: {', '.join(disagreeing)}"] if disagreeing else []
        super().__init__(f"its message attributes do not describe the event it holds ({'; '.join(problems)})")


@dataclass(frozen=True)
class Delivery:
    """One message of the queue, read: the event, whether `ops replay` sent it, and the shape it came in."""

    event: ClassBookingEvent
    replay: bool
    shape: Shape


def read_delivery(record: SqsRecordModel, *, raw_message_delivery: bool) -> Delivery:
    """The event a message of the configured shape holds.

    pydantic's ValidationError when it holds none; AttributesDisagree when its attributes describe another.
    """
    body = record.body
    if not isinstance(body, str):  # typed wider for Powertools' own envelopes; Lambda always hands over text
        raise TypeError("the SQS message body is not text")
    if raw_message_delivery:
        # Whatever the body looks like, it is the event: one that is SNS's envelope is no Class booking event.
        event = ClassBookingEvent.model_validate_json(body)
        attributes = {
            name: value.stringValue for name, value in record.messageAttributes.items() if value.dataType == "String"
        }
        shape: Shape = "raw delivery"
    else:
        notification = ClassBookingNotification.model_validate_json(body)
        event = notification.Message
        attributes = {
            name: value.Value
            for name, value in (notification.MessageAttributes or {}).items()
            if value.Type == "String"
        }
        shape = "sns notification"
    _check_attributes(attributes, event)
    return Delivery(event=event, replay=attributes.get(REPLAY_ATTRIBUTE) == "true", shape=shape)


def _check_attributes(attributes: Mapping[str, str | None], event: ClassBookingEvent) -> None:
    # The receiver publishes each event with these (the model's own rule: no center_id for the all-zero
    # GUID), and filter policies choose messages by them: a message whose attributes describe another
    # event got past a filter meant for another, and acting on it would act on what no one chose to receive.
    expected = event.message_attributes
    missing = [name for name in expected if attributes.get(name) is None]
    disagreeing = [name for name, value in expected.items() if attributes.get(name) not in (None, value)]
    if missing or disagreeing:
        raise AttributesDisagree(event, missing, disagreeing)
