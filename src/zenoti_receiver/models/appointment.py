"""The Appointment webhook bodies (Started, Completed): the appointments of a group at a center.

Both names are inferred from their pages' titles: the pages show only `data`. Zenoti spells some
fields its own way here (`TherapistId`, `serviceduration_in_miutes`); they are kept as sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from zenoti_receiver.models.catalog import APPOINTMENT
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
    AppointmentEventType = str
else:  # the names are the catalog's: one line each there
    AppointmentEventType = Literal[APPOINTMENT.names_read_by("AppointmentEvent")]


class AppointmentData(ZenotiData):
    """The appointment group and its center required; `appointments` lists each appointment (its `id`).

    The samples name no guest; AppointmentGroup.Created, whose `data` has the same shape, has a
    `guest` object, read here too when Zenoti sends one.
    """

    appointment_group_id: CanonicalUUID
    center_id: CanonicalUUID
    guest: OptionalReference | None = None


class AppointmentEvent(ZenotiEvent):
    """An appointment started, or was completed."""

    event_type: AppointmentEventType
    data: AppointmentData

    @property
    def resource_id(self) -> str:
        """The appointment group: the one id of the event (each appointment's is in `data.appointments`)."""
        return str(self.data.appointment_group_id)

    @property
    def center_id(self) -> str | None:
        return guid_text(self.data.center_id)

    @property
    def person(self) -> Person | None:
        return None if self.data.guest is None else guest(self.data.guest.id)
