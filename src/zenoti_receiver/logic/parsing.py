"""Turning the bytes of a delivery into a BookingDeletedEvent, or saying precisely why not."""

from __future__ import annotations

import base64
import binascii
import json
import re
from contextlib import suppress
from typing import Any

from aws_lambda_powertools.utilities.parser import ValidationError, parse

from zenoti_receiver.errors import InvalidEvent, MalformedBody, PayloadTooLarge
from zenoti_receiver.models.booking_deleted import BookingDeletedEvent

# SNS refuses messages over 256 KiB, message attributes included, and the message is the body
# verbatim: keep 1 KiB of that for the attributes so every event we store can be published.
MAX_BODY_BYTES = 256 * 1024 - 1024


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


def parse_booking_deleted(payload: str) -> BookingDeletedEvent:
    """Validate the JSON text against the model; 400 if it is not JSON, 422 if it is the wrong JSON."""
    _refuse_non_standard_numbers(payload)
    try:
        # Given text, Powertools validates it with pydantic's JSON parser: one pass, no json.loads.
        event: BookingDeletedEvent = parse(event=payload, model=BookingDeletedEvent)  # type: ignore[call-overload]
        return event
    except ValidationError as error:
        problems = error.errors(include_url=False, include_input=False, include_context=False)
        if any(problem["type"] == "json_invalid" for problem in problems):
            raise MalformedBody(f"body is not valid JSON: {problems[0]['msg']}") from None
        raise InvalidEvent(
            "body is not a valid Class.Booking.Deleted event", errors=[_field_error(p) for p in problems]
        ) from None


# pydantic's parser accepts NaN and Infinity, which are not JSON: a subscriber parsing the message
# (JSON.parse, strict parsers) would fail on it. The cheap scan finds the words; only then does a
# full parse tell a bare constant from the same letters inside a string.
_NON_STANDARD_NUMBER = re.compile(r"NaN|Infinity")


def _refuse_non_standard_numbers(payload: str) -> None:
    if _NON_STANDARD_NUMBER.search(payload) is None:
        return

    def refuse(constant: str) -> None:
        raise MalformedBody(f"body is not valid JSON: {constant} is not a JSON number")

    # Not JSON, or nested too deep: the model's parser says so precisely.
    with suppress(ValueError, RecursionError):
        json.loads(payload, parse_constant=refuse)


def _field_error(problem: Any) -> dict[str, str]:
    location = ".".join(str(part) for part in problem["loc"]) or "(body)"
    return {"field": location, "message": problem["msg"], "type": problem["type"]}


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"body is larger than {MAX_BODY_BYTES} bytes")
