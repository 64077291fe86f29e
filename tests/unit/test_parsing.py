"""From the bytes API Gateway hands over to an event, or why the body is held (or refused) instead."""

from __future__ import annotations

import base64
import json

import pytest

from zenoti_receiver.errors import BodyHeld, InvalidEvent, MalformedBody, PayloadTooLarge, Undeliverable
from zenoti_receiver.logic.parsing import (
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_SAFE_INTEGER,
    parse_event,
    read_body,
    received_bytes,
)


def test_plain_body_is_returned_as_is(raw_payload):
    assert read_body(raw_payload, is_base64=False) == raw_payload


def test_base64_body_is_decoded(raw_payload):
    assert read_body(base64.b64encode(raw_payload.encode()).decode(), is_base64=True) == raw_payload


@pytest.mark.parametrize(
    ("body", "is_base64", "error"),
    [
        (None, False, MalformedBody),
        ("{not base64!}", True, MalformedBody),
        (base64.b64encode(b"\xff\xfe{}").decode(), True, MalformedBody),
        ("\ud800", False, MalformedBody),
        ("x" * (MAX_BODY_BYTES + 1), False, PayloadTooLarge),
        (base64.b64encode(b"x" * (MAX_BODY_BYTES + 1)).decode(), True, PayloadTooLarge),
        ("é" * (MAX_BODY_BYTES // 2 + 1), False, PayloadTooLarge),
    ],
)
def test_unreadable_bodies_are_held_and_too_large_ones_refused(body, is_base64, error):
    with pytest.raises(error):
        read_body(body, is_base64)


@pytest.mark.parametrize("body", [42, 4.2, True, b"{}", ["{}"], {"event_id": "x"}])
def test_a_body_that_is_not_text_is_malformed_not_a_crash(body):
    with pytest.raises(MalformedBody, match="not text"):
        read_body(body, is_base64=False)
    with pytest.raises(MalformedBody, match="not text"):
        read_body(body, is_base64=True)
    assert received_bytes(body, is_base64=False) == b""  # what the held body keeps: nothing readable came


def test_a_body_at_the_limit_is_read():
    assert len(read_body("x" * MAX_BODY_BYTES, is_base64=False)) == MAX_BODY_BYTES


def test_the_limit_leaves_room_for_sns_message_attributes():
    # What SNS counts: the body, and each attribute's name, type and value (replay's included).
    longest = {"event_type": "Class.Booking.Cancelled", "event_resource": "Class", "center_id": "0" * 36}
    attributes = sum(len(name) + len("String") + len(value) for name, value in {**longest, "replay": "true"}.items())
    assert MAX_BODY_BYTES + attributes <= 256 * 1024
    assert MAX_BODY_BYTES == 255 * 1024


def test_a_byte_order_mark_is_ignored(raw_payload):
    assert read_body("\ufeff" + raw_payload, is_base64=False) == raw_payload
    assert read_body(base64.b64encode(b"\xef\xbb\xbf" + raw_payload.encode()).decode(), is_base64=True) == raw_payload


def test_only_one_byte_order_mark_is_ignored():
    with pytest.raises(MalformedBody, match="not valid JSON"):
        parse_event(read_body("\ufeff\ufeff{}", is_base64=False))


def test_not_json_is_malformed_with_the_parser_message():
    with pytest.raises(MalformedBody, match="not valid JSON") as raised:
        parse_event('{"event_id": ')

    assert raised.value.reason == "malformed_body"


def test_wrong_json_lists_every_field_error(raw_payload):
    payload = json.loads(raw_payload)
    payload["data"]["guest_id"] = "nope"
    payload["event_resource"] = "Guest"

    with pytest.raises(InvalidEvent) as raised:
        parse_event(json.dumps(payload))

    assert raised.value.reason == "invalid_event"
    assert "Class.Booking.Deleted" in raised.value.message
    assert {error["field"] for error in raised.value.errors} == {"event_resource", "data.guest_id"}
    assert all(set(error) == {"field", "message", "type"} for error in raised.value.errors)


@pytest.mark.parametrize(
    ("event_type", "error_type"),
    [(None, "missing"), ("Class.Booking.Moved", "unknown_event_type"), (["Class.Booking.Deleted"], "string_type")],
)
def test_without_a_known_type_the_envelope_is_still_checked(raw_payload, event_type, error_type):
    payload = json.loads(raw_payload)
    payload["event_schema"] = "v2"
    del payload["event_type"]
    if event_type is not None:
        payload["event_type"] = event_type

    with pytest.raises(InvalidEvent) as raised:
        parse_event(json.dumps(payload))

    assert raised.value.reason == "invalid_event"
    assert [(error["field"], error["type"]) for error in raised.value.errors] == [
        ("event_type", error_type),
        ("event_schema", "literal_error"),
    ]
    assert "Moved" not in json.dumps(raised.value.errors)  # what was sent is not echoed


def test_field_errors_do_not_echo_the_rejected_values(raw_payload):
    payload = json.loads(raw_payload)
    payload["data"]["guest_id"] = "guest-secret-value"

    with pytest.raises(InvalidEvent) as raised:
        parse_event(json.dumps(payload))

    assert "guest-secret-value" not in json.dumps(raised.value.errors)


def test_a_list_is_an_invalid_event_about_the_whole_body():
    with pytest.raises(InvalidEvent) as raised:
        parse_event("[]")

    assert raised.value.errors[0]["field"] == "(body)"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_numbers_are_refused_so_subscribers_can_parse_every_message(raw_payload, constant):
    payload = raw_payload.replace('"add_to_all": null', f'"add_to_all": {constant}')

    with pytest.raises(MalformedBody, match=f"{constant} is not a JSON number"):
        parse_event(payload)


def test_the_same_words_inside_strings_are_fine(raw_payload):
    payload = raw_payload.replace('"booking_source": null', '"booking_source": "NaN Infinity"')

    assert parse_event(payload).data.booking_source == "NaN Infinity"


def test_deeply_nested_body_with_those_words_is_held_not_a_crash():
    with pytest.raises(BodyHeld):
        parse_event("[" * 100_000 + "NaN" + "]" * 100_000)


# --- Bodies that parsers read differently: refused, so subscribers read the event we stored ------


def with_member(raw_payload: str, member: str, *, in_data: bool = False) -> str:
    """The sample's own text with one more member, at the top or in data, after the others."""
    if in_data:
        return raw_payload.replace('"guest_registration_ids": null', f'"guest_registration_ids": null, {member}')
    return raw_payload.rstrip()[:-1] + f", {member}}}"


@pytest.mark.parametrize(
    ("member", "in_data", "named"),
    [
        ('"event_id": "another-event"', False, '"event_id"'),
        ('"event_type": "Class.Booking.Deleted"', False, '"event_type"'),  # even repeated with the same value
        ('"guest_id": "00000000-0000-4000-8000-000000000000"', True, '"guest_id"'),
        ('"waitlist": true', True, '"waitlist"'),  # a field we do not validate: subscribers may read it
        ('"event\\u005fid": "another-event"', False, '"event_id"'),  # equal once the escape is read
        ('"\\u0000x": 1, "\\u0000x": 2', False, "a key"),
    ],
)
def test_a_key_twice_in_one_object_is_refused(raw_payload, member, in_data, named):
    with pytest.raises(MalformedBody) as raised:
        parse_event(with_member(raw_payload, member, in_data=in_data))

    assert raised.value.reason == "malformed_body"
    assert raised.value.message == (
        f"body has {'the key ' if named != 'a key' else ''}{named} twice in one object: "
        "JSON parsers differ on which value counts"
    )


@pytest.mark.parametrize(
    ("member", "first", "second"),
    [
        ('"EVENT_ID": "another-event"', '"event_id"', '"EVENT_ID"'),
        ('"Guest_Id": "00000000-0000-4000-8000-000000000000"', '"guest_id"', '"Guest_Id"'),
    ],
)
def test_keys_that_differ_only_in_case_are_refused(raw_payload, member, first, second):
    in_data = "uest" in member
    with pytest.raises(MalformedBody) as raised:
        parse_event(with_member(raw_payload, member, in_data=in_data))

    assert raised.value.message == (
        f"body has the key {first} and the key {second} in one object: "
        "parsers that match keys ignoring case (Go's, .NET's) could read either"
    )


def test_case_folding_goes_beyond_ascii():
    with pytest.raises(MalformedBody, match="could read either"):
        parse_event('{"kelvin": 1, "\u212aelvin": 2}')  # KELVIN SIGN folds to k


def test_the_same_key_in_different_objects_is_fine(raw_payload):
    payload = with_member(raw_payload, '"center_id": "not ours", "room": {"event_id": 1, "Event": {"event_id": 2}}')

    event = parse_event(payload)

    assert event.model_extra == {"center_id": "not ours", "room": {"event_id": 1, "Event": {"event_id": 2}}}


def test_a_repeated_key_deep_inside_an_unknown_field_is_refused(raw_payload):
    with pytest.raises(MalformedBody, match='the key "a" twice'):
        parse_event(with_member(raw_payload, '"extra": [[{"b": {"a": 1, "a": 1}}]]'))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("\ufeff{}", "body is not valid JSON: Expecting value: line 1 column 1 (char 0)"),  # read_body removes it
        ('{"a": 1,}', "body is not valid JSON: Expecting property name enclosed in double quotes"),
        ('{"a": "\x01"}', "body is not valid JSON: Invalid control character at"),
    ],
)
def test_what_the_standard_parser_cannot_read_is_refused_as_not_json(body, message):
    with pytest.raises(MalformedBody) as raised:
        parse_event(body)

    assert raised.value.message.startswith(message)


# --- What subscribers cannot take: held as undeliverable, not published into subscriptions that drop it --


@pytest.mark.parametrize("character", ["\ufffe", "\uffff"])
def test_a_character_sqs_refuses_is_undeliverable(raw_payload, character):
    payload = raw_payload.replace('"booking_source": null', f'"booking_source": "a{character}b"')

    with pytest.raises(Undeliverable, match=f"U\\+{ord(character):04X} .* which SQS refuses"):
        parse_event(payload)


@pytest.mark.parametrize("text", ["\\uffff", "\\u0000", "\U0001f600", "\ufffd", "\u00e9\u4e2d", "\x7f"])
def test_what_sqs_takes_is_accepted(raw_payload, text):
    # An escape is six ASCII characters to SQS, whatever it stands for.
    payload = raw_payload.replace('"booking_source": null', f'"booking_source": "{text}"')

    assert parse_event(payload).event_id == "6239c247a961750e01dda051"


@pytest.mark.parametrize(
    "number",
    ["1" + "0" * 400 + ".5", "1e309", "-1.5e99999"],
)
def test_a_number_beyond_a_double_is_undeliverable(raw_payload, number):
    payload = raw_payload.replace('"booking_source": null', f'"booking_source": {number}')

    with pytest.raises(Undeliverable, match="beyond the range of a double"):
        parse_event(payload)


@pytest.mark.parametrize("number", ["1.7976931348623157e308", "-1e-400", "1e20", "9007199254740993.0"])
def test_a_real_number_within_a_double_is_accepted(raw_payload, number):
    # Written as a real number, it is read as one everywhere: no parser promises its digits.
    payload = raw_payload.replace('"booking_source": null', f'"booking_source": {number}')

    assert parse_event(payload).event_id == "6239c247a961750e01dda051"


BEYOND_SAFE = [
    str(MAX_SAFE_INTEGER + 1),
    str(-MAX_SAFE_INTEGER - 1),
    "9007199254740993",  # JavaScript reads 9007199254740992: another id
    "10000000000000000",
    str(2**63 - 1),
    str(2**64),
    "1" + "0" * 307,
    "-" + "9" * 309,
    "9" * 5000,  # past Python's own int() limit: never converted
]


@pytest.mark.parametrize("number", BEYOND_SAFE)
@pytest.mark.parametrize(
    "where",
    [
        pytest.param('"registration_id": 119986', id="an id"),
        pytest.param('"booking_source": null', id="an unknown field"),
        pytest.param('"training_virtual_guests": null', id="deep in a list"),
    ],
)
def test_an_integer_javascript_cannot_read_exactly_is_undeliverable_anywhere(raw_payload, number, where):
    value = {
        '"registration_id": 119986': f'"registration_id": {number}',
        '"booking_source": null': f'"booking_source": {number}',
        '"training_virtual_guests": null': f'"training_virtual_guests": [{{"ids": [1, {number}]}}]',
    }[where]
    payload = raw_payload.replace(where, value)
    assert payload != raw_payload

    with pytest.raises(Undeliverable, match=r"integer beyond 9007199254740991 \(2\^53 - 1\) in magnitude"):
        parse_event(payload)


@pytest.mark.parametrize("number", [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 1_000_000_000_000_000, 0, -1])
def test_an_integer_javascript_reads_exactly_is_accepted(raw_payload, number):
    payload = raw_payload.replace('"booking_source": null', f'"booking_source": {number}')

    assert parse_event(payload).data.booking_source == number


def test_an_id_at_javascripts_limit_is_an_event(raw_payload):
    payload = raw_payload.replace('"registration_id": 119986', f'"registration_id": {MAX_SAFE_INTEGER}')

    assert parse_event(payload).data.registration_id == MAX_SAFE_INTEGER


def nested_in_the_sample(raw_payload: str, depth: int, container: str) -> str:
    """The sample with arrays or objects nested `depth` levels deep in all (the body is level 1, data level 2)."""
    inner = depth - 2
    value = "[" * inner + "]" * inner if container == "array" else '{"a": ' * inner + "1" + "}" * inner
    return raw_payload.replace('"booking_source": null', f'"booking_source": {value}')


@pytest.mark.parametrize("container", ["array", "object"])
def test_nesting_deeper_than_64_is_undeliverable_and_64_is_not(raw_payload, container):
    assert parse_event(nested_in_the_sample(raw_payload, MAX_DEPTH, container)).event_id

    with pytest.raises(Undeliverable, match="nested deeper than 64 levels"):
        parse_event(nested_in_the_sample(raw_payload, MAX_DEPTH + 1, container))


def test_many_brackets_in_strings_and_flat_lists_are_not_depth(raw_payload):
    wide = json.dumps([[[]] for _ in range(100)])
    payload = raw_payload.replace('"booking_source": null', f'"booking_source": {wide}, "note": "{"[" * 100}"')

    assert parse_event(payload).event_id == "6239c247a961750e01dda051"


def test_nesting_beyond_what_the_parser_can_read_is_undeliverable():
    with pytest.raises(Undeliverable, match="nested deeper"):
        parse_event("[" * 2000 + "]" * 2000)


# --- A body dressed as SNS's envelope: a subscriber that tells the shapes apart by content reads its Message --


def dressed_as_sns(raw_payload: str, **fields: object) -> str:
    """Zenoti's sample with SNS's notification fields added at its top level."""
    event = json.loads(raw_payload)
    event.update(fields)
    return json.dumps(event)


SMUGGLED = json.dumps({"event_id": "never-stored", "event_type": "Class.Booking.Deleted"})


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param(
            {
                "Type": "Notification",
                "MessageId": "5b8a3f6e-2c1d-4e8f-9a7b-3c2d1e0f9a8b",
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:zenoti-events",
                "Message": SMUGGLED,
                "Timestamp": "2022-03-22T12:34:16.120Z",
                "SignatureVersion": "1",
                "Signature": "EXAMPLE",
                "SigningCertURL": "https://sns.us-east-1.amazonaws.com/cert.pem",
                "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                "MessageAttributes": {"replay": {"Type": "String", "Value": "true"}},
            },
            id="a whole notification",
        ),
        pytest.param({"Type": "Notification"}, id="Type alone"),
        pytest.param({"Message": SMUGGLED}, id="Message alone"),
        pytest.param({"TopicArn": "arn:aws:sns:us-east-1:123456789012:t"}, id="TopicArn alone"),
        pytest.param({"UnsubscribeUrl": "https://example.com"}, id="Powertools' spelling of UnsubscribeURL"),
        pytest.param(
            {"Type": "SubscriptionConfirmation", "SubscribeURL": "https://x", "Token": "t"}, id="a confirmation"
        ),
        pytest.param({"type": "Notification", "message": SMUGGLED}, id="lower case, as Go matches it"),
        pytest.param({"MESSAGEID": "m"}, id="upper case"),
    ],
)
def test_a_body_carrying_snss_envelope_fields_at_its_top_level_is_undeliverable(raw_payload, fields):
    with pytest.raises(Undeliverable, match="at its top level, a field of SNS's own envelope") as raised:
        parse_event(dressed_as_sns(raw_payload, **fields))

    assert "never-stored" not in raised.value.message


def test_the_field_named_is_the_first_and_the_message_says_why(raw_payload):
    with pytest.raises(Undeliverable) as raised:
        parse_event(dressed_as_sns(raw_payload, Type="Notification", TopicArn="arn"))

    assert raised.value.message.startswith('body has the key "Type" at its top level')
    assert "would read the event in its Message, which was never validated or stored" in raised.value.message


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"data": {"Type": "Notification", "Message": "x", "TopicArn": "arn"}}, id="SNS's names in data"),
        pytest.param({"note": {"Message": "x"}}, id="in an unknown field's object"),
        pytest.param({"message_id": "m", "topic": "t", "types": ["x"]}, id="names that only look alike"),
    ],
)
def test_snss_names_below_the_top_level_or_only_alike_are_not_the_envelope(raw_payload, fields):
    event = json.loads(raw_payload)
    if "data" in fields:
        event["data"].update(fields["data"])
    else:
        event.update(fields)

    assert parse_event(json.dumps(event)).event_id == "6239c247a961750e01dda051"
