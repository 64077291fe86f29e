"""The Class booking webhook bodies (Created, Cancelled, Deleted, Approved, NoShow, Rejected).

Zenoti's six class-booking events share one envelope and one `data` shape; only `event_type` tells
them apart, so one model serves them all and the type is part of the event. `Class.Booking.Approved`
and `Class.Booking.Rejected` are inferred names: their pages show only `data` (models/catalog.py).

The shared pieces (the id, GUID and timestamp types) live in models/envelope.py; `parse_event_timestamp`
is named here too, for the tests that read a booking's timestamp as the model does. This module and that
one depend on pydantic alone: a subscriber vendors the two (examples/subscriber/README.md).
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from zenoti_receiver.models.envelope import (
    CanonicalUUID,
    EventTimestampWithOffset,
    NumericId,
    Person,
    ZenotiData,
    ZenotiEvent,
    guest,
    guid_text,
    parse_event_timestamp,
)

__all__ = [
    "BOOKING_DELETED",
    "EVENT_TYPES",
    "ClassBookingData",
    "ClassBookingEvent",
    "ClassBookingEventType",
    "parse_event_timestamp",
]

# The family, as Zenoti's samples spell the types (the catalog lists the same six, and which are
# inferred). Deleted is the one this project was founded on.
ClassBookingEventType = Literal[
    "Class.Booking.Created",
    "Class.Booking.Cancelled",
    "Class.Booking.Deleted",
    "Class.Booking.Approved",
    "Class.Booking.NoShow",
    "Class.Booking.Rejected",
]
EVENT_TYPES: tuple[str, ...] = get_args(ClassBookingEventType)
BOOKING_DELETED: ClassBookingEventType = "Class.Booking.Deleted"


class ClassBookingData(ZenotiData):
    """The class booking the event is about; the same shape for every type. Only the ids are required."""

    registration_id: NumericId
    class_id: NumericId
    session_id: NumericId
    center_id: CanonicalUUID
    guest_id: CanonicalUUID

    # Present in Zenoti's sample; types not documented, so any JSON value (or absence) is accepted.
    workshop_id: Any = None
    track_id: Any = None  # -1 means "no track"
    add_to_all: Any = None
    training_virtual_guests: Any = None
    waitlist: Any = None
    booking_source: Any = None
    group_invoice_id: Any = None
    is_recurring: Any = None
    recurrence_id: Any = None
    recurrence_registration_ids: Any = None
    guest_registration_ids: Any = None


class ClassBookingEvent(ZenotiEvent):
    """One webhook body of the Class booking family."""

    event_type: ClassBookingEventType
    # Stricter than the other families (an offset required), as this family's contract has always been.
    event_timestamp: EventTimestampWithOffset
    event_resource: Literal["Class"]
    data: ClassBookingData

    @property
    def resource_id(self) -> str:
        """The registration (the booking): an integer, as text."""
        return str(self.data.registration_id)

    @property
    def center_id(self) -> str | None:
        return guid_text(self.data.center_id)

    @property
    def person(self) -> Person | None:
        return guest(self.data.guest_id)
