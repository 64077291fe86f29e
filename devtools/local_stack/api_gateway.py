"""Turn an HTTP request into the event API Gateway (HTTP API, payload 2.0) would send the function."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from ops.local import EARLIER_WEBHOOK_PATH, WEBHOOK_PATH

ROUTE_PATHS = (WEBHOOK_PATH, EARLIER_WEBHOOK_PATH)
ROUTE_METHODS = ("POST", "PUT", "PATCH")  # the routes template.yaml declares, on each of ROUTE_PATHS

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded", "+json", "+xml")


def route_key(method: str, path: str) -> str | None:
    """The route that matches, or None where API Gateway would answer 404 itself."""
    return f"{method} {path}" if path in ROUTE_PATHS and method in ROUTE_METHODS else None


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Payload 2.0's headers or query parameters: a repeated one's values joined with commas."""
    joined: dict[str, str] = {}
    for name, value in pairs:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def http_api_event(
    method: str, raw_path: str, raw_query: str, headers: list[tuple[str, str]], body: bytes, source_ip: str, route: str
) -> dict[str, Any]:
    joined = _joined((name.lower(), value) for name, value in headers)  # names lower-cased, as payload 2.0's
    query = _joined(parse_qsl(raw_query, keep_blank_values=True))
    textual = any(kind in joined.get("content-type", "").lower() for kind in _TEXT_TYPES)
    try:
        text = body.decode("utf-8") if textual else None
    except UnicodeDecodeError:
        text = None
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": joined,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": joined.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": route,
            "stage": "$default",
            "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": bool(body) and text is None,
    }
    if query:
        event["queryStringParameters"] = query
    if body:
        # Like API Gateway: text bodies as text, anything else base64-encoded.
        event["body"] = text if text is not None else base64.b64encode(body).decode()
    return event
