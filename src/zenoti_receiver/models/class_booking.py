"""The Class booking webhook bodies (Created, Cancelled, Deleted, Approved, NoShow, Rejected).

Zenoti's six class-booking events share one envelope and one `data` shape; only `event_type` tells
them apart, so one model serves them all and the type is part of the event.

Strict where a wrong value would corrupt what we store or how subscribers find it (the identity
fields); lenient everywhere else, because Zenoti adds fields over time, leaves many of them
`null`, and does not document their types. Unknown fields are accepted and kept.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr

# The family, as Zenoti's samples spell the types. Deleted is the one this project was founded on.
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

# Zenoti's ids look like 24 hex digits (Mongo ObjectIds); accept any short, printable token so a
# format change on their side does not start rejecting events, but nothing that could smuggle
# control characters into keys or log lines.
ZenotiId = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]

# Positive integers that fit DynamoDB and every subscriber's 64-bit integers.
NumericId = Annotated[StrictInt, Field(ge=1, le=2**53 - 1)]  # what JavaScript reads exactly (logic/parsing.py)

# Hyphenated 8-4-4-4-12 hex digits, in either case: Zenoti writes most GUIDs in lower case and some
# (its Approved sample) in upper case. Python's UUID also reads braces, "urn:uuid:" and no hyphens;
# those are not GUIDs Zenoti writes. The model holds the UUID, so keys, indexes and message attributes
# use its canonical lower-case text (str(uuid)) whatever the case sent; the published body stays verbatim.
_HYPHENATED_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _canonical_uuid(value: object) -> object:
    if isinstance(value, str) and _HYPHENATED_UUID.fullmatch(value) is None:
        raise ValueError("must be a UUID written as 8-4-4-4-12 hex digits with hyphens")
    return value  # not text: the UUID type's own error says so


CanonicalUUID = Annotated[UUID, BeforeValidator(_canonical_uuid)]

# Zenoti sends 7 fractional digits (2022-03-22T12:34:15.3797492Z), more than datetime keeps.
# ASCII digits only (\d would take any script's), and the whole string (fullmatch: `$` would let
# a trailing newline through, into the stored event_timestamp).
_TIMESTAMP = re.compile(
    r"(?P<seconds>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.(?P<fraction>[0-9]{1,9}))?"
    r"(?P<offset>Z|[+-][0-9]{2}:[0-9]{2})"
)


def _check_timestamp(value: str) -> str:
    parse_event_timestamp(value)
    return value


def parse_event_timestamp(value: str) -> datetime:
    """Read an ISO 8601 timestamp with up to 9 fractional digits; it must carry its offset."""
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise ValueError("must be an ISO 8601 timestamp with an offset, e.g. 2022-03-22T12:34:15.3797492Z")
    fraction = (match["fraction"] or "").ljust(6, "0")[:6]
    offset = "+00:00" if match["offset"] == "Z" else match["offset"]
    try:
        moment = datetime.fromisoformat(f"{match['seconds']}.{fraction}{offset}")
    except ValueError as error:
        raise ValueError(f"is not a valid date and time: {error}") from None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # Year 1 with a positive offset, or year 9999 with a negative one: valid ISO 8601, but in
        # UTC it leaves the years 1 to 9999 that datetime (and the stored occurred_at) can hold.
        raise ValueError("is out of range: in UTC it falls outside the years 0001 to 9999") from None


class ClassBookingData(BaseModel):
    """The class booking the event is about; the same shape for every type. Only the ids are required."""

    model_config = ConfigDict(extra="allow", frozen=True)

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


class ClassBookingEvent(BaseModel):
    """One webhook body of the Class booking family."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: ZenotiId
    event_id: ZenotiId
    event_type: ClassBookingEventType
    event_timestamp: Annotated[StrictStr, AfterValidator(_check_timestamp)]
    # "v1" is the only schema Zenoti has published; a new one may change what the fields mean.
    event_schema: Literal["v1"]
    event_resource: Literal["Class"]
    data: ClassBookingData

    @property
    def occurred_at(self) -> datetime:
        """When Zenoti says the booking changed, in UTC (to the microsecond)."""
        return parse_event_timestamp(self.event_timestamp)
