"""What a million events cost at AWS's list prices, from the run's durations, log bytes and write units.

Memory, tracing and the stage's rate limit come from template.yaml. Free tiers are not counted.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

from devtools.local_stack.template import parameter_default, resource

# List prices the cost estimate assumes: us-east-1, on-demand, as published by AWS in 2026.
PRICE_PER_MILLION_WRITE_UNITS = 0.625  # DynamoDB on-demand write request units
PRICE_PER_MILLION_HTTP_API_REQUESTS = 1.00  # API Gateway HTTP API, first 300 million a month
PRICE_PER_MILLION_LAMBDA_REQUESTS = 0.20
PRICE_PER_LAMBDA_GB_SECOND_ARM = 0.0000133334
PRICE_PER_MILLION_SNS_PUBLISHES = 0.50  # each 64 KB chunk of a message is one request
PRICE_PER_GB_LOGS_INGESTED = 0.50  # CloudWatch Logs: log lines and metrics (EMF)
PRICE_PER_MILLION_TRACES_RECORDED = 5.00  # X-Ray
MILLION = 1_000_000
# What the API's access-log line holds for a request: an HTTP API request id, an IPv4 address, ...
ACCESS_LOG_VALUES = {
    "requestId": "JQ1ZdgGnIAMEVhQ=",
    "identity.sourceIp": "203.0.113.10",
    "requestTime": "12/Mar/2026:10:15:30 +0000",
    "httpMethod": "POST",
    "routeKey": "POST /zenoti/webhook",
    "status": "401",
    "integrationLatency": "2",
    "integrationErrorMessage": "-",
}


def billed_seconds(duration_s: float) -> float:
    """Lambda bills each invocation's duration rounded up to the millisecond."""
    return max(1, math.ceil(duration_s * 1000)) / 1000


def lambda_cost(duration_s: float, memory_gb: float) -> float:
    """A million invocations of `duration_s` each."""
    gb_seconds = billed_seconds(duration_s) * memory_gb * MILLION
    return PRICE_PER_MILLION_LAMBDA_REQUESTS + gb_seconds * PRICE_PER_LAMBDA_GB_SECOND_ARM


def logs_cost(bytes_each: float) -> float:
    """A million times `bytes_each` ingested by CloudWatch Logs."""
    return bytes_each * MILLION / 1e9 * PRICE_PER_GB_LOGS_INGESTED


def traced_share(invocations_per_second: float) -> float:
    """What X-Ray's fixed rule for Lambda's Active tracing records: the first invocation each second, 5% of the rest."""
    if invocations_per_second <= 1:
        return 1.0
    return (1 + 0.05 * (invocations_per_second - 1)) / invocations_per_second


@dataclass(frozen=True)
class FunctionShape:
    """What template.yaml says about a function that its bill depends on."""

    memory_gb: float
    traced: bool  # Tracing: Active

    @classmethod
    def from_template(cls, template: dict[str, Any], name: str) -> FunctionShape:
        own, shared = resource(template, name)["Properties"], template["Globals"]["Function"]
        return cls(
            memory_gb=int(own.get("MemorySize", shared.get("MemorySize", 128))) / 1024,
            traced=str(own.get("Tracing", shared.get("Tracing", "PassThrough"))) == "Active",
        )


def stage_rate_limit(template: dict[str, Any]) -> float:
    """The webhook stage's steady requests per second (ThrottlingRateLimit): the most traffic there can be."""
    return float(parameter_default(template, "ThrottlingRateLimit"))


def receiver_cost(
    shape: FunctionShape, per_second: float, duration_s: float, write_units: int, log_bytes: int, publishes: int = 0
) -> dict[str, float]:
    """A million requests to the receiver (or to the bare baseline, which publishes itself), as measured.

    `duration_s` is the warm latency: an environment is billed until it answers; `log_bytes` what it printed,
    Lambda's lines for the invocation and the API's access-log line.
    """
    parts = {
        "API": PRICE_PER_MILLION_HTTP_API_REQUESTS,
        "Lambda": lambda_cost(duration_s, shape.memory_gb),
        "DynamoDB": write_units * PRICE_PER_MILLION_WRITE_UNITS,
        "logs": logs_cost(log_bytes),
        "SNS": publishes * PRICE_PER_MILLION_SNS_PUBLISHES,
        "X-Ray": traced_share(per_second) * PRICE_PER_MILLION_TRACES_RECORDED if shape.traced else 0.0,
    }
    return {name: cost for name, cost in parts.items() if cost}


def publisher_cost(
    shape: FunctionShape, per_second: float, batch_size: int, duration_s: float, log_bytes: int
) -> dict[str, float]:
    """A million new events published in invocations of `batch_size` each, of the measured duration and log bytes."""
    invocations = 1 / batch_size  # per event
    parts = {
        "Lambda": lambda_cost(duration_s, shape.memory_gb) * invocations,
        "SNS": PRICE_PER_MILLION_SNS_PUBLISHES,
        "logs": logs_cost(log_bytes) * invocations,
    }
    if shape.traced:
        parts["X-Ray"] = traced_share(per_second / batch_size) * PRICE_PER_MILLION_TRACES_RECORDED * invocations
    return parts


def platform_lines_bytes(busy_s: float) -> int:
    """Lambda's START, END and REPORT lines for one warm invocation, in its text format (without a trace)."""
    request_id = str(uuid.uuid4())
    ms = busy_s * 1000
    lines = (
        f"START RequestId: {request_id} Version: $LATEST\n",
        f"END RequestId: {request_id}\n",
        f"REPORT RequestId: {request_id}\tDuration: {ms:.2f} ms\tBilled Duration: {math.ceil(ms)} ms\t"
        "Memory Size: 512 MB\tMax Memory Used: 90 MB\t\n",
    )
    return sum(len(line.encode()) for line in lines)


def access_log_bytes(template: dict[str, Any], response_length: int) -> int:
    """The API's access-log line for one request, rendered from template.yaml's format."""
    line_format: str = resource(template, "WebhookApi")["Properties"]["AccessLogSettings"]["Format"]
    values = {**ACCESS_LOG_VALUES, "responseLength": str(response_length)}
    return len(re.sub(r"\$context\.([\w.]+)", lambda match: values[match[1]], line_format).encode()) + 1
