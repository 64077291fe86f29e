"""What a refused request (401, 405, 413) costs: the bytes it logs, its metric documents, and the price.

Anyone who finds the URL can send refusals by the million, so each is measured as CloudWatch would bill
it: what the function prints (its log lines and EMF documents), Lambda's own lines for the invocation,
and the API's access-log line rendered from template.yaml's format.

    python -m devtools.bench.refusals [--src DIR]     this part of `make bench` alone
"""

from __future__ import annotations

import argparse
import io
import json
import math
import re
import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.bench.emulator import Emulator
from devtools.bench.events import REPO, EventFactory
from devtools.bench.in_process import Function, printing_to
from devtools.local_stack.receiver import LambdaContext
from devtools.local_stack.template import load_template, resource

# List prices (us-east-1, 2026), the same as devtools/bench/__main__.py's.
PRICE_PER_MILLION_HTTP_API_REQUESTS = 1.00
PRICE_PER_MILLION_LAMBDA_REQUESTS = 0.20
PRICE_PER_LAMBDA_GB_SECOND_ARM = 0.0000133334
PRICE_PER_GB_LOGS_INGESTED = 0.50
PRICE_PER_MILLION_TRACES_RECORDED = 5.00
FUNCTION_MEMORY_GB = 0.5
# X-Ray's default rule, which Lambda's Active tracing applies and which cannot be changed for it: the first
# request each second, and 5% of the others. At the stage's steady limit (ThrottlingRateLimit, 500/s):
FLOOD_PER_SECOND = 500
ACTIVE_TRACED_SHARE = (1 + 0.05 * (FLOOD_PER_SECOND - 1)) / FLOOD_PER_SECOND
KINDS = ("unauthorized", "method_not_allowed", "payload_too_large")
ROUNDS = 200


@dataclass(frozen=True)
class Refusals:
    """Per refused request: the medians over the three kinds of refusal, each measured ROUNDS times."""

    function_log_bytes: int  # what the function printed: log lines and EMF documents
    log_lines: int  # of those, lines that are not metric documents
    metric_documents: int
    platform_bytes: int  # Lambda's START, END and REPORT lines for the invocation
    access_log_bytes: int
    busy_s: float
    traced: bool  # the receiver's Tracing is Active

    @property
    def billed_ms(self) -> int:
        return max(1, math.ceil(self.busy_s * 1000))  # Lambda bills by the millisecond, at least 1

    def cost_per_million(self) -> dict[str, float]:
        logged = self.function_log_bytes + self.platform_bytes + self.access_log_bytes
        return {
            "API": PRICE_PER_MILLION_HTTP_API_REQUESTS,
            "Lambda": PRICE_PER_MILLION_LAMBDA_REQUESTS
            + self.billed_ms / 1000 * FUNCTION_MEMORY_GB * PRICE_PER_LAMBDA_GB_SECOND_ARM * 1_000_000,
            "logs": logged * 1_000_000 / 1e9 * PRICE_PER_GB_LOGS_INGESTED,
            "X-Ray": ACTIVE_TRACED_SHARE * PRICE_PER_MILLION_TRACES_RECORDED if self.traced else 0.0,
        }


def refused_event(events: EventFactory, kind: str) -> dict[str, Any]:
    event = events.new_event()
    if kind == "unauthorized":
        event["queryStringParameters"] = {"token": "not-the-token"}
        event["rawQueryString"] = "token=not-the-token"
    elif kind == "method_not_allowed":
        event["requestContext"]["http"]["method"] = "GET"
    else:
        event["body"] = json.dumps({**json.loads(event["body"]), "padding": "x" * (256 * 1024)})
    return event


def measure_refusals(function: Function, events: EventFactory, rounds: int = ROUNDS) -> Refusals:
    printed: dict[str, list[str]] = {kind: [] for kind in KINDS}
    busy: list[float] = []
    lengths: list[int] = []
    with function.quiet():
        function.invoke(function.handler, refused_event(events, "unauthorized"))  # the cold start's documents
    for _ in range(rounds):
        for kind in KINDS:
            event = refused_event(events, kind)
            output = io.StringIO()
            with printing_to(output):
                started = time.perf_counter()
                response = function.handler(event, LambdaContext(aws_request_id=str(uuid.uuid4())))
                busy.append(time.perf_counter() - started)
            if json.loads(response["body"]).get("reason") != kind:
                raise RuntimeError(f"expected a refusal for {kind}, got {response['statusCode']}: {response['body']}")
            printed[kind].append(output.getvalue())
            lengths.append(len(response["body"]))
    outputs = [text for texts in printed.values() for text in texts]
    documents = [sum(line.startswith('{"_aws"') for line in text.splitlines()) for text in outputs]
    lines = [len(text.splitlines()) for text in outputs]
    template = load_template()
    return Refusals(
        function_log_bytes=int(statistics.median(len(text.encode()) for text in outputs)),
        log_lines=int(statistics.median(total - docs for total, docs in zip(lines, documents, strict=True))),
        metric_documents=int(statistics.median(documents)),
        platform_bytes=platform_lines_bytes(statistics.median(busy)),
        access_log_bytes=access_log_bytes(template, int(statistics.median(lengths))),
        busy_s=statistics.median(busy),
        traced=_tracing(template) == "Active",
    )


def platform_lines_bytes(busy_s: float) -> int:
    """Lambda's own lines for one warm invocation, in its text format (what it writes without a trace)."""
    request_id = str(uuid.uuid4())
    ms = busy_s * 1000
    lines = (
        f"START RequestId: {request_id} Version: $LATEST\n",
        f"END RequestId: {request_id}\n",
        f"REPORT RequestId: {request_id}\tDuration: {ms:.2f} ms\tBilled Duration: {math.ceil(ms)} ms\t"
        "Memory Size: 512 MB\tMax Memory Used: 90 MB\t\n",
    )
    return sum(len(line.encode()) for line in lines)


# What a refusal's access-log line holds: an HTTP API request id, an IPv4 address, ...
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


def access_log_bytes(template: dict[str, Any], response_length: int) -> int:
    """The API's access-log line for one refusal, rendered from template.yaml's format."""
    line_format: str = resource(template, "WebhookApi")["Properties"]["AccessLogSettings"]["Format"]
    values = {**ACCESS_LOG_VALUES, "responseLength": str(response_length)}
    return len(re.sub(r"\$context\.([\w.]+)", lambda match: values[match[1]], line_format).encode()) + 1


def _tracing(template: dict[str, Any]) -> str:
    own = resource(template, "ReceiverFunction")["Properties"].get("Tracing")
    return str(own or template["Globals"]["Function"].get("Tracing", "PassThrough"))


def refusal_rows(refusals: Refusals) -> list[tuple[str, str, str, str, str, str]]:
    cost = refusals.cost_per_million()
    return [
        (
            "Per refused request (401, 405, 413)",
            f"{refusals.function_log_bytes} B printed, {refusals.metric_documents} metric document, "
            f"{refusals.log_lines} log lines",
            f"+ Lambda's lines {refusals.platform_bytes} B, access log {refusals.access_log_bytes} B",
            "",
            "1 document, 0 lines",
            "met" if refusals.metric_documents == 1 and refusals.log_lines == 0 else "NOT MET",
        ),
        (
            "Cost per million refused requests",
            f"${sum(cost.values()):.2f}",
            ", ".join(f"{name} ${value:.2f}" for name, value in cost.items()),
            "",
            "(none)",
            "",
        ),
    ]


def refusal_prices(refusals: Refusals) -> str:
    traced = (
        f"X-Ray ${PRICE_PER_MILLION_TRACES_RECORDED:.2f}/M traces for the {ACTIVE_TRACED_SHARE:.1%} Active tracing"
        f" records at {FLOOD_PER_SECOND}/s"
        if refusals.traced
        else "no trace (the receiver's Tracing is PassThrough)"
    )
    return (
        f"Cost per million refused requests: HTTP API ${PRICE_PER_MILLION_HTTP_API_REQUESTS:.2f}/M; Lambda"
        f" ${PRICE_PER_MILLION_LAMBDA_REQUESTS:.2f}/M + {refusals.billed_ms} ms billed at {FUNCTION_MEMORY_GB:g} GB;"
        f" CloudWatch Logs ${PRICE_PER_GB_LOGS_INGESTED:.2f}/GB for the bytes above; {traced}. Metrics from EMF"
        " are billed per metric a month, not per document."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.refusals", description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=REPO / "src", help="the function's code root (default src/)")
    arguments = parser.parse_args(argv)
    with Emulator() as emulator:
        function = Function(arguments.src.resolve(), emulator.function_environment(), emulator.topic_arn)
        refusals = measure_refusals(function, EventFactory())
    for row in refusal_rows(refusals):
        print("  ".join(cell for cell in row if cell))
    print(refusal_prices(refusals))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
