"""From the bytes API Gateway hands over to an event, with the status of each failure."""

from __future__ import annotations

import base64
import json

import pytest

from zenoti_receiver.errors import InvalidEvent, MalformedBody, PayloadTooLarge
from zenoti_receiver.logic.parsing import MAX_BODY_BYTES, parse_booking_deleted, read_body, received_bytes


def test_plain_body_is_returned_as_is(raw_payload):
    assert read_body(raw_payload, is_base64=False) == raw_payload


def test_base64_body_is_decoded(raw_payload):
    assert read_body(base64.b64encode(raw_payload.encode()).decode(), is_base64=True) == raw_payload


@pytest.mark.parametrize(
    ("body", "is_base64", "error"),
    [
        (None, False, MalformedBody),
        ("", False, MalformedBody),
        ("{not base64!}", True, MalformedBody),
        (base64.b64encode(b"\xff\xfe{}").decode(), True, MalformedBody),
        ("\ud800", False, MalformedBody),
        ("x" * (MAX_BODY_BYTES + 1), False, PayloadTooLarge),
        (base64.b64encode(b"x" * (MAX_BODY_BYTES + 1)).decode(), True, PayloadTooLarge),
        ("é" * (MAX_BODY_BYTES // 2 + 1), False, PayloadTooLarge),
    ],
)
def test_unreadable_bodies_are_refused(body, is_base64, error):
    with pytest.raises(error):
        read_body(body, is_base64)


@pytest.mark.parametrize("body", [42, 4.2, True, b"{}", ["{}"], {"event_id": "x"}])
def test_a_body_that_is_not_text_is_malformed_not_a_crash(body):
    with pytest.raises(MalformedBody, match="not text"):
        read_body(body, is_base64=False)
    with pytest.raises(MalformedBody, match="not text"):
        read_body(body, is_base64=True)
    assert received_bytes(body, is_base64=False) == b""  # what the quarantine keeps: nothing readable came


def test_a_body_at_the_limit_is_read():
    assert len(read_body("x" * MAX_BODY_BYTES, is_base64=False)) == MAX_BODY_BYTES


def test_the_limit_leaves_room_for_sns_message_attributes():
    assert MAX_BODY_BYTES <= 256 * 1024 - 512


def test_not_json_is_malformed_with_the_parser_message():
    with pytest.raises(MalformedBody, match="not valid JSON") as raised:
        parse_booking_deleted('{"event_id": ')

    assert raised.value.status == 400


def test_wrong_json_lists_every_field_error(raw_payload):
    payload = json.loads(raw_payload)
    payload["data"]["guest_id"] = "nope"
    del payload["event_type"]

    with pytest.raises(InvalidEvent) as raised:
        parse_booking_deleted(json.dumps(payload))

    assert raised.value.status == 422
    assert {error["field"] for error in raised.value.errors} == {"event_type", "data.guest_id"}
    assert all(set(error) == {"field", "message", "type"} for error in raised.value.errors)


def test_field_errors_do_not_echo_the_rejected_values(raw_payload):
    payload = json.loads(raw_payload)
    payload["data"]["guest_id"] = "guest-secret-value"

    with pytest.raises(InvalidEvent) as raised:
        parse_booking_deleted(json.dumps(payload))

    assert "guest-secret-value" not in json.dumps(raised.value.errors)


def test_a_list_is_an_invalid_event_about_the_whole_body():
    with pytest.raises(InvalidEvent) as raised:
        parse_booking_deleted("[]")

    assert raised.value.errors[0]["field"] == "(body)"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_numbers_are_refused_so_subscribers_can_parse_every_message(raw_payload, constant):
    payload = raw_payload.replace('"add_to_all": null', f'"add_to_all": {constant}')

    with pytest.raises(MalformedBody, match=f"{constant} is not a JSON number"):
        parse_booking_deleted(payload)


def test_the_same_words_inside_strings_are_fine(raw_payload):
    payload = raw_payload.replace('"booking_source": null', '"booking_source": "NaN Infinity"')

    assert parse_booking_deleted(payload).data.booking_source == "NaN Infinity"


def test_deeply_nested_body_with_those_words_is_a_400_not_a_crash():
    with pytest.raises(MalformedBody):
        parse_booking_deleted("[" * 100_000 + "NaN" + "]" * 100_000)
