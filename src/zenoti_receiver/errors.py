"""Why a delivery was not accepted, and the HTTP status each reason earns.

This is the one place where status codes are chosen. Zenoti retries any 5xx (5 times, 30 s to
10 min apart) and deactivates a webhook after 20 consecutive failures, so:
- a 4xx is a permanent verdict on the request: retrying the same bytes cannot help;
- a 5xx says "not stored yet, send it again": used for every failure that is ours or AWS's.
"""

from __future__ import annotations

from typing import Literal, TypedDict

Reason = Literal[
    "bad_request", "unauthorized", "malformed_body", "payload_too_large", "invalid_event", "method_not_allowed"
]


class FieldError(TypedDict):
    """One field that failed validation, as the 422's `errors` lists it."""

    field: str  # dotted path in the body, e.g. data.guest_id; "(body)" for the body as a whole
    message: str
    type: str  # pydantic's error type, e.g. uuid_parsing


class WebhookRejected(Exception):
    """The request itself is wrong; sending it again unchanged will not help."""

    status: int = 400
    reason: Reason = "bad_request"

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        self.quarantined = False  # set once the body is kept in the quarantine


class Unauthorized(WebhookRejected):
    status = 401
    reason = "unauthorized"


class MalformedBody(WebhookRejected):
    """Not base64 when flagged so, not UTF-8, or not JSON."""

    status = 400
    reason = "malformed_body"


class PayloadTooLarge(WebhookRejected):
    status = 413
    reason = "payload_too_large"


class InvalidEvent(WebhookRejected):
    """Well-formed JSON that is not a Class.Booking.Deleted event we can store."""

    status = 422
    reason = "invalid_event"


class MethodNotAllowed(WebhookRejected):
    status = 405
    reason = "method_not_allowed"


class TemporaryFailure(Exception):
    """A dependency (DynamoDB, SNS, Secrets Manager) failed; the delivery should be retried."""

    status = 503
    reason = "temporarily_unavailable"

    def __init__(self, message: str, dependency: str) -> None:
        super().__init__(message)
        self.dependency = dependency  # which one: "secret", "events_table", "quarantine_table", "topic"


# Anything unforeseen is still answered with a 5xx, so Zenoti keeps the event and retries it.
UNEXPECTED_ERROR_STATUS = 500
