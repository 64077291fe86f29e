"""Your actions, one per event type: replace their bodies with what your system does, and add a type here.

The handler calls the action of an event's type once per event_id: SNS duplicates and replays of an event
it has already handled (within IdempotencyDays) never reach it. To have an event tried again, raise: the
message is delivered again after the queue's visibility timeout, and after MaxReceiveCount deliveries it
moves to the dead-letter queue (README.md#when-a-message-keeps-failing).

To handle another type of the family (Class.Booking.Created, Approved, NoShow, Rejected): write its
function, add it to ACTIONS, and add the type to the subscription's filter policy in template.yaml
(a test checks the two name the same types).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from booking_subscriber.deletions_table import DeletionsTable
from booking_subscriber.settings import Settings
from zenoti_receiver.models.class_booking import ClassBookingEvent, ClassBookingEventType

# What the example does: record the freed seat in a small table, harmless and easy to look at.
# Created once per execution environment, during init.
freed_seats = DeletionsTable(Settings.from_environment().deletions_table_name)


def on_booking_deleted(event: ClassBookingEvent) -> None:
    """The booking was deleted: free the seat, update the CRM, stop the reminder. Here: record it."""
    freed_seats.record(event)


def on_booking_cancelled(event: ClassBookingEvent) -> None:
    """The guest cancelled: here the seat is freed as for a deletion; your system may treat it apart."""
    freed_seats.record(event)


# The types this subscriber handles, and the action of each. template.yaml's Subscription filters on
# exactly these, so no other type reaches the queue.
ACTIONS: Mapping[ClassBookingEventType, Callable[[ClassBookingEvent], None]] = {
    "Class.Booking.Deleted": on_booking_deleted,
    "Class.Booking.Cancelled": on_booking_cancelled,
}
