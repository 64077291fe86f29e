"""Turning the bytes of a delivery into a ClassBookingEvent, or saying precisely why not."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter
from typing import Any

from aws_lambda_powertools.utilities.parser import ValidationError, parse

from zenoti_receiver.errors import FieldError, InvalidEvent, MalformedBody, PayloadTooLarge
from zenoti_receiver.models.class_booking import ClassBookingEvent

# Zenoti's sample is 754 bytes, and its largest realistic event (a year of weekly recurrences in
# both id lists) about 3 KB: 32 KiB leaves room for many fields Zenoti may add, while bounding what
# a token holder can make us store (each distinct body is an item, or a quarantine entry). It is
# well under what SNS takes in one message (256 KiB, attributes included), so every event we
# store can be published.
MAX_BODY_BYTES = 32 * 1024


def read_body(body: object, is_base64: bool) -> str:
    """The body as text, decoded from base64 when API Gateway says it encoded it."""
    if not body:
        raise MalformedBody("empty body: expected a JSON Class.Booking.Deleted event")
    if not isinstance(body, str):  # API Gateway hands over text; anything else is no body we can read
        raise MalformedBody("body is not text: expected a JSON Class.Booking.Deleted event")
    # Refuse early what cannot decode to an acceptable size (4 base64 characters per 3 bytes).
    if is_base64 and len(body) > (MAX_BODY_BYTES + 2) // 3 * 4:
        raise _too_large()
    raw = _body_bytes(body, is_base64)
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody("body is not valid UTF-8") from None


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


def parse_class_booking(payload: str) -> ClassBookingEvent:
    """Validate the JSON text against the model; 400 if it is not JSON, 422 if it is the wrong JSON."""
    _refuse_ambiguous_json(payload)
    try:
        # Given text, Powertools validates it with pydantic's JSON parser: one pass, no json.loads.
        event: ClassBookingEvent = parse(event=payload, model=ClassBookingEvent)  # type: ignore[call-overload]
        return event
    except ValidationError as error:
        problems = error.errors(include_url=False, include_input=False, include_context=False)
        if any(problem["type"] == "json_invalid" for problem in problems):
            raise MalformedBody(f"body is not valid JSON: {problems[0]['msg']}") from None
        raise InvalidEvent(
            "body is not a valid Class.Booking.Deleted event", errors=[_field_error(p) for p in problems]
        ) from None


def _refuse_ambiguous_json(payload: str) -> None:
    """400 unless every subscriber's parser reads the body as ours does.

    Subscribers get the body verbatim, so what they read must be the event we validated and stored.
    pydantic's parser takes the last of two equal keys, others the first; Go's and .NET's usual
    deserialisers match keys ignoring case; it accepts NaN and Infinity, which JSON does not have.
    The standard library's parser, with a hook that sees each object's keys in order, finds all of
    these in one pass (a few microseconds for Zenoti's bodies) and is itself a strict second reader:
    what it cannot read, a Python subscriber could not either.
    """
    try:
        _DECODER.decode(payload)
    except RecursionError:
        raise MalformedBody("body is not valid JSON: nested too deeply") from None
    except ValueError as error:  # not JSON, or an integer beyond the 4,300 digits Python's parser reads
        raise MalformedBody(f"body is not valid JSON: {str(error).split(';')[0]}") from None


def _distinct_keys(pairs: list[tuple[str, Any]]) -> None:
    keys = dict(pairs)
    if len(keys) < len(pairs):
        repeated = next(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
        raise MalformedBody(
            f"body has {_named(repeated)} twice in one object: JSON parsers differ on which value counts"
        )
    # Zenoti's keys are lower case: fold them one by one only when one of them is not folded already.
    joined = "\x00".join(keys)
    if joined.casefold() == joined:
        return
    folded: dict[str, str] = {}
    for key in keys:
        first = folded.setdefault(key.casefold(), key)
        if first != key:
            raise MalformedBody(
                f"body has {_named(first)} and {_named(key)} in one object: "
                "parsers that match keys ignoring case (Go's, .NET's) could read either"
            )


def _not_a_json_number(constant: str) -> None:
    raise MalformedBody(f"body is not valid JSON: {constant} is not a JSON number")


# Built once: json.loads with any option builds a new decoder, and its scanner, on every call
# (2 microseconds, a third of the whole check).
_DECODER = json.JSONDecoder(object_pairs_hook=_distinct_keys, parse_constant=_not_a_json_number)

# A key is named in the answer and the log line only if it cannot carry anything but a name.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def _named(key: str) -> str:
    return f'the key "{key}"' if _PLAIN_KEY.fullmatch(key) else "a key"


def _field_error(problem: Any) -> FieldError:
    location = ".".join(str(part) for part in problem["loc"]) or "(body)"
    return FieldError(field=location, message=problem["msg"], type=problem["type"])


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"body is larger than {MAX_BODY_BYTES} bytes")
