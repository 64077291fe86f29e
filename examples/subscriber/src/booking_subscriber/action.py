"""Your action on a deleted class booking: replace the body of on_booking_deleted with what your system does.

The handler calls it once per event_id: SNS duplicates and replays of an event it has already handled
(within IdempotencyDays) never reach it. To have a deletion tried again, raise: the message is delivered
again after the queue's visibility timeout, and after MaxReceiveCount deliveries it moves to the
dead-letter queue (README, "When a message keeps failing").
"""

from __future__ import annotations

from booking_subscriber.deletions_table import DeletionsTable
from booking_subscriber.settings import Settings
from zenoti_receiver.models.class_booking import ClassBookingEvent

# What the example does: record the deletion in a small table, harmless and easy to look at.
# Created once per execution environment, during init.
deletions = DeletionsTable(Settings.from_environment().deletions_table_name)


def on_booking_deleted(event: ClassBookingEvent) -> None:
    """Free the seat, update the CRM, stop the reminder: here, record the deletion."""
    deletions.record(event)
