"""What a million new events cost at list prices: the receiver's part, the publisher's, and the bare baseline's.

The durations, log bytes and write units come from the run; memory, tracing and the stage's rate limit
from template.yaml; the prices are AWS's list prices below. Free tiers are not counted.
"""

from __future__ import annotations

import math
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


@dataclass(frozen=True)
class ReceiverBill:
    """Per new event, as measured: the receiving function (or the bare baseline, which also publishes)."""

    duration_s: float  # the warm latency median: an environment is billed until it answers
    write_units: int
    log_bytes: int  # what it printed, Lambda's lines for the invocation and the API's access-log line
    publishes: int  # SNS publishes it makes itself (the bare baseline: 1)

    def cost_per_million(self, shape: FunctionShape, events_per_second: float) -> dict[str, float]:
        parts = {
            "API": PRICE_PER_MILLION_HTTP_API_REQUESTS,
            "Lambda": lambda_cost(self.duration_s, shape.memory_gb),
            "DynamoDB": self.write_units * PRICE_PER_MILLION_WRITE_UNITS,
            "logs": logs_cost(self.log_bytes),
        }
        if self.publishes:
            parts["SNS"] = self.publishes * PRICE_PER_MILLION_SNS_PUBLISHES
        if shape.traced:
            parts["X-Ray"] = traced_share(events_per_second) * PRICE_PER_MILLION_TRACES_RECORDED
        return parts


@dataclass(frozen=True)
class PublisherBill:
    """Per invocation of the publisher with a batch of `batch_size` new events, as measured."""

    batch_size: int
    duration_s: float  # its warm duration median for such a batch
    log_bytes: int  # what it printed for the batch, and Lambda's lines for the invocation

    def cost_per_million_events(self, shape: FunctionShape, events_per_second: float) -> dict[str, float]:
        invocations = 1 / self.batch_size  # per event
        parts = {
            "Lambda": lambda_cost(self.duration_s, shape.memory_gb) * invocations,
            "SNS": PRICE_PER_MILLION_SNS_PUBLISHES,
            "logs": logs_cost(self.log_bytes) * invocations,
        }
        if shape.traced:
            share = traced_share(events_per_second / self.batch_size)
            parts["X-Ray"] = share * PRICE_PER_MILLION_TRACES_RECORDED * invocations
        return parts
