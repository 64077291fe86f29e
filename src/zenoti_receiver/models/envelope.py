"""The envelope every Zenoti webhook body shares, the id and timestamp types its families reuse, and `ZenotiEvent`.

Strict where a wrong value would corrupt what we store or how subscribers find it (the identity
fields); lenient everywhere else, because Zenoti adds fields over time, leaves many of them `null`,
and does not document their types. Unknown fields are accepted and kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr

# Zenoti's ids look like 24 hex digits (Mongo ObjectIds); accept any short, printable token so a
# format change on their side does not start rejecting events, but nothing that could smuggle
# control characters into keys or log lines.
ZenotiId = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]

# Positive integers that every subscriber reads exactly: JavaScript's numbers stop at 2^53 - 1 (logic/parsing.py).
NumericId = Annotated[StrictInt, Field(ge=1, le=2**53 - 1)]

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

# Zenoti writes the all-zero GUID where an id has no value (an employee's `created_by`), as it writes
# "0001-01-01T00:00:00" (.NET's DateTime.MinValue) where a date has none; no date is read, only ids.
NO_ID = UUID(int=0)

# Zenoti sends 7 fractional digits (2022-03-22T12:34:15.3797492Z), more than datetime keeps.
# ASCII digits only (\d would take any script's), and the whole string (fullmatch: `$` would let
# a trailing newline through, into the stored event_timestamp).
_TIMESTAMP = re.compile(
    r"(?P<seconds>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.(?P<fraction>[0-9]{1,9}))?"
    r"(?P<offset>Z|[+-][0-9]{2}:[0-9]{2})?"
)


def parse_event_timestamp(value: str, *, without_offset_is_utc: bool = False) -> datetime:
    """Read an ISO 8601 timestamp with up to 9 fractional digits, in UTC.

    It must carry its offset, unless `without_offset_is_utc`: Zenoti documents the envelope's
    timestamp as UTC, so one written without an offset is read as UTC.
    """
    match = _TIMESTAMP.fullmatch(value)
    if match is None or (match["offset"] is None and not without_offset_is_utc):
        raise ValueError("must be an ISO 8601 timestamp with an offset, e.g. 2022-03-22T12:34:15.3797492Z")
    fraction = (match["fraction"] or "").ljust(6, "0")[:6]
    offset = "+00:00" if match["offset"] in (None, "Z") else match["offset"]
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


def _timestamp_in_utc(value: str) -> str:
    parse_event_timestamp(value, without_offset_is_utc=True)
    return value


def _timestamp_with_offset(value: str) -> str:
    parse_event_timestamp(value)
    return value


# The string is kept as sent (stored and published verbatim); occurred_at reads it.
EventTimestamp = Annotated[StrictStr, AfterValidator(_timestamp_in_utc)]
EventTimestampWithOffset = Annotated[StrictStr, AfterValidator(_timestamp_with_offset)]


def guid_text(value: UUID | None) -> str | None:
    """The canonical lower-case text of a GUID, or None when Zenoti sent none (null, absent, all zeros)."""
    return None if value is None or value == NO_ID else str(value)


def guid_text_of(value: object) -> str | None:
    """The canonical text of a value that should be a GUID in a field the model leaves untyped, or None."""
    if not isinstance(value, str) or _HYPHENATED_UUID.fullmatch(value) is None:
        return None
    return guid_text(UUID(value))


@dataclass(frozen=True)
class Person:
    """The guest or employee an event concerns: what `ops lookup` finds an event by."""

    kind: Literal["guest", "employee"]
    id: str  # canonical text: a GUID in lower case


def guest(value: UUID | None) -> Person | None:
    """The guest of that id, or None when Zenoti sent none."""
    text = guid_text(value)
    return None if text is None else Person("guest", text)


def employee(value: UUID | None) -> Person | None:
    """The employee of that id, or None when Zenoti sent none."""
    text = guid_text(value)
    return None if text is None else Person("employee", text)


class ZenotiData(BaseModel):
    """The resource an event is about, as `data`: the ids the family needs typed, any other field kept as sent."""

    model_config = ConfigDict(extra="allow", frozen=True)


class ZenotiEvent(BaseModel):
    """One webhook body: the envelope every family shares, with what the receiver stores and publishes of it.

    Each family's model narrows `event_type` to its types and `data` to its shape, and says where
    the resource's id, the center and the person the event concerns are.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    id: ZenotiId
    event_id: ZenotiId
    event_type: str
    event_timestamp: EventTimestamp
    # "v1" is the only schema Zenoti has published; a new one may change what the fields mean.
    event_schema: Literal["v1"]
    # Zenoti's own samples send null for some types (AppointmentGroup.Created, Guest.Membership.Created),
    # and the types whose names are inferred show none; kept as sent, and never needed to tell a type.
    event_resource: ZenotiId | None = None
    data: ZenotiData

    @property
    def occurred_at(self) -> datetime:
        """When Zenoti says the resource changed, in UTC (to the microsecond); without an offset, read as UTC."""
        return parse_event_timestamp(self.event_timestamp, without_offset_is_utc=True)

    @property
    def resource_id(self) -> str:
        """The id of the resource the event is about, as canonical text (a GUID in lower case)."""
        raise NotImplementedError

    @property
    def center_id(self) -> str | None:
        """The center the event belongs to, as canonical GUID text; None where the family or the body has none."""
        return None

    @property
    def person(self) -> Person | None:
        """The guest or employee the event concerns, where the family names one."""
        return None

    @property
    def message_attributes(self) -> dict[str, str]:
        """The message attributes the receiver publishes the event with, for filter policies (docs/contracts.md)."""
        # Only those with a value: SNS refuses an attribute without one, and a subscriber filtering on
        # center_id should not receive an event of no center (the all-zero GUID is none).
        named = {"event_type": self.event_type, "event_resource": self.event_resource, "center_id": self.center_id}
        return {name: value for name, value in named.items() if value is not None}
