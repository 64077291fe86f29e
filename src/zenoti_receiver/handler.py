"""Lambda entry point: API Gateway event in, HTTP response out.

The event is the HTTP API's (payload format 2.0) or, with the WAF front door, its REST API's (1.0).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import (
    APIGatewayProxyEvent,
    APIGatewayProxyEventV2,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from zenoti_receiver.adapters.aws import client
from zenoti_receiver.adapters.event_table import EventTable
from zenoti_receiver.adapters.event_topic import DEPENDENCY as EVENTS_TOPIC
from zenoti_receiver.adapters.event_topic import EventTopic
from zenoti_receiver.adapters.quarantine_table import QuarantineTable
from zenoti_receiver.adapters.token_secret import TokenSecret
from zenoti_receiver.errors import (
    HELD_STATUS,
    STORED_STATUS,
    UNEXPECTED_ERROR_STATUS,
    MethodNotAllowed,
    TemporaryFailure,
    WebhookRejected,
)
from zenoti_receiver.logic.receiving import ClassBookingReceiver, Delivery, Receipt
from zenoti_receiver.metric_dimensions import count_also_by, count_by
from zenoti_receiver.responses import (
    FAILURE,
    PENDING_MESSAGE,
    AcceptedBody,
    DuplicateBody,
    HeldBody,
    RejectedBody,
    ResponseBody,
)
from zenoti_receiver.settings import Settings

ACCEPTED_METHODS = frozenset({"POST", "PUT", "PATCH"})  # Zenoti lets the customer choose the verb
TOKEN_QUERY_PARAMETER = "token"  # noqa: S105 - names of where the token travels, not tokens
TOKEN_HEADER = "x-webhook-token"  # noqa: S105
# Added by API Gateway to every request: they say nothing of what the sender sent, and an item of the
# sample's size stays under 1 KB (one write unit) only without them.
GATEWAY_HEADERS = frozenset({"x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"})
# What an HTTP header name may be (RFC 9110's token), lower case; others are not recorded.
HEADER_NAME = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]{1,64}")
MAX_HEADER_NAMES = 64

logger = Logger()
metrics = Metrics()


def _count_dependency_failure(failure: TemporaryFailure) -> None:
    count_by(metrics, "DependencyFailures", "dependency", failure.dependency)


settings = Settings.from_environment()
dynamodb = client("dynamodb")  # one client for both tables: created once per execution environment
receiver = ClassBookingReceiver(
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
    except WebhookRejected as refusal:
        # Refused with nothing stored (401, 405, 413): what anyone who finds the URL can send by the
        # million, so each costs as little as it can (docs/security.md#what-a-flood-costs). The metric
        # is the record: one document, both the plain count and the reason's; a line only at DEBUG.
        logger.debug("Delivery refused", extra={"reason": refusal.reason, "detail": refusal.message})
        count_also_by(metrics, "EventsRejected", "reason", refusal.reason)
        return _response(
            refusal.status, RejectedBody(status="rejected", reason=refusal.reason, message=refusal.message)
        )
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
    held = receipt.held
    if held is not None:
        # Kept in the quarantine, not published: an operator looks at it (QuarantineAlarm, docs/operations.md).
        logger.warning(
            "Delivery held", extra={"reason": held.reason, "detail": held.message, "event_id": receipt.event_id}
        )
    if receipt.outcome == "held" and held is not None:
        count_also_by(metrics, "EventsHeld", "reason", held.reason)
        answer = HeldBody(status="held", reason=held.reason, message=held.message)
        if held.errors:
            answer["errors"] = held.errors
        return _response(HELD_STATUS, answer)
    event_id, event_type = str(receipt.event_id), str(receipt.event_type)
    logger.info("Delivery " + receipt.outcome, extra={"event_id": event_id, "event_type": event_type})
    if receipt.outcome == "duplicate":
        count_also_by(metrics, "EventsDuplicate", "event_type", event_type)
        duplicate = DuplicateBody(status="duplicate", event_id=event_id, event_type=event_type)
        if held is not None:  # a conflicting duplicate: Zenoti is done with it, its body is held
            count_by(metrics, "EventsHeld", "reason", held.reason)
            metrics.add_metric(name="EventsHeld", unit=MetricUnit.Count, value=1)
            duplicate["reason"], duplicate["message"] = "conflicting_duplicate", held.message
        return _response(STORED_STATUS, duplicate)
    count_also_by(metrics, "EventsAccepted", "event_type", event_type)
    if not receipt.pending_because:
        accepted = AcceptedBody(status="accepted", event_id=event_id, event_type=event_type, publication="published")
        return _response(STORED_STATUS, accepted)
    # Stored, so Zenoti is done; the stack publishes it (logic/publishing_pending.py).
    metrics.add_metric(name="PublicationsPending", unit=MetricUnit.Count, value=1)
    if receipt.pending_because == "publish_failed":
        count_by(metrics, "DependencyFailures", "dependency", EVENTS_TOPIC)
    pending = AcceptedBody(
        status="accepted", event_id=event_id, event_type=event_type, publication="pending", message=PENDING_MESSAGE
    )
    return _response(STORED_STATUS, pending)


def delivery_from_api_gateway(event: dict[str, Any], seconds_left: Callable[[], float]) -> Delivery:
    request = _proxy_event(event)
    method = request.http_method
    if method not in ACCEPTED_METHODS:
        raise MethodNotAllowed(f"method {method} not allowed; use POST, PUT or PATCH")
    headers = _headers(request)
    query = _query_parameters(request)
    return Delivery(
        request_id=request.request_context.request_id,
        # A repeated parameter or header arrives comma-joined and fails as a wrong token.
        presented_tokens=(query.get(TOKEN_QUERY_PARAMETER), headers.get(TOKEN_HEADER)),
        body=request.body,
        body_is_base64=bool(request.is_base64_encoded),
        seconds_left=seconds_left,
        header_names=header_names(headers),
    )


def _proxy_event(event: dict[str, Any]) -> APIGatewayProxyEvent | APIGatewayProxyEventV2:
    """The HTTP API's event (payload format 2.0), or the WAF front door's REST API event (1.0)."""
    return APIGatewayProxyEventV2(event) if event.get("version") == "2.0" else APIGatewayProxyEvent(event)


def _headers(request: APIGatewayProxyEvent | APIGatewayProxyEventV2) -> Mapping[str, str]:
    """The request's headers by lower-case name, each repeated one comma-joined, in either format.

    The HTTP API gives them so; the REST API keeps the names' case and gives a repeated header's last
    value in `headers`, every value in `multiValueHeaders`.
    """
    if isinstance(request, APIGatewayProxyEvent) and request.get("multiValueHeaders"):
        values: dict[str, list[str]] = {}
        for name, repeated in request["multiValueHeaders"].items():
            values.setdefault(name.lower(), []).extend(repeated or [])
        return {name: ",".join(each) for name, each in values.items()}
    return request.headers  # lower-case names (Powertools' CaseInsensitiveDict)


def _query_parameters(request: APIGatewayProxyEvent | APIGatewayProxyEventV2) -> Mapping[str, str]:
    """The query string's parameters, each repeated one comma-joined, in either format."""
    if isinstance(request, APIGatewayProxyEvent) and request.multi_value_query_string_parameters:
        return {name: ",".join(each or []) for name, each in request.multi_value_query_string_parameters.items()}
    return request.query_string_parameters


def header_names(headers: Mapping[str, Any]) -> tuple[str, ...]:
    """The names of the sender's headers, lower case and sorted: never their values (one may be a token).

    Zenoti's documentation says a header carries a signature but never names it: the stored events show
    which headers it really sends.
    """
    names = {str(name).lower() for name in headers} - GATEWAY_HEADERS
    return tuple(sorted(name for name in names if HEADER_NAME.fullmatch(name)))[:MAX_HEADER_NAMES]


def _response(status: int, body: ResponseBody) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }
