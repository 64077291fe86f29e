"""The JSON bodies Zenoti gets back, one type per kind of answer (errors.py chooses the status).

These are the receiver's contract with whoever reads its answers (Zenoti's delivery log, an
operator with curl, `ops quarantine redrive`); docs/ shows their JSON Schema, generated from here.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from zenoti_receiver.errors import FieldError, Reason


class AcceptedBody(TypedDict):
    """200: the event is stored (a new one)."""

    status: Literal["accepted"]
    event_id: str
    # "pending": stored, but not published yet; the stack publishes it (no redelivery needed).
    publication: Literal["published", "pending"]
    message: NotRequired[str]


class DuplicateBody(TypedDict):
    """200: the event was already stored; nothing more is published."""

    status: Literal["duplicate"]
    event_id: str


class RejectedBody(TypedDict):
    """4xx: the request itself is wrong; sending it again unchanged will not help."""

    status: Literal["rejected"]
    reason: Reason
    message: str
    errors: NotRequired[list[FieldError]]  # with invalid_event: each field that failed


class FailureBody(TypedDict):
    """5xx: the event could not be stored; send it again."""

    status: Literal["error"]
    reason: Literal["temporarily_unavailable"]
    message: str


ResponseBody = AcceptedBody | DuplicateBody | RejectedBody | FailureBody

PENDING_MESSAGE = "stored; publication is pending and the stack will publish it"
FAILURE = FailureBody(
    status="error", reason="temporarily_unavailable", message="temporary failure; please send the event again"
)
