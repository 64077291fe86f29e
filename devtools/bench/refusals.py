"""What a refused request (401, 405, 413) costs: the bytes it logs, its metric documents, and the price.
Anyone who finds the URL can send them by the million. `python -m devtools.bench.refusals [--src DIR]`: this alone."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from pathlib import Path
from statistics import median
from typing import Any

from devtools.bench import cost
from devtools.bench.emulator import running_emulator
from devtools.bench.in_process import EventFactory, Function, invoke, printing
from devtools.bench.table import Row, dollars, row
from devtools.local_stack.resources import FUNCTION
from devtools.local_stack.template import REPO, load_template, parameter_default

KINDS = {"unauthorized": 401, "method_not_allowed": 405, "payload_too_large": 413}  # reason: status


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


def measure_refusals(function: Function, events: EventFactory, rounds: int = 200) -> tuple[list[Row], str]:
    """The two rows of the table, the medians over `rounds` of each kind of refusal, and the prices they assume."""
    outputs, busy, lengths = [], [], []
    invoke(function.handler, refused_event(events, "unauthorized"), "refused", 401)  # its metric documents
    for kind in list(KINDS) * rounds:
        with printing() as output:
            response, took = invoke(function.handler, refused_event(events, kind), "refused", KINDS[kind])
        outputs.append(output.getvalue())
        busy.append(took)
        lengths.append(len(response["body"]))
    documents = [sum(line.startswith('{"_aws"') for line in text.splitlines()) for text in outputs]
    lines = int(median(len(text.splitlines()) - count for text, count in zip(outputs, documents, strict=True)))
    printed, busy_s = int(median(len(text.encode()) for text in outputs)), median(busy)
    document = int(median(documents))
    template = load_template()
    shape = cost.FunctionShape.from_template(template, FUNCTION)
    flood = float(parameter_default(template, "ThrottlingRateLimit"))  # the most the stage lets through
    lambdas, access_log = cost.platform_lines_bytes(busy_s), cost.access_log_bytes(template, int(median(lengths)))
    costs = cost.receiver_cost(shape, flood, busy_s, 0, printed + lambdas + access_log)
    costs.setdefault("X-Ray", 0.0)  # shown untraced too: what a flood's traces would add
    met = document == 1 and lines == 0
    ours = f"{printed} B printed, {document} metric document, {lines} log lines"
    reference = f"+ Lambda's lines {lambdas} B, access log {access_log} B"
    rows = [
        row("Per refused request (401, 405, 413)", ours, reference, "", "1 document, 0 lines", met),
        row("Cost per million refused requests", f"${sum(costs.values()):.2f}", dollars(costs), "", "(none)"),
    ]
    traced = (
        f"X-Ray ${cost.PRICE_PER_MILLION_TRACES_RECORDED:.2f}/M traces for the {cost.traced_share(flood):.1%} Active"
        f" tracing records at {flood:.0f}/s"
        if shape.traced
        else "no trace (the receiver's Tracing is PassThrough)"
    )
    prices = (
        f"Cost per million refused requests: HTTP API ${cost.PRICE_PER_MILLION_HTTP_API_REQUESTS:.2f}/M; Lambda"
        f" ${cost.PRICE_PER_MILLION_LAMBDA_REQUESTS:.2f}/M + {cost.billed_seconds(busy_s) * 1000:.0f} ms billed at"
        f" {shape.memory_gb:g} GB; CloudWatch Logs ${cost.PRICE_PER_GB_LOGS_INGESTED:.2f}/GB for the bytes above;"
        f" {traced}. Metrics from EMF are billed per metric a month, not per document."
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
