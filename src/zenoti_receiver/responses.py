"""The JSON bodies Zenoti gets back, one type per kind of answer: the contract docs/ and schema/ publish."""

from typing import Literal, NotRequired, TypedDict

from zenoti_receiver.errors import FieldError, HeldReason, RefusalReason


class AcceptedBody(TypedDict):
    """200: the event is stored (a new one); the stack publishes it."""

    status: Literal["accepted"]
    event_id: str
    event_type: str


class DuplicateBody(TypedDict):
    """200: the event was already stored; nothing more is published."""

    status: Literal["duplicate"]
    event_id: str
    event_type: str  # the type this delivery says
    # With a body other than the stored one: that body is held (conflicting_duplicate); the stored
    # one stays the event of record.
    reason: NotRequired[Literal["conflicting_duplicate"]]
    message: NotRequired[str]


class HeldBody(TypedDict):
    """202: authenticated and held; not published until an operator re-drives it."""

    status: Literal["held"]
    reason: HeldReason
    message: str
    errors: NotRequired[list[FieldError]]  # with invalid_event: each field that failed


class TriggerTestBody(TypedDict):
    """200: an empty body with the right token, Zenoti's "test your trigger" button; nothing is stored."""

    status: Literal["test"]
    message: str


class RefusedBody(TypedDict):
    """4xx: refused, nothing stored: a wrong token (or signature, if enforced), a verb Zenoti never uses, too large."""

    status: Literal["refused"]
    reason: RefusalReason
    message: str


class FailureBody(TypedDict):
    """5xx: the body could not be held anywhere; send it again."""

    status: Literal["error"]
    reason: Literal["temporarily_unavailable"]
    message: str


ResponseBody = AcceptedBody | DuplicateBody | HeldBody | TriggerTestBody | RefusedBody | FailureBody

TESTED = TriggerTestBody(status="test", message="the webhook URL and its token work; an empty body is not stored")

FAILURE = FailureBody(
    status="error", reason="temporarily_unavailable", message="temporary failure; please send the event again"
)
