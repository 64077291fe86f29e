"""Turning the bytes of a delivery into the event of its type (models/catalog.py), or saying why it is held instead."""

import base64
import binascii
import json
import math
import re
from collections import Counter
from typing import Any

from aws_lambda_powertools.utilities.parser import ValidationError, parse

from zenoti_receiver.errors import FieldError, InvalidEvent, MalformedBody, PayloadTooLarge, Undeliverable
from zenoti_receiver.models.catalog import family_of, model_for
from zenoti_receiver.models.envelope import ZenotiEvent

# The largest body the receiver takes: what it can publish, in one SNS message, and hold, compressed,
# in one DynamoDB item; anything larger is refused (413), since it could be neither.
# - SNS: a topic takes messages of 256 KiB (262,144 bytes), the message attributes included. Ours
#   (event_type, event_resource, center_id, and ops replay's replay) take at most 131 bytes of names,
#   types and values: 1 KiB is left for them, and the body may have the rest, 261,120 bytes.
# - DynamoDB: an item holds 400 KB. The events table and the held bodies keep the body zlib-compressed
#   (event_table.compressed): even a body that does not compress at all grows by a few bytes per 16 KB,
#   so at most 261,200 bytes, and the rest of an item (ids, request ids, header names, field errors)
#   is a few KB at most.
# - What Zenoti sends: its sample events are about 750 bytes, and one virtual guest of a class (its
#   Approved sample: name, e-mail, phone, ids) about 300 bytes more, so the limit holds a class of
#   some 800 virtual guests (tests/integration/test_class_booking_family.py sends 400).
SNS_MESSAGE_BYTES = 256 * 1024
MESSAGE_ATTRIBUTES_ROOM = 1024
MAX_BODY_BYTES = SNS_MESSAGE_BYTES - MESSAGE_ATTRIBUTES_ROOM

# The deepest nesting a subscriber's parser is sure to read: .NET's System.Text.Json stops at 64 by
# default (Go's, Java's and Python's parsers go further). The body itself is level 1.
MAX_DEPTH = 64

# What SQS accepts in a message (and so in a queue subscribed to the topic): tab, LF, CR, and the
# code points from U+0020 except surrogates, U+FFFE and U+FFFF. After the strict JSON decoder, which
# refuses control characters in strings, only U+FFFE and U+FFFF of these can still be in a body.
_REFUSED_BY_SQS = re.compile(r"[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# The largest integer JavaScript reads exactly (Number.MAX_SAFE_INTEGER, 2^53 - 1): its numbers are
# doubles, and beyond it a parser silently reads a neighbour (9007199254740993 becomes ...992), so a
# subscriber in JavaScript, or any that reads numbers as doubles (jq, many JSON libraries), would act
# on an id the receiver never stored. Compared as text: JSON writes integers without leading zeros,
# and Python's int() refuses more than 4,300 digits.
MAX_SAFE_INTEGER = 2**53 - 1
_SAFE_INTEGER_TEXT = str(MAX_SAFE_INTEGER)

# SNS's own fields: those of a notification (what a queue subscribed without raw delivery receives,
# RawMessageDelivery false) and of a subscription's confirmation. Zenoti's envelope is the same seven
# snake_case keys in every family it publishes (id, event_id, event_schema, event_resource,
# event_type, event_timestamp, data), so a body that also carries any of these at its top level is
# no Zenoti event but one dressed as SNS's envelope: a subscriber that tells the two apart by content
# would read the event in its Message, which was never validated, stored or filtered. Any one of
# them is enough (a subscriber may look for Type alone, or for Message alone), and they are matched
# ignoring case as Go's and .NET's deserialisers match them.
_SNS_MESSAGE_KEYS = ("Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "MessageAttributes")
_SNS_SIGNING_KEYS = ("SignatureVersion", "Signature", "SigningCertURL", "Token", "SubscribeURL", "UnsubscribeURL")
_SNS_ENVELOPE_KEYS = frozenset(key.casefold() for key in _SNS_MESSAGE_KEYS + _SNS_SIGNING_KEYS)


def read_body(body: object, is_base64: bool) -> str:
    """The body as text, decoded from base64 when API Gateway says it encoded it, without a byte order mark."""
    if not isinstance(body, str):  # API Gateway hands over text; anything else is no body we can read
        raise MalformedBody("body is not text: expected a JSON event of one of Zenoti's webhooks")
    # Refuse early what cannot decode to an acceptable size (4 base64 characters per 3 bytes).
    if is_base64 and len(body) > (MAX_BODY_BYTES + 2) // 3 * 4:
        raise _too_large()
    raw = _body_bytes(body, is_base64)
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody("body is not valid UTF-8") from None
    # A byte order mark means nothing in UTF-8: JSON forbids sending one and lets a parser ignore it,
    # and many subscribers' parsers refuse a body that starts with one. The event is what follows it.
    return text.removeprefix("\ufeff")


def received_bytes(body: object, is_base64: bool) -> bytes:
    """The body's bytes as close to what was sent as can be had, even when it is malformed."""
    if not isinstance(body, str):
        return b""
    try:
        return _body_bytes(body, is_base64)
    except MalformedBody:
        return _body_bytes(body, is_base64=False)  # keep what API Gateway handed over


def _body_bytes(body: str, is_base64: bool) -> bytes:
    if not is_base64:
        return body.encode("utf-8", errors="surrogatepass")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedBody("body is flagged as base64 but is not valid base64") from None


def parse_event(payload: str) -> ZenotiEvent:
    """Validate the JSON text with its type's model; held (malformed, undeliverable, invalid) if it is no event."""
    document = _read_as_every_subscriber_would(payload)
    if not isinstance(document, dict):
        raise InvalidEvent("body is not an event: expected a JSON object", errors=[_type_error(document)])
    event_type = document.get("event_type")
    if not isinstance(event_type, str) or (model := model_for(event_type)) is None:
        # No type to judge `data` by: the envelope's own fields are still listed, and why the type is not known.
        envelope = _validated(payload, ZenotiEvent)
        errors = [] if isinstance(envelope, ZenotiEvent) else [e for e in envelope if e["field"] != "event_type"]
        raise InvalidEvent(
            "body is not an event of a type the receiver knows (docs/families.md)",
            errors=[_type_error(document), *errors],
        )
    event = _validated(payload, model)
    if isinstance(event, ZenotiEvent):
        return event
    family = family_of(event_type)
    assert family is not None  # model_for found the type, so its family knows it
    raise InvalidEvent(f"body is not a valid {event_type} event ({family.title} family)", errors=event)


def _validated(payload: str, model: type[ZenotiEvent]) -> ZenotiEvent | list[FieldError]:
    """The event `model` reads from the body, or every field it refuses."""
    try:
        # Given text, Powertools validates it with pydantic's JSON parser: one pass, no json.loads.
        event: ZenotiEvent = parse(event=payload, model=model)  # type: ignore[call-overload]
        return event
    except ValidationError as error:
        problems = error.errors(include_url=False, include_input=False, include_context=False)
        if any(problem["type"] == "json_invalid" for problem in problems):
            raise MalformedBody(f"body is not valid JSON: {problems[0]['msg']}") from None
        return [_field_error(problem) for problem in problems]


def _type_error(document: object) -> FieldError:
    """Why the body names no type the catalog knows; never the value it sent (it may be anything)."""
    if not isinstance(document, dict):
        return FieldError(field="(body)", message="Input should be a JSON object", type="model_type")
    if "event_type" not in document:
        return FieldError(field="event_type", message="Field required", type="missing")
    if not isinstance(document["event_type"], str):
        return FieldError(field="event_type", message="Input should be a valid string", type="string_type")
    return FieldError(
        field="event_type",
        message="Input should be one of the event types in docs/families.md, spelled as Zenoti does",
        type="unknown_event_type",
    )


def _read_as_every_subscriber_would(payload: str) -> object:
    """The JSON document, held unless every subscriber's parser reads it as ours does and can take it at all."""
    # Subscribers get the body verbatim, so what they read must be the event we validated and stored.
    # Held malformed: repeated keys (pydantic takes the last, others the first), keys equal but for case
    # (Go's and .NET's deserialisers ignore it), NaN and Infinity. Held undeliverable: what SQS or typed
    # parsers refuse (a number beyond a double, nesting deeper than MAX_DEPTH), an integer JavaScript
    # cannot read exactly, SNS's envelope fields at the top level. The standard library's parser, with
    # hooks, finds all of these in one pass, and is itself a strict second reader.
    try:
        document = _DECODER.decode(payload)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as error:  # not JSON
        raise MalformedBody(f"body is not valid JSON: {str(error).split(';')[0]}") from None
    if not payload.isascii() and (refused := _REFUSED_BY_SQS.search(payload)):
        raise Undeliverable(
            f"body holds U+{ord(refused[0]):04X} (character {refused.start()}), which SQS refuses: "
            "no queue subscribed to the topic could receive the event"
        )
    # Brackets bound the depth (counted in strings too, they can only overcount): walk the document
    # only when there are enough of them.
    if payload.count("{") + payload.count("[") > MAX_DEPTH and _deeper_than(document, MAX_DEPTH):
        raise _too_deep()
    if isinstance(document, dict):
        dressed = next((key for key in document if key.casefold() in _SNS_ENVELOPE_KEYS), None)
        if dressed is not None:
            raise Undeliverable(
                f"body has {_named(dressed)} at its top level, a field of SNS's own envelope that no Zenoti "
                "event has: a subscriber telling SNS's notifications from raw deliveries by their content "
                "would read the event in its Message, which was never validated or stored"
            )
    return document


def _deeper_than(value: object, levels: int) -> bool:
    """True if objects and arrays nest in `value` more than `levels` deep (`value` itself is the first)."""
    if isinstance(value, dict):
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return False
    return levels == 0 or any(_deeper_than(child, levels - 1) for child in children)


def _distinct_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = dict(pairs)
    if len(keys) < len(pairs):
        repeated = next(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
        raise MalformedBody(
            f"body has {_named(repeated)} twice in one object: JSON parsers differ on which value counts"
        )
    # Zenoti's keys are lower case: fold them one by one only when one of them is not folded already.
    joined = "\x00".join(keys)
    if joined.casefold() == joined:
        return keys
    folded: dict[str, str] = {}
    for key in keys:
        first = folded.setdefault(key.casefold(), key)
        if first != key:
            raise MalformedBody(
                f"body has {_named(first)} and {_named(key)} in one object: "
                "parsers that match keys ignoring case (Go's, .NET's) could read either"
            )
    return keys


def _whole_number(text: str) -> str:
    # Never converted: Python's own int() stops at 4,300 digits, and the value is not needed here.
    digits = text.removeprefix("-")
    if (len(digits), digits) > (len(_SAFE_INTEGER_TEXT), _SAFE_INTEGER_TEXT):
        raise Undeliverable(
            f"body holds an integer beyond {MAX_SAFE_INTEGER} (2^53 - 1) in magnitude: JavaScript, and every "
            "parser that reads numbers as doubles, would read another integer"
        )
    return text


def _real_number(text: str) -> str:
    if math.isinf(float(text)):  # 1e400 is read as infinity, not refused
        raise Undeliverable(
            "body holds a number beyond the range of a double (about 1.8e308): "
            "JavaScript reads it as Infinity, Go's and .NET's typed parsers refuse it"
        )
    return text


def _too_deep() -> Undeliverable:
    return Undeliverable(f"body is nested deeper than {MAX_DEPTH} levels, which common parsers refuse")


def _not_a_json_number(constant: str) -> None:
    raise MalformedBody(f"body is not valid JSON: {constant} is not a JSON number")


# Built once: json.loads with any option builds a new decoder, and its scanner, on every call
# (2 microseconds, a third of the whole check).
_DECODER = json.JSONDecoder(
    object_pairs_hook=_distinct_keys,
    parse_int=_whole_number,
    parse_float=_real_number,
    parse_constant=_not_a_json_number,
)

# A key or type is named in the answer, the log line or `ops held list` only if it cannot carry anything but a name.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def _named(key: str) -> str:
    return f'the key "{key}"' if _PLAIN_NAME.fullmatch(key) else "a key"


def _field_error(problem: Any) -> FieldError:
    location = ".".join(str(part) for part in problem["loc"]) or "(body)"
    return FieldError(field=location, message=problem["msg"], type=problem["type"])


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"body is larger than {MAX_BODY_BYTES} bytes")


def claimed_event_type(body: bytes, held: Exception) -> str | None:
    """The event_type a held body says it has, when it is JSON that says one: what an operator triages by."""
    if isinstance(held, MalformedBody):
        return None  # not JSON, or JSON parsers disagree on it: nothing it says can be trusted to name it
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    event_type = document.get("event_type") if isinstance(document, dict) else None
    return event_type if isinstance(event_type, str) and _PLAIN_NAME.fullmatch(event_type) else None
