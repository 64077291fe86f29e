"""The model: strict on identity fields, lenient on the rest, unknown fields kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

import pytest
from pydantic import ValidationError

from zenoti_receiver.models.class_booking import EVENT_TYPES, ClassBookingEvent, parse_event_timestamp


@pytest.fixture
def sample(raw_payload: str) -> dict:
    return json.loads(raw_payload)


def test_zenoti_sample_parses(sample):
    event = ClassBookingEvent.model_validate(sample)

    assert event.event_id == "6239c247a961750e01dda051"
    assert event.data.center_id == UUID("e1693623-bda5-4b3e-a2a7-611ea4f1f7ad")
    assert event.data.registration_id == 119986
    assert event.data.track_id == -1


def test_seven_fractional_digits_parse_and_the_original_string_is_kept(sample):
    event = ClassBookingEvent.model_validate(sample)

    assert event.event_timestamp == "2022-03-22T12:34:15.3797492Z"
    assert event.occurred_at == datetime(2022, 3, 22, 12, 34, 15, 379749, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-03-22T12:34:15Z", datetime(2022, 3, 22, 12, 34, 15, tzinfo=UTC)),
        ("2022-03-22T12:34:15.1Z", datetime(2022, 3, 22, 12, 34, 15, 100000, tzinfo=UTC)),
        ("2022-03-22T14:34:15.123456789+02:00", datetime(2022, 3, 22, 12, 34, 15, 123456, tzinfo=UTC)),
    ],
)
def test_timestamps_are_read_in_utc(text, expected):
    assert parse_event_timestamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2022-03-22T12:34:15",
        "2022-03-22 12:34:15Z",
        "2022-13-22T12:34:15Z",
        "yesterday",
        "2022-03-22T12:34:15.Z",
        "2022-03-22T12:34:15Z\n",  # would be stored and published with its newline
        "\u0662\u0660\u0662\u0662-03-22T12:34:15Z",  # Arabic-Indic digits are digits to \\d, not to ISO 8601
        "2022-03-22T12:34:15.\uff11Z",
    ],
)
def test_timestamps_without_offset_or_invalid_are_refused(sample, text):
    sample["event_timestamp"] = text

    with pytest.raises(ValidationError) as raised:
        ClassBookingEvent.model_validate(sample)

    assert [error["loc"] for error in raised.value.errors()] == [("event_timestamp",)]
    assert raised.value.errors()[0]["msg"].isascii()  # the answer and the log line do not echo the value


def test_null_and_absent_lenient_fields_are_accepted(sample):
    for name in ("workshop_id", "waitlist", "booking_source", "is_recurring", "guest_registration_ids"):
        del sample["data"][name]
    sample["data"]["track_id"] = None
    sample["data"]["recurrence_registration_ids"] = [1, 2, 3]

    event = ClassBookingEvent.model_validate(sample)

    assert event.data.workshop_id is None
    assert event.data.recurrence_registration_ids == [1, 2, 3]


def test_unknown_fields_are_kept(sample):
    sample["tenant"] = "spa-42"
    sample["data"]["room"] = {"id": 7}

    event = ClassBookingEvent.model_validate(sample)

    assert event.model_extra == {"tenant": "spa-42"}
    assert event.data.model_extra == {"room": {"id": 7}}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("id",), None),
        (("id",), 123),
        (("event_id",), ""),
        (("event_id",), "has spaces"),
        (("event_id",), "x" * 129),
        (("event_type",), "Class.Booking.Updated"),
        (("event_type",), "Class.Schedule.Created"),
        (("event_schema",), "v2"),
        (("event_resource",), "Appointment"),
        (("event_timestamp",), 1647952455),
        (("data", "registration_id"), "119986"),
        (("data", "registration_id"), None),
        (("data", "registration_id"), True),
        (("data", "registration_id"), 0),
        (("data", "registration_id"), 2**63),
        (("data", "class_id"), 1.5),
        (("data", "session_id"), None),
        (("data", "center_id"), "e1693623"),
        (("data", "guest_id"), None),
        (("data", "guest_id"), 42),
    ],
)
def test_identity_fields_are_strict(sample, path, value):
    target = sample
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value

    with pytest.raises(ValidationError) as raised:
        ClassBookingEvent.model_validate(sample)

    assert raised.value.errors()[0]["loc"] == path


@pytest.mark.parametrize("field", ["id", "event_id", "event_type", "event_timestamp", "data"])
def test_required_fields_must_be_present(sample, field):
    del sample[field]

    with pytest.raises(ValidationError) as raised:
        ClassBookingEvent.model_validate(sample)

    assert raised.value.errors()[0]["type"] == "missing"


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+00:01",  # one minute before year 1 in UTC
        "0001-01-01T05:00:00.1234567+14:00",
        "9999-12-31T23:59:59.9999999-00:01",  # one minute into year 10000 in UTC
        "9999-12-31T12:00:00-12:00",
    ],
)
def test_a_timestamp_whose_utc_time_python_cannot_hold_is_a_field_error(sample, text):
    sample["event_timestamp"] = text

    with pytest.raises(ValidationError) as raised:
        ClassBookingEvent.model_validate(sample)

    [error] = raised.value.errors()
    assert error["loc"] == ("event_timestamp",)
    assert "range" in error["msg"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
        ("0001-01-01T00:00:00-14:00", datetime(1, 1, 1, 14, tzinfo=UTC)),
        ("9999-12-31T23:59:59.9999999Z", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("9999-12-31T23:59:59+23:59", datetime(9999, 12, 31, 0, 0, 59, tzinfo=UTC)),
    ],
)
def test_the_edges_of_the_range_are_still_read(text, expected):
    assert parse_event_timestamp(text) == expected


CENTER = "e1693623-bda5-4b3e-a2a7-611ea4f1f7ad"  # the sample's, as Zenoti spells every UUID


@pytest.mark.parametrize(
    "spelling",
    [
        "{" + CENTER + "}",
        "urn:uuid:" + CENTER,
        CENTER.replace("-", ""),
        " " + CENTER,
        CENTER + "\n",
        "e1693623-bda5-4b3e-a2a7-611ea4f1f7a\u0660",  # an Arabic-Indic zero
        "e1693623-bda5-4b3e-a2a7-611ea4f1f7at",  # Zenoti's Approved sample has a typo like this
    ],
)
@pytest.mark.parametrize("field", ["center_id", "guest_id"])
def test_uuids_not_written_as_hyphenated_hex_are_refused(sample, spelling, field):
    sample["data"][field] = spelling

    with pytest.raises(ValidationError) as raised:
        ClassBookingEvent.model_validate(sample)

    [error] = raised.value.errors()
    assert error["loc"] == ("data", field)
    assert "8-4-4-4-12" in error["msg"]


@pytest.mark.parametrize("spelling", [CENTER.upper(), "E1693623-bda5-4B3E-a2a7-611ea4f1f7AD"])
@pytest.mark.parametrize("field", ["center_id", "guest_id"])
def test_a_uuid_in_any_case_is_read_as_its_canonical_lower_case(sample, spelling, field):
    sample["data"][field] = spelling

    event = ClassBookingEvent.model_validate(sample)

    # Keys, indexes and message attributes use this text: subscribers filter on one spelling.
    assert str(getattr(event.data, field)) == CENTER


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_member_of_the_family_is_one_model(sample, event_type):
    sample["event_type"] = event_type

    assert ClassBookingEvent.model_validate(sample).event_type == event_type


def test_the_family_is_the_six_booking_types_zenoti_publishes():
    assert sorted(EVENT_TYPES) == sorted(
        f"Class.Booking.{name}" for name in ("Created", "Cancelled", "Deleted", "Approved", "NoShow", "Rejected")
    )


@pytest.mark.parametrize(
    "spelling", [CENTER, "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"]
)
def test_a_canonical_uuid_is_read_and_stored_as_sent(sample, spelling):
    sample["data"]["center_id"] = spelling

    event = ClassBookingEvent.model_validate(sample)

    assert str(event.data.center_id) == spelling  # what we index and filter on is what subscribers read
