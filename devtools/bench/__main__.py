"""python -m devtools.bench [--quick] [--build] [--src DIR]: what a webhook costs, in one table.
Medians over repeated runs, each comparison's two sides interleaved in the same run; goals printed, never asserted."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path
from statistics import median, quantiles

import boto3

from devtools.bench import in_process
from devtools.bench.cold_start import ColdStart, measure_cold_starts
from devtools.bench.cost import new_event_costs
from devtools.bench.emulator import running_emulator
from devtools.bench.in_process import EventFactory, Function, WriteUnits, count_write_units
from devtools.bench.package_size import package_rows, run_make_build
from devtools.bench.refusals import measure_refusals
from devtools.bench.table import Row, microseconds, milliseconds, render, row, spent
from devtools.bench.write_units import WriteMeter
from devtools.local_stack.template import REPO, load_template, resource
from ops.local import REGION

# The goals of issue 5 (cold start, CPU) and of issue 26 (one write before the answer, publication by the stream).
COLD_START_GOAL = 1.5  # x the floor, each function
CPU_BEYOND_JSON_GOAL_S = 100e-6
WARM_LATENCY_GOAL = 1.0  # x the bare baseline, which also publishes
CALLS_GOAL = 1  # AWS calls before the answer, for a new event and for a duplicate
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
    build_status = run_make_build() if arguments.build else 0

    started = time.perf_counter()
    events = EventFactory()
    families = {label: EventFactory(path) for label, path in FAMILY_EXTREMES.items()}
    # What the functions print is discarded: Powertools' log handler keeps the stdout of its import.
    with running_emulator() as (endpoint, resources), open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        _progress(f"emulator on {endpoint}; stream batches: new events stored, read from the stream")
        template = load_template()
        logical_ids = {resources.table_name: "EventsTable", resources.held_table_name: "HeldBodiesTable"}
        tables = {name: resource(template, logical_id) for name, logical_id in logical_ids.items()}
        meter = WriteMeter(boto3.session.Session(region_name=REGION).client("dynamodb", endpoint_url=endpoint), tables)
        receiving = resources.function_environment
        metered = Function(src, receiving, resources.topic_arn, write_meter=meter)
        batches = in_process.stream_batches(metered, events, endpoint, resources.stream_arn)
        size = len(batches["full"]["Records"])
        _progress(f"cold start, {repeat['cold_rounds']} processes of each function and of its floor")
        first_requests = {
            "receiver": ("receiver", receiving, events.new_event),
            "publisher": ("publisher", resources.publisher_environment, lambda: batches["one"]),
            **{label: ("receiver", receiving, family.new_event) for label, family in families.items()},
        }
        cold = measure_cold_starts(repeat["cold_rounds"], src, first_requests)
        _progress("AWS calls per event")
        function = Function(src, receiving, resources.topic_arn)
        calls = in_process.count_calls(function, events)  # first: its first event is the first of its environment
        _progress("handler CPU, AWS stubbed")
        cpu = in_process.measure_cpu(function, src, events, repeat["cpu_rounds"], repeat["cpu_batch"])
        _progress("DynamoDB write units per event")
        writes = count_write_units(metered, meter, events)
        family_writes = {label: count_write_units(metered, meter, family) for label, family in families.items()}
        _progress("refused requests")
        refusal_rows, refusal_prices = measure_refusals(function, events, rounds=repeat["cpu_rounds"] * 4)
        _progress("warm latency")
        warm = in_process.measure_latency(function, events, repeat["warm_rounds"], repeat["warm_batch"])
        _progress(f"publisher, batches of 1 and {size}")
        published, printed = in_process.measure_publisher(src, resources, batches, repeat["publisher_rounds"])
    _progress(f"done in {time.perf_counter() - started:.0f} s")

    cost_rows, family_costs, prices = new_event_costs(template, writes, family_writes, warm, published, printed, size)
    family_rows = []
    for label in families:
        family_rows += [*_cold_rows(cold[label], f"Cold start, receiver, {label}", "1st request"), *family_costs[label]]
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
    reference, met = f"baseline {milliseconds(median(bare))} (stores, publishes)", ratio <= WARM_LATENCY_GOAL
    p99, bare_p99 = (quantiles(side, n=100, method="inclusive")[98] for side in (ours, bare))
    # One execution environment takes its next request once it has answered: nothing runs after the answer.
    rate, bare_rate = len(ours) / sum(ours), len(bare) / sum(bare)
    return [
        row("Warm latency per event, median", milliseconds(median(ours)), reference, f"{ratio:.2f}x", goal, met),
        row("  p99 per event", milliseconds(p99), milliseconds(bare_p99), f"{p99 / bare_p99:.2f}x"),
        row("  events per second, one environment", f"{rate:.0f}/s", f"{bare_rate:.0f}/s", f"{rate / bare_rate:.2f}x"),
    ]


def _publisher_rows(published: dict[str, float], size: int) -> list[Row]:
    """The publisher's warm duration per invocation, which Lambda bills, against a bare boto3 loop."""
    one, bare_one, full, bare_full = (published[name] for name in ("ours one", "bare one", "ours full", "bare full"))
    reference = f"bare publisher {milliseconds(bare_one)}"
    each = f"{milliseconds(full)} ({milliseconds(full / size)} an event)"
    return [
        row("Publisher, warm, batch of 1 event", milliseconds(one), reference, f"{one / bare_one:.2f}x"),
        row(f"  batch of {size} events", each, milliseconds(bare_full), f"{full / bare_full:.2f}x"),
    ]


def _cpu_rows(cpu: dict[str, list[float]]) -> list[Row]:
    ours, own, bare, parsing = (median(cpu[side]) for side in ("handler", "own", "baseline", "json"))
    beyond, goal = own - parsing, f"< {microseconds(CPU_BEYOND_JSON_GOAL_S)} beyond JSON"
    met = beyond < CPU_BEYOND_JSON_GOAL_S
    botocore, json = f"botocore's client-side work {microseconds(ours - own)}", f"json.loads {microseconds(parsing)}"
    more, more_than_bare = f"+{microseconds(beyond)} beyond", f"+{microseconds(ours - bare)} beyond"
    return [
        row("Handler CPU per event, AWS stubbed", microseconds(ours), botocore),
        row("  our own code (stand-in AWS clients)", microseconds(own), json, more, goal, met),
        row("  vs bare baseline, AWS stubbed", "", f"baseline {microseconds(bare)}", more_than_bare),
    ]


def _call_rows(calls: dict[str, tuple[Counter[str], int]]) -> list[Row]:
    (first, _), (new, new_attempts), (duplicate, attempts) = calls["first"], calls["new"], calls["duplicate"]
    extra = ", ".join(sorted(name.split(".", 1)[1] for name in set(first) - set(new)))
    first_calls = f"1st in a process: {first.total()}" + (f" (+{extra})" if extra else "")
    retried, goal = f"HTTP attempts: {attempts} (new: {new_attempts})", f"<= {CALLS_GOAL}"
    return [
        row(f"AWS calls before the answer, {what}", _operations(made), reference, "", goal, made.total() <= CALLS_GOAL)
        for what, made, reference in (("new event", new, first_calls), ("duplicate", duplicate, retried))
    ]


def _write_unit_rows(writes: WriteUnits) -> list[Row]:
    baseline = f"bare baseline {writes.baseline.total()} (its item has no index key); the stream writes none"
    return [
        row(f"DynamoDB write units per {what}", spent(units), reference, "", f"<= {goal}", units.total() <= goal)
        for what, units, reference, goal in (  # the goals of issue 26
            ("new event", writes.new, baseline, 3),
            ("duplicate", writes.duplicate, "the refused conditional put", 1),
            ("held body", writes.held, "the sample, under an unknown schema version", 1),
        )
    ]


def _operations(calls: Counter[str]) -> str:
    named = (name.split(".", 1)[1] + (f" x{count}" if count > 1 else "") for name, count in calls.items())
    return f"{calls.total()} ({', '.join(named)})"


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
