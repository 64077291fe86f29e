"""What the queue delivers: an SQS message whose body is an SNS notification whose Message is Zenoti's event.

These are Powertools' own models of SNS-through-SQS messages (the two that its SnsSqsEnvelope reads),
extended with the receiver's model of the event. The envelope itself parses a whole batch at once, so
one bad message would fail every message with it; the batch processor validates each message with
this model instead and reports only the bad one as failed.
"""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.utilities.parser.models import SnsNotificationModel, SqsRecordModel
from pydantic import Json

# The same model the receiver validates with: what it accepted and published is exactly what parses here.
from zenoti_receiver.models.class_booking import ClassBookingEvent

REPLAY_ATTRIBUTE = "replay"  # the String attribute `python -m ops replay` adds, "true"

__all__ = ["BookingDeletedEvent", "BookingDeletedMessage", "BookingDeletedNotification"]


class BookingDeletedEvent(ClassBookingEvent):
    """The one member of the receiver's Class booking family this subscriber handles."""

    event_type: Literal["Class.Booking.Deleted"]


class BookingDeletedNotification(SnsNotificationModel):
    """The SNS notification: Zenoti's JSON body verbatim in Message, the receiver's attributes beside it."""

    Message: Json[BookingDeletedEvent]  # type: ignore[assignment]

    @property
    def is_replay(self) -> bool:
        attribute = (self.MessageAttributes or {}).get(REPLAY_ATTRIBUTE)
        return attribute is not None and attribute.Value == "true"


class BookingDeletedMessage(SqsRecordModel):
    """One message of the batch Lambda's SQS event source mapping hands the function."""

    body: Json[BookingDeletedNotification]
