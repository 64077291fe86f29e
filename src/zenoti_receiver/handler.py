"""Lambda entry point: API Gateway (HTTP API, payload 2.0) event in, HTTP response out."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from zenoti_receiver.adapters.after_response import after_response
from zenoti_receiver.adapters.aws import client
from zenoti_receiver.adapters.event_table import EventTable
from zenoti_receiver.adapters.event_topic import EventTopic
from zenoti_receiver.adapters.quarantine_table import QuarantineTable
from zenoti_receiver.adapters.token_secret import TokenSecret
from zenoti_receiver.errors import UNEXPECTED_ERROR_STATUS, MethodNotAllowed, TemporaryFailure, WebhookRejected
from zenoti_receiver.logic.receiving import BookingDeletedReceiver, Delivery
from zenoti_receiver.settings import Settings

ACCEPTED_METHODS = frozenset({"POST", "PUT", "PATCH"})  # Zenoti lets the customer choose the verb
TOKEN_QUERY_PARAMETER = "token"  # noqa: S105 - names of where the token travels, not tokens
TOKEN_HEADER = "x-webhook-token"  # noqa: S105

logger = Logger()
metrics = Metrics()

settings = Settings.from_environment()
dynamodb = client("dynamodb")  # one client for both tables: created once per execution environment
# Registers the internal extension in Lambda: this must happen during init, before the first request.
later = after_response(settings.lambda_runtime_api if settings.record_after_answer else None)
receiver = BookingDeletedReceiver(
    tokens=TokenSecret(settings.token_secret_id, max_age=settings.token_cache_seconds),
    store=EventTable(settings.table_name, dynamodb),
    publisher=EventTopic(settings.topic_arn),
    quarantine=QuarantineTable(settings.quarantine_table_name, dynamodb),
    after_response=later,
)


# Outermost: what a request defers is handed to the extension once Powertools has written the log
# line and the metrics, so the extension's thread never holds up the answer.
@later.hand_over_after
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        receipt = receiver.receive(delivery_from_api_gateway(event))
    except WebhookRejected as rejection:
        logger.info("Delivery rejected", extra={"reason": rejection.reason, "detail": rejection.message})
        metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=1)
        if rejection.quarantined:
            metrics.add_metric(name="EventsQuarantined", unit=MetricUnit.Count, value=1)
        _count_by("EventsRejected", "reason", rejection.reason)
        body: dict[str, Any] = {"status": "rejected", "reason": rejection.reason, "message": rejection.message}
        if rejection.errors:
            body["errors"] = rejection.errors
        return _response(rejection.status, body)
    except TemporaryFailure as failure:
        logger.exception(
            "Delivery failed; Zenoti will retry", extra={"detail": str(failure), "dependency": failure.dependency}
        )
        metrics.add_metric(name="EventsFailed", unit=MetricUnit.Count, value=1)
        _count_by("DependencyFailures", "dependency", failure.dependency)
        return _response(TemporaryFailure.status, _failure_body())
    except Exception:
        logger.exception("Unexpected error; Zenoti will retry")
        metrics.add_metric(name="EventsFailed", unit=MetricUnit.Count, value=1)
        return _response(UNEXPECTED_ERROR_STATUS, _failure_body())

    logger.info("Delivery " + receipt.outcome, extra={"event_id": receipt.event_id})
    metrics.add_metric(name=f"Events{receipt.outcome.capitalize()}", unit=MetricUnit.Count, value=1)
    return _response(200, {"status": receipt.outcome, "event_id": receipt.event_id})


def delivery_from_api_gateway(event: dict[str, Any]) -> Delivery:
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
    )


def _count_by(name: str, dimension: str, value: str) -> None:
    # A metric of its own, with one more dimension: the dimensions of `metrics` apply to all its metrics.
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=metrics.namespace,
        default_dimensions={"service": metrics.service},
    ) as metric:
        metric.add_dimension(name=dimension, value=value)


def _failure_body() -> dict[str, str]:
    return {
        "status": "error",
        "reason": "temporarily_unavailable",
        "message": "temporary failure; please send the event again",
    }


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }
