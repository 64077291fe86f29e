"""What becomes of a delivery that is not simply stored, and the HTTP status of every answer: chosen here only."""

# Zenoti turns a webhook off after 20 non-2xx answers in a row (a 4xx counts like a 5xx) and never re-sends
# what it produced meanwhile, so: 2xx once the body is durably kept (stored as an event, or held); 4xx only
# for what is not Zenoti's or cannot be held at all; 5xx only when nothing could be held (Zenoti retries).

from typing import Literal, TypedDict

# Stored (or already stored) as an event: accepted, or duplicate (a conflicting duplicate too: its
# body is held, and Zenoti is done with it).
STORED_STATUS = 200
# Authenticated and held, not published until an operator re-drives it.
HELD_STATUS = 202
# An empty body with the right token (Zenoti's "test your trigger" button): nothing to keep, and a 2xx
# is what tells the customer the URL works.
TEST_STATUS = 200

RefusalReason = Literal["unauthorized", "signature_mismatch", "method_not_allowed", "payload_too_large"]
HeldReason = Literal["malformed_body", "invalid_event", "undeliverable", "conflicting_duplicate"]


class FieldError(TypedDict):
    """One field that failed validation, as a held answer's `errors` lists it."""

    field: str  # dotted path in the body, e.g. data.guest_id; "(body)" for the body as a whole
    message: str
    type: str  # pydantic's error type, e.g. uuid_parsing


class WebhookRefused(Exception):
    """The request is refused and nothing is stored: it is not Zenoti's, or cannot be held at all."""

    status: int
    reason: RefusalReason

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthorized(WebhookRefused):
    """No token, or a wrong one: nothing is read from the body, nothing stored."""

    status = 401
    reason = "unauthorized"


class SignatureMismatch(WebhookRefused):
    """With signatures enforced (off by default), a signature header that is missing or does not match."""

    status = 401
    reason = "signature_mismatch"


class PayloadTooLarge(WebhookRefused):
    """Larger than what can be held and published in one SNS message (logic/parsing.py)."""

    status = 413
    reason = "payload_too_large"


class MethodNotAllowed(WebhookRefused):
    status = 405
    reason = "method_not_allowed"


class BodyHeld(Exception):
    """An authenticated body that is not an event we can store and publish: held, 202."""

    reason: HeldReason

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class MalformedBody(BodyHeld):
    """Not text, not base64 when flagged so, not UTF-8, not JSON, or JSON parsers read differently."""

    reason = "malformed_body"


class InvalidEvent(BodyHeld):
    """Well-formed JSON that is not an event of a type the receiver knows, or not valid for its type's model."""

    reason = "invalid_event"


class Undeliverable(BodyHeld):
    """A valid event that subscribers could not take: SQS would refuse it, or common typed parsers would."""

    reason = "undeliverable"


class ConflictingDuplicate(BodyHeld):
    """Another body under an event_id already stored: the first stays the event of record."""

    reason = "conflicting_duplicate"


class TemporaryFailure(Exception):
    """A dependency (DynamoDB, SNS, Secrets Manager) failed; the delivery should be retried."""

    status = 503
    reason = "temporarily_unavailable"

    def __init__(self, message: str, dependency: str) -> None:
        super().__init__(message)
        self.dependency = dependency  # which one: "secret", "events_table", "held_bodies_table", "topic"


# Anything unforeseen is still answered with a 5xx, so Zenoti keeps the event and retries it.
UNEXPECTED_ERROR_STATUS = 500
