"""Every Zenoti event type the receiver knows, by family, and the model of each: the one place to ask.

Only names here: a family's models are built when it is first asked for (`Family.model_for`,
`model_for`), so a cold start pays for the family it receives, not for all ten (each costs several
milliseconds of pydantic building at import).

Each type is one line below, with whose its name is: Zenoti's own (an envelope Zenoti published shows
it), or inferred from the title of a page that shows only `data`. When a held body shows Zenoti's real
name for an inferred one, change that line: the model, the schema and the samples' check follow.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from zenoti_receiver.models.envelope import ZenotiEvent

Naming = Literal["zenoti", "inferred"]


@dataclass(frozen=True)
class EventType:
    """One type: its `event_type`, whose that name is, and the model (a class of its family's module) that reads it."""

    name: str
    naming: Naming
    model: str


def zenoti(name: str, model: str) -> EventType:
    return EventType(name, "zenoti", model)


def inferred(name: str, model: str) -> EventType:
    return EventType(name, "inferred", model)


@dataclass(frozen=True)
class Family:
    """Zenoti's events about one kind of resource, published under one prefix subscribers filter on."""

    name: str  # its schema's and its samples' names: "guest-membership"
    title: str  # as Zenoti's pages say it: "Guest membership"
    prefix: str  # what every type's name starts with, for SNS's prefix matching: "Guest.Membership."
    module: str  # the module of zenoti_receiver.models that holds its models
    types: tuple[EventType, ...]

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(each.name for each in self.types)

    @property
    def inferred(self) -> frozenset[str]:
        """The types whose name no Zenoti sample shows."""
        return frozenset(each.name for each in self.types if each.naming == "inferred")

    def names_read_by(self, model: str) -> tuple[str, ...]:
        """The types one model of the family reads (its `event_type` values)."""
        return tuple(each.name for each in self.types if each.model == model)

    def model_for(self, event_type: str) -> type[ZenotiEvent] | None:
        """The model of one of the family's types (its module imported on first use), or None for another type."""
        entry = next((each for each in self.types if each.name == event_type), None)
        if entry is None:
            return None
        module = importlib.import_module(f"zenoti_receiver.models.{self.module}")
        model: type[ZenotiEvent] = getattr(module, entry.model)
        return model

    def models(self) -> tuple[type[ZenotiEvent], ...]:
        """Each model of the family once, in the order of its types."""
        found = {model: None for each in self.types if (model := self.model_for(each.name)) is not None}
        return tuple(found)


CLASS_BOOKING = Family(
    "class-booking",
    "Class booking",
    "Class.Booking.",
    "class_booking",
    (
        zenoti("Class.Booking.Created", "ClassBookingEvent"),
        zenoti("Class.Booking.Cancelled", "ClassBookingEvent"),
        zenoti("Class.Booking.Deleted", "ClassBookingEvent"),
        inferred("Class.Booking.Approved", "ClassBookingEvent"),
        zenoti("Class.Booking.NoShow", "ClassBookingEvent"),
        inferred("Class.Booking.Rejected", "ClassBookingEvent"),
    ),
)
CLASS_SCHEDULE = Family(
    "class-schedule",
    "Class schedule",
    "Class.Schedule.",
    "class_schedule",
    (
        zenoti("Class.Schedule.Created", "ClassScheduleEvent"),
        zenoti("Class.Schedule.Updated", "ClassScheduleEvent"),
        zenoti("Class.Schedule.Cancelled", "ClassScheduleEvent"),
        zenoti("Class.Schedule.Deleted", "ClassScheduleEvent"),
    ),
)
GUEST = Family(
    "guest",
    "Guest",
    "Guest.",  # also the start of Guest.Membership.*: docs/families.md says how to take Guest alone
    "guest",
    (
        zenoti("Guest.Created", "GuestEvent"),
        zenoti("Guest.Updated", "GuestEvent"),
        zenoti("Guest.Deleted", "GuestEvent"),
        inferred("Guest.Merged", "GuestEvent"),
        inferred("Guest.OptedOut", "GuestCommunicationEvent"),
        inferred("Guest.OptedIn", "GuestCommunicationEvent"),
    ),
)
GUEST_MEMBERSHIP = Family(
    "guest-membership",
    "Guest membership",
    "Guest.Membership.",
    "guest_membership",
    (
        zenoti("Guest.Membership.Created", "GuestMembershipEvent"),
        inferred("Guest.Membership.Freeze", "GuestMembershipEvent"),
        inferred("Guest.Membership.Unfreeze", "GuestMembershipEvent"),
        inferred("Guest.Membership.Cancelled", "GuestMembershipEvent"),
        inferred("Guest.Membership.Reinstate", "GuestMembershipEvent"),
    ),
)
GUEST_PASS = Family(
    "guest-pass",
    "Guest pass",
    "Guestpass.",
    "guest_pass",
    (inferred("Guestpass.redeemed", "GuestPassEvent"),),  # lower case, as the page's prose writes it
)
GUEST_PACKAGE = Family(
    "guest-package",
    "Guest package",
    "GuestPackage.",
    "guest_package",
    (
        inferred("GuestPackage.Creation", "GuestPackageEvent"),
        inferred("GuestPackage.Redemption", "GuestPackageEvent"),
        inferred("GuestPackage.RedemptionReversal", "GuestPackageEvent"),
        inferred("GuestPackage.StatusUpdate", "GuestPackageEvent"),
        inferred("GuestPackage.ValidityUpdate", "GuestPackageEvent"),
    ),
)
APPOINTMENT = Family(
    "appointment",
    "Appointment",
    "Appointment.",
    "appointment",
    (
        inferred("Appointment.Started", "AppointmentEvent"),
        inferred("Appointment.Completed", "AppointmentEvent"),
    ),
)
APPOINTMENT_GROUP = Family(
    "appointment-group",
    "Appointment group",
    "AppointmentGroup.",
    "appointment_group",
    (
        zenoti("AppointmentGroup.Created", "AppointmentGroupCreatedEvent"),
        zenoti("AppointmentGroup.Status", "AppointmentGroupStatusEvent"),
    ),
)
EMPLOYEE = Family(
    "employee",
    "Employee",
    "Employee.",
    "employee",
    (
        zenoti("Employee.Created", "EmployeeEvent"),
        zenoti("Employee.Updated", "EmployeeEvent"),
        zenoti("Employee.Deleted", "EmployeeEvent"),
    ),
)
INVOICE = Family("invoice", "Invoice", "Invoice.", "invoice", (zenoti("Invoice.Closed", "InvoiceEvent"),))

FAMILIES: tuple[Family, ...] = (
    CLASS_BOOKING,
    CLASS_SCHEDULE,
    GUEST,
    GUEST_MEMBERSHIP,
    GUEST_PASS,
    GUEST_PACKAGE,
    APPOINTMENT,
    APPOINTMENT_GROUP,
    EMPLOYEE,
    INVOICE,
)

_FAMILY_OF: dict[str, Family] = {each.name: family for family in FAMILIES for each in family.types}

# Every event type the receiver knows, family by family.
EVENT_TYPES: tuple[str, ...] = tuple(_FAMILY_OF)


def family_of(event_type: str) -> Family | None:
    """The family of a known type (exactly as Zenoti spells it), or None."""
    return _FAMILY_OF.get(event_type)


def model_for(event_type: str) -> type[ZenotiEvent] | None:
    """The model that reads a body of this type, or None for a type nobody documents (such a body is held)."""
    family = _FAMILY_OF.get(event_type)
    return None if family is None else family.model_for(event_type)
