"""Lambda entry point: API Gateway (HTTP API, payload 2.0) event in, HTTP response out."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from zenoti_receiver.adapters.aws import client
from zenoti_receiver.adapters.event_table import EventTable
from zenoti_receiver.adapters.event_topic import DEPENDENCY as EVENTS_TOPIC
from zenoti_receiver.adapters.event_topic import EventTopic
from zenoti_receiver.adapters.quarantine_table import QuarantineTable
from zenoti_receiver.adapters.token_secret import TokenSecret
from zenoti_receiver.errors import UNEXPECTED_ERROR_STATUS, MethodNotAllowed, TemporaryFailure, WebhookRejected
from zenoti_receiver.logic.receiving import BookingDeletedReceiver, Delivery
from zenoti_receiver.metric_dimensions import count_also_by, count_by
from zenoti_receiver.responses import (
    FAILURE,
    PENDING_MESSAGE,
    AcceptedBody,
    DuplicateBody,
    RejectedBody,
    ResponseBody,
)
from zenoti_receiver.settings import Settings

ACCEPTED_METHODS = frozenset({"POST", "PUT", "PATCH"})  # Zenoti lets the customer choose the verb
TOKEN_QUERY_PARAMETER = "token"  # noqa: S105 - names of where the token travels, not tokens
TOKEN_HEADER = "x-webhook-token"  # noqa: S105

logger = Logger()
metrics = Metrics()


def _count_dependency_failure(failure: TemporaryFailure) -> None:
    count_by(metrics, "DependencyFailures", "dependency", failure.dependency)


settings = Settings.from_environment()
dynamodb = client("dynamodb")  # one client for both tables: created once per execution environment
receiver = BookingDeletedReceiver(
    tokens=TokenSecret(
        settings.token_secret_id,
        max_age=settings.token_cache_seconds,
        grace=settings.token_grace_seconds,
        on_stale_tokens=_count_dependency_failure,
    ),
    store=EventTable(settings.table_name, dynamodb, settings.event_retention_days),
    publisher=EventTopic(settings.topic_arn),
    quarantine=QuarantineTable(settings.quarantine_table_name, dynamodb, settings.quarantine_retention_days),
)


@metrics.log_metrics(capture_cold_start_metric=True)
# log_event=False said here, so that no environment variable can make the Logger write the request
# (its query string holds the token, its body a guest's booking).
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        receipt = receiver.receive(
            delivery_from_api_gateway(event, seconds_left=lambda: context.get_remaining_time_in_millis() / 1000)
        )
    except WebhookRejected as rejection:
        if rejection.quarantined:  # authenticated, so Zenoti's: kept, and worth a line of its own
            logger.info("Delivery rejected", extra={"reason": rejection.reason, "detail": rejection.message})
            metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=1)
            metrics.add_metric(name="EventsQuarantined", unit=MetricUnit.Count, value=1)
            count_by(metrics, "EventsRejected", "reason", rejection.reason)
        else:
            # Refused with nothing stored (401, 405, 413): what anyone who finds the URL can send by the
            # million, so each costs as little as it can (docs/security.md, "What a flood costs"). The metric
            # is the record: one document, both the plain count and the reason's; a line only at DEBUG.
            logger.debug("Delivery refused", extra={"reason": rejection.reason, "detail": rejection.message})
            count_also_by(metrics, "EventsRejected", "reason", rejection.reason)
        refused = RejectedBody(status="rejected", reason=rejection.reason, message=rejection.message)
        if rejection.errors:
            refused["errors"] = rejection.errors
        return _response(rejection.status, refused)
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

    logger.info("Delivery " + receipt.outcome, extra={"event_id": receipt.event_id})
    metrics.add_metric(name=f"Events{receipt.outcome.capitalize()}", unit=MetricUnit.Count, value=1)
    if receipt.outcome == "duplicate":
        return _response(200, DuplicateBody(status="duplicate", event_id=receipt.event_id))
    if not receipt.pending_because:
        return _response(200, AcceptedBody(status="accepted", event_id=receipt.event_id, publication="published"))
    # Stored, so Zenoti is done; the stack publishes it (logic/publishing_pending.py).
    metrics.add_metric(name="PublicationsPending", unit=MetricUnit.Count, value=1)
    if receipt.pending_because == "publish_failed":
        count_by(metrics, "DependencyFailures", "dependency", EVENTS_TOPIC)
    pending = AcceptedBody(status="accepted", event_id=receipt.event_id, publication="pending", message=PENDING_MESSAGE)
    return _response(200, pending)


def delivery_from_api_gateway(event: dict[str, Any], seconds_left: Callable[[], float]) -> Delivery:
    method = event["requestContext"]["http"]["method"]
    if method not in ACCEPTED_METHODS:
        raise MethodNotAllowed(f"method {method} not allowed; use POST, PUT or PATCH")
    headers = event.get("headers") or {}
    query = event.get("queryStringParameters") or {}
    return Delivery(
        request_id=event["requestContext"]["requestId"],
        # HTTP API lower-cases header names; a repeated parameter arrives comma-joined and fails.
        presented_tokens=(query.get(TOKEN_QUERY_PARAMETER), headers.get(TOKEN_HEADER)),
        body=event.get("body"),
        body_is_base64=bool(event.get("isBase64Encoded")),
        seconds_left=seconds_left,
    )


def _response(status: int, body: ResponseBody) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }
