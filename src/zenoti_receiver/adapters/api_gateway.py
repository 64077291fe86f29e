"""API Gateway's event as a Delivery: the HTTP API's (payload format 2.0) or the WAF front door's REST API's (1.0)."""

import re
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import (
    APIGatewayProxyEvent,
    APIGatewayProxyEventV2,
)

from zenoti_receiver.errors import MethodNotAllowed
from zenoti_receiver.logic.ports import Delivery
from zenoti_receiver.logic.signature import SIGNATURE_HEADER

ACCEPTED_METHODS = ("POST", "PUT", "PATCH")  # Zenoti lets the customer choose the verb
TOKEN_QUERY_PARAMETER = "token"  # noqa: S105 - names of where the token travels, not tokens
TOKEN_HEADER = "x-webhook-token"  # noqa: S105
# Added by API Gateway to every request: they say nothing of what the sender sent, and an item of the
# sample's size stays under 1 KB (one write unit) only without them.
GATEWAY_HEADERS = frozenset({"x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"})
# What an HTTP header name may be (RFC 9110's token), lower case; others are not recorded.
HEADER_NAME = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]{1,64}")
MAX_HEADER_NAMES = 64


def delivery_from_api_gateway(event: dict[str, Any]) -> Delivery:
    """The delivery an API Gateway event carries; MethodNotAllowed for a verb Zenoti never uses."""
    # The HTTP API's event (payload format 2.0), or the WAF front door's REST API's (1.0).
    request = APIGatewayProxyEventV2(event) if event.get("version") == "2.0" else APIGatewayProxyEvent(event)
    method = request.http_method
    if method not in ACCEPTED_METHODS:
        verbs = f"{', '.join(ACCEPTED_METHODS[:-1])} or {ACCEPTED_METHODS[-1]}"
        raise MethodNotAllowed(f"method {method} not allowed; use {verbs}")
    headers = _headers(request)
    query = _query_parameters(request)
    return Delivery(
        request_id=request.request_context.request_id,
        # A repeated parameter or header arrives comma-joined and fails as a wrong token.
        presented_tokens=(query.get(TOKEN_QUERY_PARAMETER), headers.get(TOKEN_HEADER)),
        body=request.body,
        body_is_base64=bool(request.is_base64_encoded),
        header_names=header_names(headers),
        signature=headers.get(SIGNATURE_HEADER),
    )


def _headers(request: APIGatewayProxyEvent | APIGatewayProxyEventV2) -> Mapping[str, str]:
    """The request's headers by lower-case name, each repeated one comma-joined, in either format."""
    # The REST API keeps the names' case, and gives a repeated header's every value in multiValueHeaders.
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
    """The names of the sender's headers, lower case and sorted: never their values (one may be a token)."""
    # Zenoti's documentation never names the header said to carry a signature: stored events show what it sends.
    names = {str(name).lower() for name in headers} - GATEWAY_HEADERS
    return tuple(sorted(name for name in names if HEADER_NAME.fullmatch(name)))[:MAX_HEADER_NAMES]
