"""The Class.Booking.Deleted webhook body, as Zenoti publishes it.

Strict where a wrong value would corrupt what we store or how subscribers find it (the identity
fields); lenient everywhere else, because Zenoti adds fields over time, leaves many of them
`null`, and does not document their types. Unknown fields are accepted and kept.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr

EVENT_TYPE = "Class.Booking.Deleted"

# Zenoti's ids look like 24 hex digits (Mongo ObjectIds); accept any short, printable token so a
# format change on their side does not start rejecting events, but nothing that could smuggle
# control characters into keys or log lines.
ZenotiId = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]

# Positive integers that fit DynamoDB and every subscriber's 64-bit integers.
NumericId = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]

# The one spelling Zenoti sends (lower-case, hyphenated). Python's UUID also reads upper case,
# braces, "urn:uuid:" and no hyphens, and we would store the canonical form while subscribers get
# the body verbatim: the text they match on must be the text we index and filter on.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _canonical_uuid(value: object) -> object:
    if isinstance(value, str) and _CANONICAL_UUID.fullmatch(value) is None:
        raise ValueError("must be a UUID in its canonical form: lower-case, hyphenated 8-4-4-4-12 hex digits")
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


class BookingDeletedData(BaseModel):
    """The booking that was deleted. Only the ids are required."""

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


class BookingDeletedEvent(BaseModel):
    """One Class.Booking.Deleted webhook body."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: ZenotiId
    event_id: ZenotiId
    event_type: Literal["Class.Booking.Deleted"]
    event_timestamp: Annotated[StrictStr, AfterValidator(_check_timestamp)]
    # "v1" is the only schema Zenoti has published; a new one may change what the fields mean.
    event_schema: Literal["v1"]
    event_resource: Literal["Class"]
    data: BookingDeletedData

    @property
    def occurred_at(self) -> datetime:
        """When Zenoti says the deletion happened, in UTC (to the microsecond)."""
        return parse_event_timestamp(self.event_timestamp)
