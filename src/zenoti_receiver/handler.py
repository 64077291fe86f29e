"""Lambda entry point of the receiving function: API Gateway event in, HTTP response out."""

import json
from typing import Any, assert_never

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from zenoti_receiver.adapters.api_gateway import delivery_from_api_gateway
from zenoti_receiver.adapters.aws import client
from zenoti_receiver.adapters.event_table import EventTable
from zenoti_receiver.adapters.held_bodies import HeldBodiesTable
from zenoti_receiver.adapters.token_secret import TokenSecret
from zenoti_receiver.errors import (
    HELD_STATUS,
    STORED_STATUS,
    TEST_STATUS,
    UNEXPECTED_ERROR_STATUS,
    TemporaryFailure,
    WebhookRefused,
)
from zenoti_receiver.logic.receiving import Accepted, Duplicate, Held, Receipt, TriggerTested, WebhookReceiver
from zenoti_receiver.metric_dimensions import count_also_by, count_by
from zenoti_receiver.responses import FAILURE, TESTED, AcceptedBody, DuplicateBody, HeldBody, RefusedBody, ResponseBody
from zenoti_receiver.settings import Settings

logger = Logger()
metrics = Metrics()


def _count_dependency_failure(failure: TemporaryFailure) -> None:
    count_by(metrics, "DependencyFailures", "dependency", failure.dependency)


settings = Settings.from_environment()
dynamodb = client("dynamodb")  # one client for both tables: created once per execution environment
receiver = WebhookReceiver(
    tokens=TokenSecret(
        settings.token_secret_id,
        max_age=settings.token_cache_seconds,
        grace=settings.token_grace_seconds,
        on_stale_tokens=_count_dependency_failure,
    ),
    store=EventTable(settings.table_name, dynamodb, settings.event_retention_days),
    held_bodies=HeldBodiesTable(settings.held_table_name, dynamodb, settings.held_retention_days),
    enforce_signatures=settings.enforce_signatures,
)


@metrics.log_metrics(capture_cold_start_metric=True)
# log_event=False said here, so that no environment variable can make the Logger write the request
# (its query string holds the token, its body a guest's booking).
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        receipt = receiver.receive(delivery_from_api_gateway(event))
    except WebhookRefused as refusal:
        # Refused with nothing stored (401, 405, 413): what anyone who finds the URL can send by the
        # million, so each costs as little as it can (docs/security.md#what-a-flood-costs). The metric
        # is the record: one document, both the plain count and the reason's; a line only at DEBUG.
        logger.debug("Delivery refused", extra={"reason": refusal.reason, "detail": refusal.message})
        count_also_by(metrics, "EventsRefused", "reason", refusal.reason)
        return _response(refusal.status, RefusedBody(status="refused", reason=refusal.reason, message=refusal.message))
    except TemporaryFailure as failure:
        logger.exception(
            "Delivery failed; Zenoti will retry", extra={"detail": str(failure), "dependency": failure.dependency}
        )
        metrics.add_metric(name="EventsFailed", unit=MetricUnit.Count, value=1)
        _count_dependency_failure(failure)
        return _response(TemporaryFailure.status, FAILURE)
    except Exception:
        # A bug of ours, not an outage of AWS (adapters/aws.py turns only botocore's errors into
        # TemporaryFailure): its own log line, metric and alarm (UnexpectedErrorsAlarm).
        logger.exception("Unexpected error (a bug in the receiver); Zenoti will retry")
        metrics.add_metric(name="EventsFailed", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="UnexpectedErrors", unit=MetricUnit.Count, value=1)
        return _response(UNEXPECTED_ERROR_STATUS, FAILURE)
    return _answer(receipt)


def _answer(receipt: Receipt) -> dict[str, Any]:
    if receipt.signature != "unchecked":  # only where a signing secret is configured (docs/security.md)
        count_by(metrics, "Signatures", "signature", receipt.signature)
    match receipt:
        case TriggerTested():
            # Zenoti's "test your trigger" button: nothing kept, nothing to alarm on; counted so it can be seen.
            logger.info("Test delivery (an empty body)")
            metrics.add_metric(name="TestDeliveries", unit=MetricUnit.Count, value=1)
            return _response(TEST_STATUS, TESTED)
        case Accepted(event_id, event_type, _):
            # Stored: the table's stream carries it to the publisher (publisher_handler.py), whose line records it.
            # The item is this delivery's record (request_id, received_at): no line of its own at INFO, since
            # every event's log bytes are paid for (docs/performance.md).
            logger.debug("Delivery accepted", extra={"event_id": event_id, "event_type": event_type})
            count_also_by(metrics, "EventsAccepted", "event_type", event_type)
            return _response(STORED_STATUS, AcceptedBody(status="accepted", event_id=event_id, event_type=event_type))
        case Duplicate(event_id, event_type, conflict, _):
            count_also_by(metrics, "EventsDuplicate", "event_type", event_type)
            duplicate = DuplicateBody(status="duplicate", event_id=event_id, event_type=event_type)
            if conflict is None:  # a redelivery
                logger.info("Delivery duplicate", extra={"event_id": event_id, "event_type": event_type})
                return _response(STORED_STATUS, duplicate)
            # Another body: Zenoti is done with it, and it is held (HeldBodiesAlarm, docs/operations.md).
            logger.warning(
                "Delivery held", extra={"reason": conflict.reason, "detail": conflict.message, "event_id": event_id}
            )
            count_by(metrics, "EventsHeld", "reason", conflict.reason)
            metrics.add_metric(name="EventsHeld", unit=MetricUnit.Count, value=1)
            # Its own metric and alarm (ConflictingDuplicatesAlarm): Zenoti never sends two bodies under one
            # event_id, so one is someone holding the token who stored an id first (docs/security.md).
            metrics.add_metric(name="ConflictingDuplicates", unit=MetricUnit.Count, value=1)
            duplicate["reason"], duplicate["message"] = "conflicting_duplicate", conflict.message
            return _response(STORED_STATUS, duplicate)
        case Held(why, _):
            # Kept, not published: an operator looks at it (HeldBodiesAlarm, docs/operations.md).
            logger.warning("Delivery held", extra={"reason": why.reason, "detail": why.message})
            count_also_by(metrics, "EventsHeld", "reason", why.reason)
            held = HeldBody(status="held", reason=why.reason, message=why.message)
            if why.errors:
                held["errors"] = why.errors
            return _response(HELD_STATUS, held)
    assert_never(receipt)


def _response(status: int, body: ResponseBody) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
