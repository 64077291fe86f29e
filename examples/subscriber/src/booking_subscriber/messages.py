"""What a queue delivers, in either of the two shapes a subscription of the receiver's topic gives it.

- An SNS notification (this example's own subscription, RawMessageDelivery false): the SQS body is the
  notification, its `Message` Zenoti's JSON, its `MessageAttributes` the receiver's attributes.
- A raw delivery (the receiver stack's own subscriber queue, SubscriberQueue=true, or any subscription
  with RawMessageDelivery true): the SQS body is Zenoti's JSON itself, the receiver's attributes are SQS
  message attributes.

Either way the event is parsed with the receiver's own model (Powertools' SNS and SQS models around it),
so what the receiver accepted and published is exactly what parses here. The batch processor hands
each message here alone, so one bad message fails alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from aws_lambda_powertools.utilities.parser.models import SnsNotificationModel, SqsRecordModel
from pydantic import Json

# The same model the receiver validates with.
from zenoti_receiver.models.class_booking import ClassBookingEvent

REPLAY_ATTRIBUTE = "replay"  # the String attribute `python -m ops replay` adds, "true"

Shape = Literal["sns notification", "raw delivery"]

__all__ = ["ClassBookingNotification", "Delivery", "read_delivery"]


class ClassBookingNotification(SnsNotificationModel):
    """The SNS notification: Zenoti's JSON body verbatim in Message, the receiver's attributes beside it."""

    Message: Json[ClassBookingEvent]  # type: ignore[assignment]


@dataclass(frozen=True)
class Delivery:
    """One message of the queue, read: the event, whether `ops replay` sent it, and the shape it came in."""

    event: ClassBookingEvent
    replay: bool
    shape: Shape


def read_delivery(record: SqsRecordModel) -> Delivery:
    """The event a message holds, in either shape; pydantic's ValidationError when it holds none."""
    body = record.body
    if not isinstance(body, str):  # typed wider for Powertools' own envelopes; Lambda always hands over text
        raise TypeError("the SQS message body is not text")
    if _is_sns_notification(body):
        notification = ClassBookingNotification.model_validate_json(body)
        attribute = (notification.MessageAttributes or {}).get(REPLAY_ATTRIBUTE)
        replay = attribute is not None and attribute.Value == "true"
        return Delivery(event=notification.Message, replay=replay, shape="sns notification")
    # Anything else is taken as Zenoti's JSON: if it is not, the model says which fields are wrong.
    event = ClassBookingEvent.model_validate_json(body)
    raw_attribute = record.messageAttributes.get(REPLAY_ATTRIBUTE)
    replay = raw_attribute is not None and raw_attribute.stringValue == "true"
    return Delivery(event=event, replay=replay, shape="raw delivery")


def _is_sns_notification(body: str) -> bool:
    # SNS's own fields, which no Zenoti event has at its top level.
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    return isinstance(parsed, dict) and parsed.get("Type") == "Notification" and "TopicArn" in parsed
