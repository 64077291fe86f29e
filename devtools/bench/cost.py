"""What a million events cost at AWS's list prices, from the run's durations, log bytes and write units, and
template.yaml's memory, tracing and rate limit. Free tiers are not counted."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from statistics import median
from typing import Any

from devtools.bench.in_process import WriteUnits
from devtools.bench.table import Row, dollars, milliseconds, row, spent
from devtools.local_stack.resources import FUNCTION, PUBLISHER_FUNCTION
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
COST_GOAL = 4.50  # USD per million new events, the publisher's invocations included (issue 26)
# Low traffic: each event stored alone, read from the stream as soon as it is there, one a second at
# most (so X-Ray, where a function traces, records every invocation).
LOW_TRAFFIC_EVENTS_PER_SECOND = 1.0
# What the API's access-log line holds for a request: an HTTP API request id, an IPv4 address, ...
ACCESS_LOG_VALUES = {
    "requestId": "JQ1ZdgGnIAMEVhQ=", "identity.sourceIp": "203.0.113.10", "routeKey": "POST /zenoti/webhook",
    "status": "401", "integrationLatency": "2", "integrationErrorMessage": "-",
}  # fmt: skip


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
    return min(1.0, (1 + 0.05 * (invocations_per_second - 1)) / invocations_per_second)


@dataclass(frozen=True)
class FunctionShape:
    """What template.yaml says about a function that its bill depends on."""

    memory_gb: float
    traced: bool  # Tracing: Active

    @classmethod
    def from_template(cls, template: dict[str, Any], name: str) -> FunctionShape:
        own, shared = resource(template, name)["Properties"], template["Globals"]["Function"]
        memory_mb = int(own.get("MemorySize", shared.get("MemorySize", 128)))
        return cls(memory_mb / 1024, str(own.get("Tracing", shared.get("Tracing", "PassThrough"))) == "Active")


def receiver_cost(
    shape: FunctionShape, per_second: float, duration_s: float, write_units: int, log_bytes: int, publishes: int = 0
) -> dict[str, float]:
    """A million requests to the receiver (or the bare baseline, which publishes itself), billed until it answers;
    `log_bytes`: what it printed, Lambda's lines for the invocation and the API's access-log line."""
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
    request_id, ms = str(uuid.uuid4()), busy_s * 1000
    text = (
        f"START RequestId: {request_id} Version: $LATEST\nEND RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: {ms:.2f} ms\tBilled Duration: {math.ceil(ms)} ms\t"
        "Memory Size: 512 MB\tMax Memory Used: 90 MB\t\n"
    )
    return len(text.encode())


def access_log_bytes(template: dict[str, Any], response_length: int) -> int:
    """The API's access-log line for one request, rendered from template.yaml's format."""
    line_format: str = resource(template, "WebhookApi")["Properties"]["AccessLogSettings"]["Format"]
    values = {**ACCESS_LOG_VALUES, "responseLength": str(response_length)}
    return len(re.sub(r"\$context\.([\w.]+)", lambda match: values[match[1]], line_format).encode()) + 1


def new_event_costs(
    template: dict[str, Any],
    writes: WriteUnits,
    families: dict[str, WriteUnits],
    warm: dict[str, list[float]],
    published: dict[str, float],
    printed: dict[str, int],
    size: int,
) -> tuple[list[Row], dict[str, list[Row]], str]:
    """The rows of a million new events at low traffic and at high against the bare baseline, each family's at
    low traffic, and the prices they assume: from this run's medians and template.yaml."""
    shape, publisher_shape = (FunctionShape.from_template(template, name) for name in (FUNCTION, PUBLISHER_FUNCTION))
    latency, bare_latency = median(warm["handler"]), median(warm["baseline"])
    access_log = access_log_bytes(template, writes.response_bytes)

    def receiver_log(units: WriteUnits) -> int:
        return units.log_bytes + platform_lines_bytes(latency) + access_log

    publisher_log = {name: printed[name] + platform_lines_bytes(published[f"ours {name}"]) for name in printed}
    bare_log = platform_lines_bytes(bare_latency) + access_log  # it prints nothing itself
    # The webhook stage's steady requests per second: the most traffic there can be.
    low, high = LOW_TRAFFIC_EVENTS_PER_SECOND, float(parameter_default(template, "ThrottlingRateLimit"))
    baseline = receiver_cost(shape, low, bare_latency, writes.baseline.total(), bare_log, publishes=1)
    theirs = {
        name: publisher_cost(publisher_shape, per_second, batch, published[f"ours {name}"], publisher_log[name])
        for name, per_second, batch in (("one", low, 1), ("full", high, size))
    }
    rows: list[Row] = []
    for traffic, per_second, name, how in (
        ("low", low, "one", "1 event an invocation"),
        ("high", high, "full", f"batches of {size}, {high:.0f} events/s"),
    ):
        ours = receiver_cost(shape, per_second, latency, writes.new.total(), receiver_log(writes))
        receiving, publishing = sum(ours.values()), sum(theirs[name].values())
        total, label = receiving + publishing, f"Cost per million new events, {traffic} traffic"
        parts = f"receiver ${receiving:.2f} + publisher ${publishing:.2f} ({how})"
        ratio = total / sum(baseline.values())
        rows += [
            row(label, f"${total:.2f}", parts, f"{ratio:.2f}x", f"<= ${COST_GOAL:.2f}", total <= COST_GOAL),
            row("  receiver", f"${receiving:.2f}", dollars(ours)),
            row("  publisher", f"${publishing:.2f}", dollars(theirs[name])),
        ]
    rows.append(row("  bare baseline (stores, publishes)", f"${sum(baseline.values()):.2f}", dollars(baseline)))
    family_rows = {}
    for label, units in families.items():
        ours = receiver_cost(shape, low, latency, units.new.total(), receiver_log(units))
        total = sum(ours.values()) + sum(theirs["one"].values())
        family_rows[label] = [
            row("  write units per new event", spent(units.new)),
            row("  cost per million new events, low traffic", f"${total:.2f}", dollars(ours)),
        ]
    traced = [name for name, traces in ((FUNCTION, shape), (PUBLISHER_FUNCTION, publisher_shape)) if traces.traced]
    tracing = (
        f"X-Ray ${PRICE_PER_MILLION_TRACES_RECORDED:.2f}/M traces for {' and '.join(traced)} (Tracing: Active):"
        " Lambda records the first invocation each second and 5% of the others, so every one at low traffic"
        if traced
        else "no function is traced (Tracing: PassThrough), so no X-Ray"
    )
    prices = (
        "\nCost per million new events assumes list prices in us-east-1: DynamoDB on-demand"
        f" ${PRICE_PER_MILLION_WRITE_UNITS}/M write units; HTTP API ${PRICE_PER_MILLION_HTTP_API_REQUESTS:.2f}/M;"
        f" Lambda ${PRICE_PER_MILLION_LAMBDA_REQUESTS:.2f}/M + ${PRICE_PER_LAMBDA_GB_SECOND_ARM}/GB-s (arm64),"
        f" billed by the millisecond at {shape.memory_gb:g} GB for the receiver's warm median"
        f" ({milliseconds(latency)}) and {publisher_shape.memory_gb:g} GB for the publisher's per batch of 1"
        f" ({milliseconds(published['ours one'])}) and of {size} ({milliseconds(published['ours full'])});"
        f" SNS ${PRICE_PER_MILLION_SNS_PUBLISHES:.2f}/M; CloudWatch Logs ${PRICE_PER_GB_LOGS_INGESTED:.2f}/GB for"
        f" {receiver_log(writes)} bytes per event from the receiver ({writes.log_bytes} its own lines"
        " and metrics, the rest Lambda's lines and the API's access log) and, per invocation of the publisher,"
        f" {publisher_log['one']} bytes with 1 event and {publisher_log['full']} with {size} ({printed['one']} and"
        f" {printed['full']} its own, the rest Lambda's); {tracing}. The publisher reads the table's stream through"
        " its event source mapping: DynamoDB Streams reads by Lambda triggers are free. Free tiers not counted."
    )
    return rows, family_rows, prices
