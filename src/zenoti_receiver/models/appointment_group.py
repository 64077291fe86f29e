"""The Appointment group webhook bodies: `AppointmentGroup.Created` and `AppointmentGroup.Status`.

Both names are Zenoti's own (its samples show them). Their `data` differ: Created has the center and
the guest, Status (the group's status, an integer) has neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from zenoti_receiver.models.catalog import APPOINTMENT_GROUP
from zenoti_receiver.models.envelope import (
    CanonicalUUID,
    Person,
    ZenotiData,
    ZenotiEvent,
    guest,
    guid_text,
)
from zenoti_receiver.models.references import OptionalReference

if TYPE_CHECKING:
    AppointmentGroupCreatedEventType = str
    AppointmentGroupStatusEventType = str
else:  # the names are the catalog's: one line each there
    AppointmentGroupCreatedEventType = Literal[APPOINTMENT_GROUP.names_read_by("AppointmentGroupCreatedEvent")]
    AppointmentGroupStatusEventType = Literal[APPOINTMENT_GROUP.names_read_by("AppointmentGroupStatusEvent")]


class AppointmentGroupData(ZenotiData):
    """The appointment group: its id required; the center and the guest read when sent."""

    appointment_group_id: CanonicalUUID
    center_id: CanonicalUUID | None = None
    guest: OptionalReference | None = None


class AppointmentGroupCreatedData(AppointmentGroupData):
    """A new appointment group: its id and its center required (`center_Name` is Zenoti's spelling)."""

    center_id: CanonicalUUID


class AppointmentGroupEvent(ZenotiEvent):
    """What the family's types share: where the resource, the center and the guest are."""

    data: AppointmentGroupData

    @property
    def resource_id(self) -> str:
        return str(self.data.appointment_group_id)

    @property
    def center_id(self) -> str | None:
        return guid_text(self.data.center_id)

    @property
    def person(self) -> Person | None:
        return None if self.data.guest is None else guest(self.data.guest.id)


class AppointmentGroupCreatedEvent(AppointmentGroupEvent):
    """An appointment group was created (booked)."""

    event_type: AppointmentGroupCreatedEventType
    data: AppointmentGroupCreatedData


class AppointmentGroupStatusEvent(AppointmentGroupEvent):
    """An appointment group's status changed; Zenoti's sample has no center."""

    event_type: AppointmentGroupStatusEventType
