"""Lambda entry point: a batch of queue messages in, the messages to deliver again out (partial batch response).

Each message (an SNS notification or a raw delivery, as settings say the subscription delivers it:
messages.py) is parsed into the receiver's ClassBookingEvent, checked against the attributes it was
filtered by, handled at most once per event_id (Powertools idempotency, a DynamoDB table), and
handed to the action of its type (action.py, ACTIONS), your code.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    ExceptionInfo,
    FailureResponse,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from booking_subscriber.action import ACTIONS
from booking_subscriber.messages import AttributesDisagree, read_delivery
from booking_subscriber.settings import Settings
from zenoti_receiver.models.class_booking import ClassBookingEvent

Outcome = Literal["handled", "already handled"]

logger = Logger()
metrics = Metrics()
settings = Settings.from_environment()

RETRIED = "SQS delivers it again, and after MaxReceiveCount moves it to the dead-letter queue"


class UnhandledEventType(Exception):
    """A valid event of a type ACTIONS has no action for: the subscription's filter lets through too much."""


class NotAnEvent(Exception):
    """A message that holds no Class booking event; says which fields are wrong, never their values."""


def _already_handled(response: Any, idempotent_data: DataRecord) -> Outcome:
    # Powertools calls this instead of the function when the event_id was handled before.
    return "already handled"


# SNS delivers at least once and `ops replay` sends stored events again: both repeat an event_id. The
# first completed handling is kept for IdempotencyDays, and every repeat within that time is skipped.
# While one delivery is being handled, a concurrent one fails and comes back after the visibility timeout.
idempotency = IdempotencyConfig(
    event_key_jmespath="event_id",
    expires_after_seconds=settings.idempotency_seconds,
    response_hook=_already_handled,
)
persistence = DynamoDBPersistenceLayer(table_name=settings.idempotency_table_name)


class ClassBookingBatch(BatchProcessor):
    """Powertools' batch processor, saying in the log and the metrics which messages go back to the queue.

    A pydantic error is logged by field, type and message only: its text and traceback carry the values
    it was given (a guest id). What Powertools keeps of a failure (and prints when a whole batch fails)
    gets the same sanitized error.
    """

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        # A message that failed the SQS model arrives as Powertools' SQSRecord, the others as the model.
        message_id = getattr(record, "message_id", None) or getattr(record, "messageId", None)
        error = exception[1]
        metrics.add_metric(name="MessagesFailed", unit=MetricUnit.Count, value=1)
        if isinstance(error, ValidationError):
            problems = [
                {
                    "field": ".".join(str(part) for part in problem["loc"]),
                    "message": problem["msg"],
                    "type": problem["type"],
                }
                for problem in error.errors(include_url=False, include_input=False, include_context=False)
            ]
            logger.warning(
                f"Message not handled: it holds no valid Class booking event; {RETRIED}",
                extra={"message_id": message_id, "errors": problems},
            )
            summary = "; ".join(f"{problem['field']}: {problem['type']}" for problem in problems)
            exception = (NotAnEvent, NotAnEvent(f"not a valid Class booking event ({summary})"), exception[2])
        elif isinstance(error, UnhandledEventType):
            logger.warning(f"Message not handled: {error}; {RETRIED}", extra={"message_id": message_id})
        elif isinstance(error, AttributesDisagree):
            # Attribute names only, never their values: they are the message's, not what the receiver stored.
            logger.warning(
                f"Message not handled: {error}, and filter policies choose messages by them; never acted on: {RETRIED}",
                extra={"message_id": message_id, "event_id": error.event_id},
            )
        else:
            logger.warning(f"Message not handled; {RETRIED}", exc_info=error, extra={"message_id": message_id})
        return super().failure_handler(record, exception)


processor = ClassBookingBatch(event_type=EventType.SQS, model=SqsRecordModel)


# key_prefix keeps the idempotency keys stable if you rename or move this function; "booking_deleted" is
# the prefix of the subscriber's first version, kept so that its records still skip their repeats. (An
# event_id names one event of one type.) Powertools' decorator is untyped, hence the ignore and the cast.
@idempotent_function(  # type: ignore[untyped-decorator]
    data_keyword_argument="event", config=idempotency, persistence_store=persistence, key_prefix="booking_deleted"
)
def handle_once(event: ClassBookingEvent) -> Outcome:
    ACTIONS[event.event_type](event)
    return "handled"


def handle_message(record: SqsRecordModel) -> None:
    delivery = read_delivery(record, raw_message_delivery=settings.raw_message_delivery)
    event = delivery.event
    if event.event_type not in ACTIONS:
        # Failed, not skipped: it waits in the dead-letter queue (alarmed) until you add its action, or fix
        # the subscription's filter policy and drop it. Nothing is lost, and nothing is marked handled.
        raise UnhandledEventType(
            f"no action for {event.event_type} (event_id {event.event_id}): add one to ACTIONS in action.py, "
            "or filter the type out in the subscription's filter policy (template.yaml)"
        )
    outcome = cast(Outcome, handle_once(event=event))
    details = {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "message_id": record.messageId,
        "replay": delivery.replay,
        "shape": delivery.shape,
    }
    if outcome == "handled":
        logger.info("Event handled", extra=details)
        metrics.add_metric(name="EventsHandled", unit=MetricUnit.Count, value=1)
    else:
        logger.info("Event already handled; skipped", extra=details)
        metrics.add_metric(name="DuplicatesSkipped", unit=MetricUnit.Count, value=1)
    if delivery.replay:
        metrics.add_metric(name="ReplaysReceived", unit=MetricUnit.Count, value=1)


@metrics.log_metrics(capture_cold_start_metric=True)
# log_event=False in code: the event holds guests' ids (and names, e-mails and phone numbers of virtual guests),
# and Powertools would log it whole if POWERTOOLS_LOGGER_LOG_EVENT were set, as the receiver guards it too.
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # An in-progress idempotency record expires with this invocation, so a timed-out one is retried.
    idempotency.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=handle_message, processor=processor, context=context)
