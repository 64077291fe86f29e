"""The whole Class booking family on one URL, and what Zenoti really sends: each answered 2xx, stored or held.

The variants are the issue's list (issue 19): sibling types, GUIDs in upper case, a byte order mark,
another schema version, a timestamp without its offset, an id as text, a class with hundreds of
virtual guests, and a second body under a stored event_id.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from devtools.bench.write_units import item_size
from devtools.local_stack.resources import local_stack_name
from tests.conftest import Stack, with_body, with_payload
from tests.integration.test_handler import emitted_metrics
from zenoti_receiver.adapters.event_table import stored_payload
from zenoti_receiver.adapters.held_bodies import held_body
from zenoti_receiver.logic.parsing import MAX_BODY_BYTES
from zenoti_receiver.models.class_booking import EVENT_TYPES

SAMPLE_EVENT_ID = "6239c247a961750e01dda051"
CENTER_ID = "e1693623-bda5-4b3e-a2a7-611ea4f1f7ad"

# One virtual guest, as Zenoti's Approved sample shows it (../shared/zenoti/samples): a guest's name,
# e-mail and phone, its GUID in upper case.
VIRTUAL_GUEST: dict[str, Any] = {
    "guest_id": "43FAE108-E5CB-4CE0-8A73-87995DBEEF87",
    "registration_id": 43986,
    "first_name": "test",
    "last_name": "lastname",
    "email": "test@email.com",
    "mobile_phone": {"country_code": 91, "number": 7653467398},
    "gender": 1,
}


def event_of(raw_payload: str, event_type: str, event_id: str) -> dict[str, Any]:
    payload = json.loads(raw_payload)
    payload.update(event_type=event_type, event_id=event_id)
    return payload


def published_types(stack: Stack) -> dict[str, str]:
    """event_id -> the event_type attribute of each message the subscriber received."""
    found = {}
    while batch := stack.messages():
        for message in batch:
            found[json.loads(message["Message"])["event_id"]] = message["MessageAttributes"]["event_type"]["Value"]
    return found


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_each_member_is_stored_once_and_published_once_with_its_type(
    invoke, stack: Stack, api_event, raw_payload, event_type
):
    event = with_payload(api_event, event_of(raw_payload, event_type, "family-1"))

    first, again = invoke(event), invoke(event)

    assert (first.status, first.body["status"], first.body["event_type"]) == (200, "accepted", event_type)
    assert (again.status, again.body["status"], again.body["event_type"]) == (200, "duplicate", event_type)
    [item] = stack.items()
    assert item["event_type"] == {"S": event_type}
    assert published_types(stack) == {"family-1": event_type}


def test_the_six_types_interleaved_on_one_url_are_each_stored_and_published_once(
    invoke, stack: Stack, api_event, raw_payload
):
    deliveries = [
        with_payload(api_event, event_of(raw_payload, event_type, f"{event_type}-{round_}"))
        for round_ in range(3)
        for event_type in EVENT_TYPES
    ]
    answers = [invoke(event) for event in deliveries + deliveries[::-1]]  # every one delivered twice

    assert [answer.status for answer in answers] == [200] * 36
    assert [answer.body["status"] for answer in answers] == ["accepted"] * 18 + ["duplicate"] * 18
    stored = {item["event_id"]["S"]: item["event_type"]["S"] for item in stack.items()}
    expected = {f"{event_type}-{round_}": event_type for round_ in range(3) for event_type in EVENT_TYPES}
    assert stored == expected
    assert published_types(stack) == expected


def test_guids_in_upper_case_are_accepted_with_lower_case_keys_and_the_body_verbatim(
    invoke, stack: Stack, api_event, raw_payload
):
    body = raw_payload.replace(CENTER_ID, CENTER_ID.upper()).replace(
        "ef44e802-505c-4129-9744-0978c094c8f2", "EF44E802-505C-4129-9744-0978C094C8F2"
    )

    response = invoke(with_body(api_event, body))

    assert (response.status, response.body["status"]) == (200, "accepted")
    [item] = stack.items()
    assert (item["center_id"], item["guest_id"]) == ({"S": CENTER_ID}, {"S": "ef44e802-505c-4129-9744-0978c094c8f2"})
    assert stored_payload(item) == body
    [message] = stack.messages()
    assert message["Message"] == body  # verbatim, upper case and all
    assert message["MessageAttributes"]["center_id"]["Value"] == CENTER_ID  # what subscribers filter on


def test_a_byte_order_mark_is_ignored(invoke, stack: Stack, api_event, raw_payload):
    response = invoke(with_body(api_event, "\ufeff" + raw_payload))

    assert (response.status, response.body["status"]) == (200, "accepted")
    [item] = stack.items()
    assert stored_payload(item) == raw_payload
    assert [message["Message"] for message in stack.messages()] == [raw_payload]
    assert stack.held_bodies() == []


def a_class_of(guests: int, raw_payload: str) -> str:
    """The sample, pretty-printed like it, with that many virtual guests, each a different person."""
    payload = json.loads(raw_payload)
    payload["event_type"] = "Class.Booking.Approved"
    payload["data"]["training_virtual_guests"] = [
        {
            **copy.deepcopy(VIRTUAL_GUEST),
            "guest_id": f"43FAE108-E5CB-4CE0-8A73-{number:012X}",
            "registration_id": 43986 + number,
            "first_name": f"Firstname{number}",
            "last_name": f"Lastname-Of-Guest-{number}",
            "email": f"firstname{number}.lastname-of-guest-{number}@example-company.com",
            "mobile_phone": {"country_code": 91, "number": 7653467398 + number},
        }
        for number in range(guests)
    ]
    return json.dumps(payload, indent=2) + "\n"


def test_a_class_of_400_virtual_guests_is_accepted_stored_and_published(invoke, stack: Stack, api_event, raw_payload):
    body = a_class_of(400, raw_payload)
    assert 100_000 < len(body.encode()) < MAX_BODY_BYTES

    response = invoke(with_body(api_event, body))

    assert (response.status, response.body["status"]) == (200, "accepted")
    [item] = stack.items()
    assert stored_payload(item) == body
    assert len(item["payload_zlib"]["B"]) < len(body.encode()) / 5
    [message] = stack.messages()
    assert message["Message"] == body


def test_the_largest_class_that_fits_is_still_accepted(invoke, stack: Stack, api_event, raw_payload):
    guests = 400
    while len(a_class_of(guests + 50, raw_payload).encode()) <= MAX_BODY_BYTES:
        guests += 50

    assert guests >= 600  # a few hundred, with room to spare
    assert invoke(with_body(api_event, a_class_of(guests, raw_payload))).status == 200
    assert invoke(with_body(api_event, a_class_of(guests + 50, raw_payload))).status == 413


# --- Held: answered 202, kept, counted, never published -------------------------------------------


def held_variants(raw_payload: str) -> dict[str, tuple[str | bytes, str]]:
    """Name -> (body, the reason it is held)."""
    sample = json.loads(raw_payload)

    def changed(**top: Any) -> str:
        return json.dumps({**sample, **top}, ensure_ascii=False)

    def changed_data(**fields: Any) -> str:
        return changed(data={**sample["data"], **fields})

    return {
        "not JSON": ('{"event_id": ', "malformed_body"),
        "a key twice": (raw_payload.rstrip()[:-1] + ', "event_id": "again"}', "malformed_body"),
        "not UTF-8": (raw_payload.encode().replace(b"v1", b"v\xff"), "malformed_body"),
        "schema version v2": (changed(event_schema="v2"), "invalid_event"),
        "timestamp without offset": (changed(event_timestamp="2022-03-22T12:34:15.3797492"), "invalid_event"),
        "registration_id as text": (changed_data(registration_id="119986"), "invalid_event"),
        "an event type of another family": (changed(event_type="Class.Schedule.Created"), "invalid_event"),
        "U+FFFF in a field": (changed_data(booking_source="a\uffffb"), "undeliverable"),
        "a number beyond a double": (raw_payload.rstrip()[:-1] + ', "big": 1e400}', "undeliverable"),
        "nested 65 deep": (changed(deep=json.loads("[" * 64 + "]" * 64)), "undeliverable"),  # the body is 1
    }


VARIANTS = list(held_variants(json.dumps({"data": {}})))


@pytest.mark.parametrize("name", VARIANTS)
def test_each_variant_is_answered_202_held_and_never_published(invoke, stack: Stack, api_event, raw_payload, name):
    body, reason = held_variants(raw_payload)[name]
    event = with_body(api_event, body, base64_encoded=isinstance(body, bytes))

    response = invoke(event)

    assert response.status == 202
    assert (response.body["status"], response.body["reason"]) == ("held", reason)
    assert response.body["message"]
    assert stack.items() == []
    assert stack.messages() == []
    [entry] = stack.held_bodies()
    assert held_body(entry) == (body if isinstance(body, bytes) else body.encode())
    assert entry["reason"] == {"S": reason}


def test_a_conflicting_duplicate_is_answered_duplicate_held_apart_and_the_first_stays(
    invoke, stack: Stack, api_event, raw_payload, capsys
):
    assert invoke(api_event).body["status"] == "accepted"
    forged = json.loads(raw_payload)
    forged["data"]["guest_id"] = "00000000-0000-4000-8000-000000000000"
    forged_body = json.dumps(forged)
    assert len(stack.messages()) == 1
    capsys.readouterr()

    response = invoke(with_body(api_event, forged_body))

    assert response.status == 200  # Zenoti is done with it
    assert response.body == {
        "status": "duplicate",
        "event_id": SAMPLE_EVENT_ID,
        "event_type": "Class.Booking.Deleted",
        "reason": "conflicting_duplicate",
        "message": f"event_id {SAMPLE_EVENT_ID} is already stored with another body: "
        "the stored one stays the event of record, this one is held",
    }
    [item] = stack.items()
    assert stored_payload(item) == raw_payload  # the first stays the event of record
    assert stack.messages() == []  # nothing more is published
    [entry] = stack.held_bodies()
    assert held_body(entry) == forged_body.encode()
    assert (entry["reason"], entry["event_id"]) == ({"S": "conflicting_duplicate"}, {"S": SAMPLE_EVENT_ID})
    # Counted as a duplicate and as held (HeldBodiesAlarm).
    emitted = emitted_metrics(capsys.readouterr().out)
    assert ("EventsHeld", {"service": local_stack_name()}) in emitted
    assert ("EventsHeld", {"service": local_stack_name(), "reason": "conflicting_duplicate"}) in emitted
    assert ("EventsDuplicate", {"service": local_stack_name()}) in emitted

    # Sent again (Zenoti's retry of it), it is still the same held entry, counted.
    assert invoke(with_body(api_event, forged_body)).body["reason"] == "conflicting_duplicate"
    [entry] = stack.held_bodies()
    assert entry["deliveries"] == {"N": "2"}
    # The first body, sent again, is a plain duplicate.
    assert "reason" not in invoke(api_event).body


# --- Header names, never values --------------------------------------------------------------------

CANARY = "canary-header-value-5d1e"


def test_header_names_are_stored_and_no_header_value_is_stored_or_logged(
    invoke, stack: Stack, api_event, raw_payload, log_stream, capsys
):
    api_event["headers"]["x-zenoti-signature"] = CANARY
    api_event["headers"]["X-Mixed-Case"] = CANARY
    api_event["headers"]["bad name\n"] = CANARY  # not a header name: not recorded
    held = with_body(api_event, '{"event_id": ')

    assert invoke(api_event).status == 200
    assert invoke(held).status == 202

    [item] = stack.items()
    names = [name["S"] for name in item["header_names"]["L"]]
    assert names == [
        "accept-encoding", "content-length", "content-type", "host", "user-agent", "x-mixed-case",
        "x-zenoti-signature",
    ]  # fmt: skip
    [entry] = stack.held_bodies()
    assert [name["S"] for name in entry["header_names"]["L"]] == names
    everything = json.dumps([stack.items(), stack.held_bodies(), stack.messages()], default=str)
    assert CANARY not in everything
    assert CANARY not in log_stream.getvalue()
    assert CANARY not in capsys.readouterr().out


def test_the_item_of_the_sample_stays_under_one_kilobyte_with_its_header_names(invoke, stack: Stack, api_event):
    invoke(api_event)

    [item] = stack.items()
    assert item_size(item) < 1024  # one write unit for each write of it
