"""python -m devtools.bench [--quick] [--build] [--src DIR]: what a webhook costs, in one table.

Every figure is a median over repeated runs; each comparison is measured side by side, the two
sides interleaved, in the same run. The goals are printed next to the figures; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from devtools.bench.cold_start import ColdFunction, ColdStart, measure_cold_starts
from devtools.bench.cost import (
    PRICE_PER_GB_LOGS_INGESTED,
    PRICE_PER_LAMBDA_GB_SECOND_ARM,
    PRICE_PER_MILLION_HTTP_API_REQUESTS,
    PRICE_PER_MILLION_LAMBDA_REQUESTS,
    PRICE_PER_MILLION_SNS_PUBLISHES,
    PRICE_PER_MILLION_TRACES_RECORDED,
    PRICE_PER_MILLION_WRITE_UNITS,
    FunctionShape,
    PublisherBill,
    ReceiverBill,
    stage_rate_limit,
)
from devtools.bench.emulator import Emulator
from devtools.bench.events import REPO, EventFactory
from devtools.bench.in_process import (
    CallCount,
    CallCounts,
    Function,
    HandlerCpu,
    WarmLatency,
    WriteUnits,
    count_calls,
    count_write_units,
    measure_handler_cpu,
    measure_warm_latency,
)
from devtools.bench.package_size import ARTIFACT, PackageSize, measure_package, run_make_build
from devtools.bench.publisher import Publisher, PublisherRuns, StreamBatches, measure_publisher, stream_batches
from devtools.bench.refusals import (
    access_log_bytes,
    measure_refusals,
    platform_lines_bytes,
    refusal_prices,
    refusal_rows,
)
from devtools.bench.stats import median, megabytes, microseconds, milliseconds, percentile
from devtools.bench.write_units import TableShape, WriteMeter
from devtools.local_stack.resources import FUNCTION, PUBLISHER_FUNCTION
from devtools.local_stack.template import load_template, resource
from ops.local import REGION

# The goals of issue 5.
COLD_START_GOAL = 1.5  # x the floor, each function
CPU_BEYOND_JSON_GOAL_S = 100e-6
# The goals of issue 26: one write before the answer, the publication through the table's stream.
WARM_LATENCY_GOAL = 1.0  # x the bare baseline, which also publishes
NEW_EVENT_CALLS_GOAL = 1
DUPLICATE_CALLS_GOAL = 1
NEW_EVENT_WRITE_UNITS_GOAL = 3
DUPLICATE_WRITE_UNITS_GOAL = 1
HELD_WRITE_UNITS_GOAL = 1
COST_PER_MILLION_GOAL = 4.50  # USD per million new events, the publisher's invocations included
# Low traffic: each event stored alone, read from the stream as soon as it is there, one a second at
# most (so X-Ray, where a function traces, records every invocation).
LOW_TRAFFIC_EVENTS_PER_SECOND = 1.0

Row = tuple[str, str, str, str, str, str]
HEADER: Row = ("measure", "ours", "reference", "ratio", "goal", "verdict")


@dataclass(frozen=True)
class Repetitions:
    cold_rounds: int
    warm_rounds: int
    warm_batch: int
    cpu_rounds: int
    cpu_batch: int
    publisher_rounds: int

    def describe(self) -> str:
        return (
            f"cold start {self.cold_rounds} processes of each function and of its floor; warm "
            f"{self.warm_rounds * self.warm_batch} events a side in {self.warm_rounds} interleaved batches; "
            f"CPU {self.cpu_rounds} rounds of {self.cpu_batch} events; publisher {self.publisher_rounds} "
            "interleaved rounds of each batch"
        )


DEFAULT = Repetitions(cold_rounds=20, warm_rounds=30, warm_batch=40, cpu_rounds=15, cpu_batch=300, publisher_rounds=20)
QUICK = Repetitions(cold_rounds=2, warm_rounds=2, warm_batch=10, cpu_rounds=3, cpu_batch=30, publisher_rounds=2)


@dataclass(frozen=True)
class Bills:
    """Per new event, for the cost rows: the receiver, the publisher at each traffic, the bare baseline."""

    receiver: ReceiverBill
    publisher_one: PublisherBill
    publisher_full: PublisherBill
    baseline: ReceiverBill
    receiver_shape: FunctionShape
    publisher_shape: FunctionShape
    high_traffic_per_second: float


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions: a smoke test, not figures to trust")
    parser.add_argument("--build", action="store_true", help="run `make build` first, for the package size")
    parser.add_argument(
        "--src", type=Path, default=REPO / "src", help="the function's code root (default src/): compare a copy"
    )
    arguments = parser.parse_args(argv)
    src: Path = arguments.src.resolve()
    if not (src / "zenoti_receiver" / "publisher_handler.py").is_file():
        parser.error(f"{src} holds no zenoti_receiver/publisher_handler.py")
    repetitions = QUICK if arguments.quick else DEFAULT

    build_status = 0
    if arguments.build:
        _progress("make build")
        build_status = run_make_build()

    started = time.perf_counter()
    events = EventFactory()
    with Emulator() as emulator:
        environment = emulator.function_environment()
        _progress(f"emulator on {emulator.endpoint}; stream batches: new events stored, read from the stream")
        metered, meter = _metered_function(src, environment, emulator)
        batches = stream_batches(metered, events, emulator)
        _progress(f"cold start, {repetitions.cold_rounds} processes of each function and of its floor")
        cold = measure_cold_starts(
            repetitions.cold_rounds,
            src,
            {
                "receiver": ColdFunction(environment, events.new_event),
                "publisher": ColdFunction(emulator.publisher_environment(), lambda: batches.one),
                **{
                    family.label: ColdFunction(environment, EventFactory(family.sample).new_event, kind="receiver")
                    for family in FAMILY_EXTREMES
                },
            },
        )
        _progress("AWS calls per event")
        function = Function(src, environment, emulator.topic_arn)
        calls = count_calls(function, events)  # first: its first event is the first of its environment
        _progress("handler CPU, AWS stubbed")
        stand_in = Function(src, environment, emulator.topic_arn, stand_in_clients=True)
        cpu = measure_handler_cpu(function, stand_in, events, repetitions.cpu_rounds, repetitions.cpu_batch)
        _progress("DynamoDB write units per event")
        writes = count_write_units(metered, meter, events)
        family_writes = {
            family.label: count_write_units(metered, meter, EventFactory(family.sample), with_baseline=False)
            for family in FAMILY_EXTREMES
        }
        _progress("refused requests")
        refusals = measure_refusals(function, events, rounds=repetitions.cpu_rounds * 4)
        _progress("warm latency")
        warm = measure_warm_latency(function, events, repetitions.warm_rounds, repetitions.warm_batch)
        _progress(f"publisher, batches of 1 and {batches.full_size}")
        publisher = Publisher(src, emulator.publisher_environment())
        published = measure_publisher(publisher, batches, repetitions.publisher_rounds)
    package = measure_package()
    _progress(f"done in {time.perf_counter() - started:.0f} s")

    bills = _bills(writes, warm, published, batches)
    rows = [
        *_cold_start_rows(cold["receiver"], "Cold start, receiver: process + 1st request", "1st request"),
        *_cold_start_rows(cold["publisher"], "Cold start, publisher: process + 1st batch", "1st batch (1 event)"),
        *_warm_rows(warm),
        *_publisher_rows(published, batches),
        *_cpu_rows(cpu),
        *_call_rows(calls),
        *_write_unit_rows(writes),
        *_cost_rows(bills),
        *_family_rows(cold, family_writes, writes, bills),
        *refusal_rows(refusals),
        *_package_rows(package, build_status),
    ]
    print(
        f"Zenoti receiver benchmark: medians. Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"function code {_shown(src)}.\n{repetitions.describe()}.\n"
    )
    print(_table(rows))
    print(_prices(bills, writes, published))
    print(refusal_prices(refusals))
    return 1 if build_status else 0


def _cold_start_rows(cold: ColdStart, label: str, first: str) -> list[Row]:
    ours, floor = median(cold.handler.wall_s), median(cold.floor.wall_s)
    ratio = ours / floor
    return [
        (
            label,
            milliseconds(ours),
            f"floor {milliseconds(floor)}",
            f"{ratio:.2f}x",
            f"<= {COLD_START_GOAL}x floor",
            _verdict(ratio <= COLD_START_GOAL),
        ),
        (
            f"  init (imports, clients) + {first}",
            f"{_ms(median(cold.handler.init_s))} + {_ms(median(cold.handler.request_s))} ms",
            f"{_ms(median(cold.floor.init_s))} + {_ms(median(cold.floor.request_s))} ms",
            "",
            "",
            "",
        ),
    ]


def _warm_rows(warm: WarmLatency) -> list[Row]:
    ours, baseline = median(warm.handler_s), median(warm.baseline_s)
    ratio = ours / baseline
    ours_p99, baseline_p99 = percentile(warm.handler_s, 0.99), percentile(warm.baseline_s, 0.99)
    # One execution environment takes its next request once it has answered: nothing runs after the answer.
    ours_rate = len(warm.handler_s) / sum(warm.handler_s)
    baseline_rate = len(warm.baseline_s) / sum(warm.baseline_s)
    return [
        (
            "Warm latency per event, median",
            milliseconds(ours),
            f"baseline {milliseconds(baseline)} (stores, publishes)",
            f"{ratio:.2f}x",
            f"<= {WARM_LATENCY_GOAL}x baseline",
            _verdict(ratio <= WARM_LATENCY_GOAL),
        ),
        (
            "  p99 per event",
            milliseconds(ours_p99),
            milliseconds(baseline_p99),
            f"{ours_p99 / baseline_p99:.2f}x",
            "",
            "",
        ),
        (
            "  events per second, one environment",
            f"{ours_rate:.0f}/s",
            f"{baseline_rate:.0f}/s",
            f"{ours_rate / baseline_rate:.2f}x",
            "",
            "",
        ),
    ]


def _publisher_rows(published: PublisherRuns, batches: StreamBatches) -> list[Row]:
    """The publisher's warm duration per invocation, which Lambda bills, against a bare boto3 loop."""
    one, bare_one = median(published.one_s), median(published.bare_one_s)
    full, bare_full = median(published.full_s), median(published.bare_full_s)
    size = batches.full_size
    return [
        (
            "Publisher, warm, batch of 1 event",
            milliseconds(one),
            f"bare publisher {milliseconds(bare_one)}",
            f"{one / bare_one:.2f}x",
            "",
            "",
        ),
        (
            f"  batch of {size} events",
            f"{milliseconds(full)} ({milliseconds(full / size)} an event)",
            f"{milliseconds(bare_full)}",
            f"{full / bare_full:.2f}x",
            "",
            "",
        ),
    ]


def _cpu_rows(cpu: HandlerCpu) -> list[Row]:
    ours, own = median(cpu.handler_s), median(cpu.own_code_s)
    baseline, parsing = median(cpu.baseline_s), median(cpu.json_loads_s)
    beyond = own - parsing
    return [
        (
            "Handler CPU per event, AWS stubbed",
            microseconds(ours),
            f"botocore's client-side work {microseconds(ours - own)}",
            "",
            "",
            "",
        ),
        (
            "  our own code (stand-in AWS clients)",
            microseconds(own),
            f"json.loads {microseconds(parsing)}",
            f"+{microseconds(beyond)} beyond",
            f"< {microseconds(CPU_BEYOND_JSON_GOAL_S)} beyond JSON",
            _verdict(beyond < CPU_BEYOND_JSON_GOAL_S),
        ),
        (
            "  vs bare baseline, AWS stubbed",
            "",
            f"baseline {microseconds(baseline)}",
            f"+{microseconds(ours - baseline)} beyond",
            "",
            "",
        ),
    ]


def _call_rows(calls: CallCounts) -> list[Row]:
    first_extra = [name.split(".", 1)[1] for name in sorted(set(calls.first_new.calls) - set(calls.new.calls))]
    return [
        (
            "AWS calls before the answer, new event",
            f"{calls.new.total} ({_operations(calls.new)})",
            f"1st in a process: {calls.first_new.total}" + (f" (+{', '.join(first_extra)})" if first_extra else ""),
            "",
            f"<= {NEW_EVENT_CALLS_GOAL}",
            _verdict(calls.new.total <= NEW_EVENT_CALLS_GOAL),
        ),
        (
            "AWS calls before the answer, duplicate",
            f"{calls.duplicate.total} ({_operations(calls.duplicate)})",
            f"HTTP attempts: {calls.duplicate.attempts} (new: {calls.new.attempts})",
            "",
            f"<= {DUPLICATE_CALLS_GOAL}",
            _verdict(calls.duplicate.total <= DUPLICATE_CALLS_GOAL),
        ),
    ]


def _metered_function(src: Path, environment: dict[str, str], emulator: Emulator) -> tuple[Function, WriteMeter]:
    """The function, with a meter on its DynamoDB writes (reading items with a client of its own)."""
    assert emulator.resources is not None
    template = load_template()
    shapes = {
        emulator.resources.table_name: TableShape.from_template(resource(template, "EventsTable")),
        emulator.resources.held_table_name: TableShape.from_template(resource(template, "HeldBodiesTable")),
    }
    import boto3

    reader = boto3.session.Session(region_name=REGION).client("dynamodb", endpoint_url=emulator.endpoint)
    meter = WriteMeter(reader=reader, shapes=shapes)
    return Function(src, environment, emulator.topic_arn, write_meter=meter), meter


@dataclass(frozen=True)
class FamilyExtreme:
    """A family's sample, measured beside the Class booking sample the other rows use."""

    label: str
    sample: Path


# The largest and the smallest body Zenoti publishes, of the families typed on the one URL (issue 24).
FAMILY_EXTREMES = (
    FamilyExtreme("largest family (Invoice.Closed, 3.5 KB)", REPO / "events" / "apigw_invoice_closed.json"),
    FamilyExtreme("smallest family (Guestpass.redeemed, 0.8 KB)", REPO / "events" / "apigw_guest_pass_redeemed.json"),
)


def _family_rows(
    cold: dict[str, ColdStart], family_writes: dict[str, WriteUnits], sample: WriteUnits, bills: Bills
) -> list[Row]:
    """Each extreme family: its cold start (the first request loads its model), write units and cost."""
    rows: list[Row] = []
    for family in FAMILY_EXTREMES:
        rows += _cold_start_rows(cold[family.label], f"Cold start, receiver, {family.label}", "1st request")
        writes = family_writes[family.label]
        units = sum(writes.new.values())
        # The Class booking sample's bill, with this family's write units and log bytes.
        more_bytes = writes.log_bytes_per_new_event - sample.log_bytes_per_new_event
        receiver = replace(
            bills.receiver,
            write_units=units,
            log_bytes=bills.receiver.log_bytes + more_bytes,
        ).cost_per_million(bills.receiver_shape, LOW_TRAFFIC_EVENTS_PER_SECOND)
        publisher = bills.publisher_one.cost_per_million_events(bills.publisher_shape, LOW_TRAFFIC_EVENTS_PER_SECOND)
        total = sum(receiver.values()) + sum(publisher.values())
        rows += [
            ("  write units per new event", f"{units} ({_spent(writes.new)})", "", "", "", ""),
            ("  cost per million new events, low traffic", f"${total:.2f}", _parts(receiver), "", "", ""),
        ]
    return rows


def _write_unit_rows(writes: WriteUnits) -> list[Row]:
    new, duplicate, held = sum(writes.new.values()), sum(writes.duplicate.values()), sum(writes.held.values())
    return [
        (
            "DynamoDB write units per new event",
            f"{new} ({_spent(writes.new)})",
            f"bare baseline {sum(writes.baseline.values())} (its item has no index key); the stream writes none",
            "",
            f"<= {NEW_EVENT_WRITE_UNITS_GOAL}",
            _verdict(new <= NEW_EVENT_WRITE_UNITS_GOAL),
        ),
        (
            "DynamoDB write units per duplicate",
            f"{duplicate} ({_spent(writes.duplicate)})",
            "the refused conditional put",
            "",
            f"<= {DUPLICATE_WRITE_UNITS_GOAL}",
            _verdict(duplicate <= DUPLICATE_WRITE_UNITS_GOAL),
        ),
        (
            "DynamoDB write units per held body",
            f"{held} ({_spent(writes.held)})",
            "the sample, under an unknown schema version",
            "",
            f"<= {HELD_WRITE_UNITS_GOAL}",
            _verdict(held <= HELD_WRITE_UNITS_GOAL),
        ),
    ]


def _bills(writes: WriteUnits, warm: WarmLatency, published: PublisherRuns, batches: StreamBatches) -> Bills:
    """What each side of a new event is billed for, from this run's figures and template.yaml."""
    template = load_template()
    access_log = access_log_bytes(template, writes.response_bytes_per_new_event)
    ours, baseline = median(warm.handler_s), median(warm.baseline_s)
    one, full = median(published.one_s), median(published.full_s)
    return Bills(
        receiver=ReceiverBill(
            duration_s=ours,
            write_units=sum(writes.new.values()),
            log_bytes=writes.log_bytes_per_new_event + platform_lines_bytes(ours) + access_log,
            publishes=0,
        ),
        publisher_one=PublisherBill(1, one, published.one_log_bytes + platform_lines_bytes(one)),
        publisher_full=PublisherBill(batches.full_size, full, published.full_log_bytes + platform_lines_bytes(full)),
        # It prints nothing: Lambda's lines and the access log only.
        baseline=ReceiverBill(
            duration_s=baseline,
            write_units=sum(writes.baseline.values()),
            log_bytes=platform_lines_bytes(baseline) + access_log,
            publishes=1,
        ),
        receiver_shape=FunctionShape.from_template(template, FUNCTION),
        publisher_shape=FunctionShape.from_template(template, PUBLISHER_FUNCTION),
        high_traffic_per_second=stage_rate_limit(template),
    )


def _cost_rows(bills: Bills) -> list[Row]:
    """What a million new events cost at list prices, at low traffic and at high, against the bare baseline."""
    size = bills.publisher_full.batch_size
    high = bills.high_traffic_per_second
    baseline = bills.baseline.cost_per_million(bills.receiver_shape, LOW_TRAFFIC_EVENTS_PER_SECOND)
    rows: list[Row] = []
    for traffic, per_second, publisher_bill, how in (
        ("low", LOW_TRAFFIC_EVENTS_PER_SECOND, bills.publisher_one, "1 event an invocation"),
        ("high", high, bills.publisher_full, f"batches of {size}, {high:.0f} events/s"),
    ):
        receiver = bills.receiver.cost_per_million(bills.receiver_shape, per_second)
        publisher = publisher_bill.cost_per_million_events(bills.publisher_shape, per_second)
        total = sum(receiver.values()) + sum(publisher.values())
        rows += [
            (
                f"Cost per million new events, {traffic} traffic",
                f"${total:.2f}",
                f"receiver ${sum(receiver.values()):.2f} + publisher ${sum(publisher.values()):.2f} ({how})",
                f"{total / sum(baseline.values()):.2f}x",
                f"<= ${COST_PER_MILLION_GOAL:.2f}",
                _verdict(total <= COST_PER_MILLION_GOAL),
            ),
            ("  receiver", f"${sum(receiver.values()):.2f}", _parts(receiver), "", "", ""),
            ("  publisher", f"${sum(publisher.values()):.2f}", _parts(publisher), "", "", ""),
        ]
    rows.append(("  bare baseline (stores, publishes)", f"${sum(baseline.values()):.2f}", _parts(baseline), "", "", ""))
    return rows


def _parts(parts: dict[str, float]) -> str:
    return ", ".join(f"{name} ${cost:.2f}" for name, cost in parts.items())


def _prices(bills: Bills, writes: WriteUnits, published: PublisherRuns) -> str:
    receiver, one, full = bills.receiver, bills.publisher_one, bills.publisher_full
    traced = [
        name
        for name, shape in ((FUNCTION, bills.receiver_shape), (PUBLISHER_FUNCTION, bills.publisher_shape))
        if shape.traced
    ]
    tracing = (
        f"X-Ray ${PRICE_PER_MILLION_TRACES_RECORDED:.2f}/M traces for {' and '.join(traced)} (Tracing: Active):"
        " Lambda records the first invocation each second and 5% of the others, so every one at low traffic"
        if traced
        else "no function is traced (Tracing: PassThrough), so no X-Ray"
    )
    return (
        "\nCost per million new events assumes list prices in us-east-1: DynamoDB on-demand"
        f" ${PRICE_PER_MILLION_WRITE_UNITS}/M write units; HTTP API ${PRICE_PER_MILLION_HTTP_API_REQUESTS:.2f}/M;"
        f" Lambda ${PRICE_PER_MILLION_LAMBDA_REQUESTS:.2f}/M + ${PRICE_PER_LAMBDA_GB_SECOND_ARM}/GB-s (arm64),"
        f" billed by the millisecond at {bills.receiver_shape.memory_gb:g} GB for the receiver's warm median"
        f" ({milliseconds(receiver.duration_s)}) and {bills.publisher_shape.memory_gb:g} GB for the publisher's"
        f" per batch of 1 ({milliseconds(one.duration_s)}) and of {full.batch_size} ({milliseconds(full.duration_s)});"
        f" SNS ${PRICE_PER_MILLION_SNS_PUBLISHES:.2f}/M; CloudWatch Logs ${PRICE_PER_GB_LOGS_INGESTED:.2f}/GB for"
        f" {receiver.log_bytes} bytes per event from the receiver ({writes.log_bytes_per_new_event} its own lines"
        " and metrics, the rest Lambda's lines and the API's access log) and, per invocation of the publisher,"
        f" {one.log_bytes} bytes with 1 event and"
        f" {full.log_bytes} with {full.batch_size} ({published.one_log_bytes} and {published.full_log_bytes}"
        f" its own, the rest Lambda's); {tracing}. The publisher reads the table's stream through its event"
        " source mapping: DynamoDB Streams reads by Lambda triggers are free. Free tiers not counted."
    )


def _spent(spent: Counter[str]) -> str:
    return ", ".join(f"{where} {units}" for where, units in sorted(spent.items()))


def _package_rows(package: PackageSize | None, build_status: int) -> list[Row]:
    label = "Package size (sam build artifact)"
    if build_status:
        return [(label, f"`make build` failed (exit {build_status})", "", "", "", "")]
    if package is None:
        relative = ARTIFACT.relative_to(REPO)
        return [(label, "run `make build` first", f"(no {relative}; or --build)", "", "", "")]
    return [
        (
            label,
            f"{megabytes(package.disk_bytes)} on disk",
            f"{megabytes(package.bytes)} in {package.files} files; zipped {megabytes(package.zipped_bytes)}",
            "",
            "(none)",
            "",
        ),
        *[(f"  {name}", megabytes(size), "", "", "", "") for name, size in package.top[:3]],
    ]


def _operations(count: CallCount) -> str:
    return ", ".join(f"{name.split('.', 1)[1]}" + (f" x{n}" if n > 1 else "") for name, n in count.calls.items())


def _shown(path: Path) -> str:
    """The path as the reader's own checkout has it: relative to the repository when inside it."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def _table(rows: list[Row]) -> str:
    padded = [HEADER, *rows]
    widths = [max(len(row[column]) for row in padded) for column in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in padded]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
