"""What a refused request (401, 405, 413) costs: the bytes it logs, its metric documents, and the price.

Anyone who finds the URL can send refusals by the million, so each is measured as CloudWatch would bill it:
what the function prints, Lambda's own lines for the invocation, and the API's access-log line rendered from
template.yaml's format.

    python -m devtools.bench.refusals [--src DIR]     this part of `make bench` alone
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from devtools.bench.cost import (
    PRICE_PER_GB_LOGS_INGESTED,
    PRICE_PER_MILLION_HTTP_API_REQUESTS,
    PRICE_PER_MILLION_LAMBDA_REQUESTS,
    PRICE_PER_MILLION_TRACES_RECORDED,
    FunctionShape,
    access_log_bytes,
    billed_seconds,
    platform_lines_bytes,
    receiver_cost,
    stage_rate_limit,
    traced_share,
)
from devtools.bench.emulator import running_emulator
from devtools.bench.events import REPO, EventFactory
from devtools.bench.in_process import Function, printing_to
from devtools.bench.table import Row, dollars, row
from devtools.local_stack.receiver import LambdaContext
from devtools.local_stack.resources import FUNCTION
from devtools.local_stack.template import load_template

KINDS = ("unauthorized", "method_not_allowed", "payload_too_large")
ROUNDS = 200


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


def measure_refusals(function: Function, events: EventFactory, rounds: int = ROUNDS) -> tuple[list[Row], str]:
    """The two rows of the table, the medians over `rounds` of each kind of refusal, and the prices they assume."""
    printed, busy, lengths = [], [], []
    function.handler(refused_event(events, "unauthorized"), LambdaContext("cold-start"))  # its metric documents
    for _ in range(rounds):
        for kind in KINDS:
            output = io.StringIO()
            event = refused_event(events, kind)
            context = LambdaContext(aws_request_id=str(uuid.uuid4()))
            with printing_to(output):
                started = time.perf_counter()
                response = function.handler(event, context)
                busy.append(time.perf_counter() - started)
            if json.loads(response["body"]).get("reason") != kind:
                raise RuntimeError(f"expected a refusal for {kind}, got {response['statusCode']}: {response['body']}")
            printed.append(output.getvalue())
            lengths.append(len(response["body"]))
    documents = int(
        statistics.median(sum(line.startswith('{"_aws"') for line in text.splitlines()) for text in printed)
    )
    lines = int(
        statistics.median(sum(not line.startswith('{"_aws"') for line in text.splitlines()) for text in printed)
    )
    printed_bytes = int(statistics.median(len(text.encode()) for text in printed))
    template = load_template()
    shape, flood = FunctionShape.from_template(template, FUNCTION), stage_rate_limit(template)
    busy_s = statistics.median(busy)
    platform, access_log = platform_lines_bytes(busy_s), access_log_bytes(template, int(statistics.median(lengths)))
    cost = receiver_cost(shape, flood, busy_s, 0, printed_bytes + platform + access_log)
    cost.setdefault("X-Ray", 0.0)  # shown when no function is traced too: what a flood's traces would add
    rows = [
        row(
            "Per refused request (401, 405, 413)",
            f"{printed_bytes} B printed, {documents} metric document, {lines} log lines",
            f"+ Lambda's lines {platform} B, access log {access_log} B",
            goal="1 document, 0 lines",
            met=documents == 1 and lines == 0,
        ),
        row("Cost per million refused requests", f"${sum(cost.values()):.2f}", dollars(cost), goal="(none)"),
    ]
    traced = (
        f"X-Ray ${PRICE_PER_MILLION_TRACES_RECORDED:.2f}/M traces for the {traced_share(flood):.1%} Active tracing"
        f" records at {flood:.0f}/s"
        if shape.traced
        else "no trace (the receiver's Tracing is PassThrough)"
    )
    prices = (
        f"Cost per million refused requests: HTTP API ${PRICE_PER_MILLION_HTTP_API_REQUESTS:.2f}/M; Lambda"
        f" ${PRICE_PER_MILLION_LAMBDA_REQUESTS:.2f}/M + {billed_seconds(busy_s) * 1000:.0f} ms billed at"
        f" {shape.memory_gb:g} GB; CloudWatch Logs ${PRICE_PER_GB_LOGS_INGESTED:.2f}/GB for the bytes above; {traced}."
        " Metrics from EMF are billed per metric a month, not per document."
    )
    return rows, prices


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.refusals", description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=REPO / "src", help="the function's code root (default src/)")
    arguments = parser.parse_args(argv)
    with running_emulator() as (_, resources), open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        function = Function(arguments.src.resolve(), resources.function_environment, resources.topic_arn)
        rows, prices = measure_refusals(function, EventFactory())
    for cells in rows:
        print("  ".join(cell for cell in cells if cell))
    print(prices)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
