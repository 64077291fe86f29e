"""python -m devtools.bench [--quick] [--build] [--src DIR]: what a webhook costs, in one table.

Every figure is a median over repeated runs; each comparison is measured side by side, the two sides
interleaved, in the same run. The goals are printed next to the figures; nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path
from statistics import median
from typing import Any

import boto3

from devtools.bench import cost
from devtools.bench.cold_start import ColdStart, measure_cold_starts
from devtools.bench.emulator import running_emulator
from devtools.bench.events import REPO, EventFactory
from devtools.bench.in_process import (
    Function,
    WriteUnits,
    count_calls,
    count_write_units,
    measure_handler_cpu,
    measure_warm_latency,
)
from devtools.bench.package_size import package_rows, run_make_build
from devtools.bench.publisher import Publisher, measure_publisher, stream_batches
from devtools.bench.refusals import measure_refusals
from devtools.bench.table import Row, dollars, microseconds, milliseconds, percentile, render, row
from devtools.bench.write_units import TableShape, WriteMeter
from devtools.local_stack.resources import FUNCTION, PUBLISHER_FUNCTION
from devtools.local_stack.template import load_template, resource
from ops.local import REGION

# The goals of issue 5 (cold start, CPU) and of issue 26 (one write before the answer, publication by the stream).
COLD_START_GOAL = 1.5  # x the floor, each function
CPU_BEYOND_JSON_GOAL_S = 100e-6
WARM_LATENCY_GOAL = 1.0  # x the bare baseline, which also publishes
CALLS_GOAL = 1  # AWS calls before the answer, for a new event and for a duplicate
COST_GOAL = 4.50  # USD per million new events, the publisher's invocations included
# Low traffic: each event stored alone, read from the stream as soon as it is there, one a second at
# most (so X-Ray, where a function traces, records every invocation).
LOW_TRAFFIC_EVENTS_PER_SECOND = 1.0
# The largest and the smallest body Zenoti publishes, of the families typed on the one URL (issue 24).
FAMILY_EXTREMES = {
    "largest family (Invoice.Closed, 3.5 KB)": REPO / "events" / "apigw_invoice_closed.json",
    "smallest family (Guestpass.redeemed, 0.8 KB)": REPO / "events" / "apigw_guest_pass_redeemed.json",
}
DEFAULT = dict(cold_rounds=20, warm_rounds=30, warm_batch=40, cpu_rounds=15, cpu_batch=300, publisher_rounds=20)
QUICK = dict(cold_rounds=2, warm_rounds=2, warm_batch=10, cpu_rounds=3, cpu_batch=30, publisher_rounds=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions: a smoke test, not figures to trust")
    parser.add_argument("--build", action="store_true", help="run `make build` first, for the package size")
    parser.add_argument("--src", type=Path, default=REPO / "src", help="the functions' code root (default src/)")
    arguments = parser.parse_args(argv)
    src: Path = arguments.src.resolve()
    if not (src / "zenoti_receiver" / "publisher_handler.py").is_file():
        parser.error(f"{src} holds no zenoti_receiver/publisher_handler.py")
    repeat = QUICK if arguments.quick else DEFAULT
    build_status = 0
    if arguments.build:
        _progress("make build")
        build_status = run_make_build()

    started = time.perf_counter()
    events = EventFactory()
    # What the functions print is discarded: Powertools' log handler keeps the stdout of its import.
    with running_emulator() as (endpoint, resources), open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        _progress(f"emulator on {endpoint}; stream batches: new events stored, read from the stream")
        template = load_template()
        tables = {resources.table_name: "EventsTable", resources.held_table_name: "HeldBodiesTable"}
        reader = boto3.session.Session(region_name=REGION).client("dynamodb", endpoint_url=endpoint)
        meter = WriteMeter(
            reader, {name: TableShape.from_template(resource(template, id_)) for name, id_ in tables.items()}
        )
        receiving = resources.function_environment
        metered = Function(src, receiving, resources.topic_arn, write_meter=meter)
        batches = stream_batches(metered, events, endpoint, resources.stream_arn)
        size = len(batches["full"]["Records"])
        _progress(f"cold start, {repeat['cold_rounds']} processes of each function and of its floor")
        firsts: dict[str, tuple[str, dict[str, str], Any]] = {
            "receiver": ("receiver", receiving, events.new_event),
            "publisher": ("publisher", resources.publisher_environment, lambda: batches["one"]),
        }
        firsts.update(
            {label: ("receiver", receiving, EventFactory(path).new_event) for label, path in FAMILY_EXTREMES.items()}
        )
        cold = measure_cold_starts(repeat["cold_rounds"], src, firsts)
        _progress("AWS calls per event")
        function = Function(src, receiving, resources.topic_arn)
        calls = count_calls(function, events)  # first: its first event is the first of its environment
        _progress("handler CPU, AWS stubbed")
        cpu = measure_handler_cpu(function, src, events, repeat["cpu_rounds"], repeat["cpu_batch"])
        _progress("DynamoDB write units per event")
        writes = count_write_units(metered, meter, events)
        families = {
            label: count_write_units(metered, meter, EventFactory(path)) for label, path in FAMILY_EXTREMES.items()
        }
        _progress("refused requests")
        refusal_rows, refusal_prices = measure_refusals(function, events, rounds=repeat["cpu_rounds"] * 4)
        _progress("warm latency")
        warm = measure_warm_latency(function, events, repeat["warm_rounds"], repeat["warm_batch"])
        _progress(f"publisher, batches of 1 and {size}")
        publisher = Publisher(src, resources)
        durations = measure_publisher(publisher, batches, repeat["publisher_rounds"])
        printed = {name: publisher.printed_bytes(batch) for name, batch in batches.items()}
    _progress(f"done in {time.perf_counter() - started:.0f} s")

    published = {name: median(figures) for name, figures in durations.items()}
    cost_rows, family_costs, prices = _costs(
        template, writes, families, median(warm["handler"]), median(warm["baseline"]), published, printed, size
    )
    family_rows = [
        line
        for label in families
        for line in (*_cold_rows(cold[label], f"Cold start, receiver, {label}", "1st request"), *family_costs[label])
    ]
    print(
        f"Zenoti receiver benchmark: medians. Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"function code {src.relative_to(REPO) if src.is_relative_to(REPO) else src}.\n"
        f"cold start {repeat['cold_rounds']} processes of each function and of its floor; warm "
        f"{repeat['warm_rounds'] * repeat['warm_batch']} events a side in {repeat['warm_rounds']} interleaved batches; "
        f"CPU {repeat['cpu_rounds']} rounds of {repeat['cpu_batch']} events; publisher {repeat['publisher_rounds']} "
        "interleaved rounds of each batch.\n"
    )
    rows = [
        *_cold_rows(cold["receiver"], "Cold start, receiver: process + 1st request", "1st request"),
        *_cold_rows(cold["publisher"], "Cold start, publisher: process + 1st batch", "1st batch (1 event)"),
        *_warm_rows(warm),
        *_publisher_rows(published, size),
        *_cpu_rows(cpu),
        *_call_rows(calls),
        *_write_unit_rows(writes),
        *cost_rows,
        *family_rows,
        *refusal_rows,
        *package_rows(build_status),
    ]
    print(render(rows))
    print(prices)
    print(refusal_prices)
    return 1 if build_status else 0


def _cold_rows(cold: ColdStart, label: str, first: str) -> list[Row]:
    ours, floor = ({part: median(figures) for part, figures in cold[side].items()} for side in ("function", "floor"))
    ratio, goal = ours["wall"] / floor["wall"], f"<= {COLD_START_GOAL}x floor"
    reference = f"floor {milliseconds(floor['wall'])}"
    init, floor_init = (f"{side['init'] * 1000:.1f} + {side['request'] * 1000:.1f} ms" for side in (ours, floor))
    return [
        row(label, milliseconds(ours["wall"]), reference, f"{ratio:.2f}x", goal, ratio <= COLD_START_GOAL),
        row(f"  init (imports, clients) + {first}", init, floor_init),
    ]


def _warm_rows(warm: dict[str, list[float]]) -> list[Row]:
    ours, bare = warm["handler"], warm["baseline"]
    ratio, goal = median(ours) / median(bare), f"<= {WARM_LATENCY_GOAL}x baseline"
    reference = f"baseline {milliseconds(median(bare))} (stores, publishes)"
    p99, bare_p99 = percentile(ours, 0.99), percentile(bare, 0.99)
    # One execution environment takes its next request once it has answered: nothing runs after the answer.
    rate, bare_rate = len(ours) / sum(ours), len(bare) / sum(bare)
    return [
        row("Warm latency per event, median", milliseconds(median(ours)), reference, f"{ratio:.2f}x", goal, ratio <= 1),
        row("  p99 per event", milliseconds(p99), milliseconds(bare_p99), f"{p99 / bare_p99:.2f}x"),
        row("  events per second, one environment", f"{rate:.0f}/s", f"{bare_rate:.0f}/s", f"{rate / bare_rate:.2f}x"),
    ]


def _publisher_rows(published: dict[str, float], size: int) -> list[Row]:
    """The publisher's warm duration per invocation, which Lambda bills, against a bare boto3 loop."""
    one, bare_one, full, bare_full = (published[name] for name in ("ours one", "bare one", "ours full", "bare full"))
    reference, each = f"bare publisher {milliseconds(bare_one)}", f"{milliseconds(full / size)} an event"
    return [
        row("Publisher, warm, batch of 1 event", milliseconds(one), reference, f"{one / bare_one:.2f}x"),
        row(
            f"  batch of {size} events",
            f"{milliseconds(full)} ({each})",
            milliseconds(bare_full),
            f"{full / bare_full:.2f}x",
        ),
    ]


def _cpu_rows(cpu: dict[str, list[float]]) -> list[Row]:
    ours, own, bare, parsing = (median(cpu[side]) for side in ("handler", "own", "baseline", "json"))
    beyond, goal = own - parsing, f"< {microseconds(CPU_BEYOND_JSON_GOAL_S)} beyond JSON"
    return [
        row(
            "Handler CPU per event, AWS stubbed",
            microseconds(ours),
            f"botocore's client-side work {microseconds(ours - own)}",
        ),
        row(
            "  our own code (stand-in AWS clients)",
            microseconds(own),
            f"json.loads {microseconds(parsing)}",
            f"+{microseconds(beyond)} beyond",
            goal,
            beyond < CPU_BEYOND_JSON_GOAL_S,
        ),
        row(
            "  vs bare baseline, AWS stubbed",
            "",
            f"baseline {microseconds(bare)}",
            f"+{microseconds(ours - bare)} beyond",
        ),
    ]


def _call_rows(calls: dict[str, tuple[Counter[str], int]]) -> list[Row]:
    (first, _), (new, new_attempts), (duplicate, attempts) = calls["first"], calls["new"], calls["duplicate"]
    extra = ", ".join(sorted(name.split(".", 1)[1] for name in set(first) - set(new)))
    first_calls = f"1st in a process: {first.total()}" + (f" (+{extra})" if extra else "")
    retried = f"HTTP attempts: {attempts} (new: {new_attempts})"
    return [
        row(
            "AWS calls before the answer, new event",
            _operations(new),
            first_calls,
            "",
            f"<= {CALLS_GOAL}",
            new.total() <= CALLS_GOAL,
        ),
        row(
            "AWS calls before the answer, duplicate",
            _operations(duplicate),
            retried,
            "",
            f"<= {CALLS_GOAL}",
            duplicate.total() <= CALLS_GOAL,
        ),
    ]


def _write_unit_rows(writes: WriteUnits) -> list[Row]:
    baseline = f"bare baseline {writes.baseline.total()} (its item has no index key); the stream writes none"
    return [
        row(f"DynamoDB write units per {what}", _spent(units), reference, "", f"<= {goal}", units.total() <= goal)
        for what, units, reference, goal in (
            ("new event", writes.new, baseline, 3),
            ("duplicate", writes.duplicate, "the refused conditional put", 1),
            ("held body", writes.held, "the sample, under an unknown schema version", 1),
        )
    ]


def _costs(
    template: dict[str, Any],
    writes: WriteUnits,
    families: dict[str, WriteUnits],
    latency: float,
    baseline_latency: float,
    published: dict[str, float],
    printed: dict[str, int],
    size: int,
) -> tuple[list[Row], dict[str, list[Row]], str]:
    """What a million new events cost at list prices, at low traffic and at high, against the bare baseline; the
    two rows of each family at low traffic; and the prices that assumes."""
    shape, publisher_shape = (
        cost.FunctionShape.from_template(template, name) for name in (FUNCTION, PUBLISHER_FUNCTION)
    )
    access_log = cost.access_log_bytes(template, writes.response_bytes)

    def receiver_log(units: WriteUnits) -> int:
        return units.log_bytes + cost.platform_lines_bytes(latency) + access_log

    publisher_log = {name: printed[name] + cost.platform_lines_bytes(published[f"ours {name}"]) for name in printed}
    bare_log = cost.platform_lines_bytes(baseline_latency) + access_log  # it prints nothing itself
    low, high = LOW_TRAFFIC_EVENTS_PER_SECOND, cost.stage_rate_limit(template)
    baseline = cost.receiver_cost(shape, low, baseline_latency, writes.baseline.total(), bare_log, publishes=1)
    theirs = {
        name: cost.publisher_cost(publisher_shape, per_second, batch, published[f"ours {name}"], publisher_log[name])
        for name, per_second, batch in (("one", low, 1), ("full", high, size))
    }
    rows: list[Row] = []
    goal = f"<= ${COST_GOAL:.2f}"
    for traffic, per_second, name, how in (
        ("low", low, "one", "1 event an invocation"),
        ("high", high, "full", f"batches of {size}, {high:.0f} events/s"),
    ):
        ours = cost.receiver_cost(shape, per_second, latency, writes.new.total(), receiver_log(writes))
        receiving, publishing = sum(ours.values()), sum(theirs[name].values())
        total, ratio = receiving + publishing, (receiving + publishing) / sum(baseline.values())
        parts = f"receiver ${receiving:.2f} + publisher ${publishing:.2f} ({how})"
        rows += [
            row(
                f"Cost per million new events, {traffic} traffic",
                f"${total:.2f}",
                parts,
                f"{ratio:.2f}x",
                goal,
                total <= COST_GOAL,
            ),
            row("  receiver", f"${receiving:.2f}", dollars(ours)),
            row("  publisher", f"${publishing:.2f}", dollars(theirs[name])),
        ]
    rows.append(row("  bare baseline (stores, publishes)", f"${sum(baseline.values()):.2f}", dollars(baseline)))
    family_rows = {}
    for label, units in families.items():
        ours = cost.receiver_cost(shape, low, latency, units.new.total(), receiver_log(units))
        total = sum(ours.values()) + sum(theirs["one"].values())
        family_rows[label] = [
            row("  write units per new event", _spent(units.new)),
            row("  cost per million new events, low traffic", f"${total:.2f}", dollars(ours)),
        ]
    traced = [name for name, shape in ((FUNCTION, shape), (PUBLISHER_FUNCTION, publisher_shape)) if shape.traced]
    tracing = (
        f"X-Ray ${cost.PRICE_PER_MILLION_TRACES_RECORDED:.2f}/M traces for {' and '.join(traced)} (Tracing: Active):"
        " Lambda records the first invocation each second and 5% of the others, so every one at low traffic"
        if traced
        else "no function is traced (Tracing: PassThrough), so no X-Ray"
    )
    prices = (
        "\nCost per million new events assumes list prices in us-east-1: DynamoDB on-demand"
        f" ${cost.PRICE_PER_MILLION_WRITE_UNITS}/M write units;"
        f" HTTP API ${cost.PRICE_PER_MILLION_HTTP_API_REQUESTS:.2f}/M; Lambda ${cost.PRICE_PER_MILLION_LAMBDA_REQUESTS:.2f}/M"
        f" + ${cost.PRICE_PER_LAMBDA_GB_SECOND_ARM}/GB-s (arm64),"
        f" billed by the millisecond at {shape.memory_gb:g} GB for the receiver's warm median"
        f" ({milliseconds(latency)}) and {publisher_shape.memory_gb:g} GB for the publisher's per batch of 1"
        f" ({milliseconds(published['ours one'])}) and of {size} ({milliseconds(published['ours full'])});"
        f" SNS ${cost.PRICE_PER_MILLION_SNS_PUBLISHES:.2f}/M; CloudWatch Logs ${cost.PRICE_PER_GB_LOGS_INGESTED:.2f}/GB"
        f" for {receiver_log(writes)} bytes per event from the receiver ({writes.log_bytes} its own lines"
        " and metrics, the rest Lambda's lines and the API's access log) and, per invocation of the publisher,"
        f" {publisher_log['one']} bytes with 1 event and {publisher_log['full']} with {size} ({printed['one']} and"
        f" {printed['full']} its own, the rest Lambda's); {tracing}. The publisher reads the table's stream through"
        " its event source mapping: DynamoDB Streams reads by Lambda triggers are free. Free tiers not counted."
    )
    return rows, family_rows, prices


def _operations(calls: Counter[str]) -> str:
    named = (name.split(".", 1)[1] + (f" x{count}" if count > 1 else "") for name, count in calls.items())
    return f"{calls.total()} ({', '.join(named)})"


def _spent(units: Counter[str]) -> str:
    return f"{units.total()} ({', '.join(f'{where} {spent}' for where, spent in sorted(units.items()))})"


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
