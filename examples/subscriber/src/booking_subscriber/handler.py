"""Lambda entry point: a batch of queue messages in, the messages to deliver again out (partial batch response).

Each message is parsed into the receiver's BookingDeletedEvent, handled at most once per event_id
(Powertools idempotency, a DynamoDB table), and handed to on_booking_deleted (action.py), your code.
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
from aws_lambda_powertools.utilities.typing import LambdaContext

from booking_subscriber.action import on_booking_deleted
from booking_subscriber.messages import BookingDeletedEvent, BookingDeletedMessage
from booking_subscriber.settings import Settings

Outcome = Literal["handled", "already handled"]

logger = Logger()
metrics = Metrics()
settings = Settings.from_environment()


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


class BookingDeletedBatch(BatchProcessor):
    """Powertools' batch processor, saying in the log and the metrics which messages go back to the queue."""

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        # A message that failed validation arrives as Powertools' SQSRecord, the others as our model.
        message_id = getattr(record, "message_id", None) or getattr(record, "messageId", None)
        logger.warning(
            "Message not handled; SQS delivers it again, and after MaxReceiveCount moves it to the dead-letter queue",
            exc_info=exception[1],
            extra={"message_id": message_id},
        )
        metrics.add_metric(name="MessagesFailed", unit=MetricUnit.Count, value=1)
        return super().failure_handler(record, exception)


processor = BookingDeletedBatch(event_type=EventType.SQS, model=BookingDeletedMessage)


# key_prefix keeps the idempotency keys stable if you rename or move this function. (Powertools' decorator
# is untyped, hence the ignore and the cast below.)
@idempotent_function(  # type: ignore[untyped-decorator]
    data_keyword_argument="event", config=idempotency, persistence_store=persistence, key_prefix="booking_deleted"
)
def handle_once(event: BookingDeletedEvent) -> Outcome:
    on_booking_deleted(event)
    return "handled"


def handle_message(record: BookingDeletedMessage) -> None:
    notification = record.body
    event = notification.Message
    outcome = cast(Outcome, handle_once(event=event))
    details = {"event_id": event.event_id, "message_id": record.messageId, "replay": notification.is_replay}
    if outcome == "handled":
        logger.info("Deletion handled", extra=details)
        metrics.add_metric(name="DeletionsHandled", unit=MetricUnit.Count, value=1)
    else:
        logger.info("Deletion already handled; skipped", extra=details)
        metrics.add_metric(name="DuplicatesSkipped", unit=MetricUnit.Count, value=1)
    if notification.is_replay:
        metrics.add_metric(name="ReplaysReceived", unit=MetricUnit.Count, value=1)


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # An in-progress idempotency record expires with this invocation, so a timed-out one is retried.
    idempotency.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=handle_message, processor=processor, context=context)
