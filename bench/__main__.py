"""python -m bench [--quick] [--build] [--src DIR]: what a webhook costs, in one table.

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
from dataclasses import dataclass
from pathlib import Path

from bench.cold_start import ColdStart, measure_cold_start
from bench.emulator import Emulator
from bench.events import REPO, EventFactory
from bench.in_process import (
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
from bench.package_size import ARTIFACT, PackageSize, measure_package, run_make_build
from bench.refusals import measure_refusals, refusal_prices, refusal_rows
from bench.stats import median, megabytes, microseconds, milliseconds, percentile
from bench.write_units import TableShape, WriteMeter
from local_stack.template import load_template, resource
from ops.local import REGION

# The goals of issue 5.
COLD_START_GOAL = 1.5  # x the floor
WARM_LATENCY_GOAL = 1.15  # x the baseline
NEW_EVENT_CALLS_GOAL = 3
DUPLICATE_CALLS_GOAL = 1
CPU_BEYOND_JSON_GOAL_S = 100e-6
# The goals of issue 10.
NEW_EVENT_WRITE_UNITS_GOAL = 6
DUPLICATE_WRITE_UNITS_GOAL = 2
# Issue 19: a held body of the sample's size costs no more than a quarantined one did (2 units).
HELD_WRITE_UNITS_GOAL = 2

# List prices the cost estimate assumes: us-east-1, on-demand, as published by AWS in 2026.
PRICE_PER_MILLION_WRITE_UNITS = 0.625  # DynamoDB on-demand write request units
PRICE_PER_MILLION_HTTP_API_REQUESTS = 1.00  # API Gateway HTTP API, first 300 million a month
PRICE_PER_MILLION_LAMBDA_REQUESTS = 0.20
PRICE_PER_LAMBDA_GB_SECOND_ARM = 0.0000133334
PRICE_PER_MILLION_SNS_PUBLISHES = 0.50  # each 64 KB chunk of a message is one request
PRICE_PER_GB_LOGS_INGESTED = 0.50  # CloudWatch Logs: the log line and the metrics (EMF) of each event
FUNCTION_MEMORY_GB = 0.5  # template.yaml, Globals: MemorySize 512

Row = tuple[str, str, str, str, str, str]
HEADER: Row = ("measure", "ours", "reference", "ratio", "goal", "verdict")


@dataclass(frozen=True)
class Repetitions:
    cold_pairs: int
    warm_rounds: int
    warm_batch: int
    cpu_rounds: int
    cpu_batch: int
    runtime_rounds: int

    def describe(self) -> str:
        return (
            f"cold start {self.cold_pairs} process pairs; warm {self.warm_rounds * self.warm_batch} events a side "
            f"in {self.warm_rounds} interleaved batches; CPU {self.cpu_rounds} rounds of {self.cpu_batch} events; "
            f"init in Lambda's runtime {self.runtime_rounds} interleaved rounds"
        )


DEFAULT = Repetitions(cold_pairs=20, warm_rounds=30, warm_batch=40, cpu_rounds=15, cpu_batch=300, runtime_rounds=10)
QUICK = Repetitions(cold_pairs=2, warm_rounds=2, warm_batch=10, cpu_rounds=3, cpu_batch=30, runtime_rounds=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions: a smoke test, not figures to trust")
    parser.add_argument("--build", action="store_true", help="run `make build` first, for the package size")
    parser.add_argument(
        "--src", type=Path, default=REPO / "src", help="the function's code root (default src/): compare a copy"
    )
    arguments = parser.parse_args(argv)
    src: Path = arguments.src.resolve()
    if not (src / "zenoti_receiver" / "handler.py").is_file():
        parser.error(f"{src} holds no zenoti_receiver/handler.py")
    repetitions = QUICK if arguments.quick else DEFAULT

    build_status = 0
    if arguments.build:
        _progress("make build")
        build_status = run_make_build()

    started = time.perf_counter()
    events = EventFactory()
    with Emulator() as emulator:
        environment = emulator.function_environment()
        _progress(f"emulator on {emulator.endpoint}; cold start, {repetitions.cold_pairs} pairs of processes")
        cold = measure_cold_start(repetitions.cold_pairs, src, environment)
        runtime = find_runtime()
        if isinstance(runtime, str):
            runtime_init: RuntimeInit | str = runtime  # not measured, so not announced: its row says why
        else:
            _progress(f"init in Lambda's runtime (aws-lambda-rie), {repetitions.runtime_rounds} rounds")
            runtime_init = measure_runtime_init(repetitions.runtime_rounds, environment)
        _progress("handler CPU, AWS stubbed")
        function = Function(src, environment)
        stand_in = Function(src, environment, stand_in_clients=True)
        cpu = measure_handler_cpu(function, stand_in, events, repetitions.cpu_rounds, repetitions.cpu_batch)
        _progress("AWS calls per event")
        calls = count_calls(function, events)
        _progress("DynamoDB write units per event")
        writes = count_write_units(*_metered_function(src, environment, emulator), events)
        _progress("refused requests")
        refusals = measure_refusals(function, events, rounds=repetitions.cpu_rounds * 4)
        _progress("warm latency")
        warm = measure_warm_latency(function, events, repetitions.warm_rounds, repetitions.warm_batch)
    package = measure_package()
    _progress(f"done in {time.perf_counter() - started:.0f} s")

    rows = [
        *_cold_start_rows(cold),
        *_runtime_init_rows(runtime_init),
        *_warm_rows(warm),
        *_cpu_rows(cpu),
        *_call_rows(calls),
        *_write_unit_rows(writes),
        *_cost_rows(writes, warm),
        *refusal_rows(refusals),
        *_package_rows(package, build_status),
    ]
    print(
        f"Zenoti receiver benchmark: medians. Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"function code {_shown(src)}.\n{repetitions.describe()}.\n"
    )
    print(_table(rows))
    print(_prices(writes, warm))
    print(refusal_prices(refusals))
    return 1 if build_status else 0


def _cold_start_rows(cold: ColdStart) -> list[Row]:
    ours, floor = median(cold.handler.wall_s), median(cold.floor.wall_s)
    ratio = ours / floor
    return [
        (
            "Cold start: process + 1st request",
            milliseconds(ours),
            f"floor {milliseconds(floor)}",
            f"{ratio:.2f}x",
            f"<= {COLD_START_GOAL}x floor",
            _verdict(ratio <= COLD_START_GOAL),
        ),
        (
            "  init (imports, clients) + 1st request",
            f"{_ms(median(cold.handler.init_s))} + {_ms(median(cold.handler.request_s))} ms",
            f"{_ms(median(cold.floor.init_s))} + {_ms(median(cold.floor.request_s))} ms",
            "",
            "",
            "",
        ),
    ]


def _runtime_init_rows(init: RuntimeInit | str) -> list[Row]:
    """INIT REPORT of the built artifact (make build-local) under aws-lambda-rie, against a bare boto3 function."""
    label = "Init in Lambda's runtime (INIT REPORT)"
    if isinstance(init, str):
        return [(label, "skipped", init, "", "", "")]
    bare = median(init.bare_ms)
    ours, without = median(init.with_bytecode_ms), median(init.without_bytecode_ms)
    return [
        (label, f"{ours:.1f} ms", f"bare boto3 function {bare:.1f} ms", f"{ours / bare:.2f}x", "", ""),
        ("  the same artifact without bytecode", f"{without:.1f} ms", "", f"{without / bare:.2f}x", "", ""),
    ]


def _warm_rows(warm: WarmLatency) -> list[Row]:
    ours, baseline = median(warm.handler_s), median(warm.baseline_s)
    ratio = ours / baseline
    ours_p99, baseline_p99 = percentile(warm.handler_s, 0.99), percentile(warm.baseline_s, 0.99)
    # One execution environment takes its next request once it has answered: nothing runs after the
    # answer since the publication is recorded before it (the after-answer extension is gone).
    ours_rate = len(warm.handler_s) / sum(warm.handler_s)
    baseline_rate = len(warm.baseline_s) / sum(warm.baseline_s)
    return [
        (
            "Warm latency per event, median",
            milliseconds(ours),
            f"baseline {milliseconds(baseline)}",
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
            "  environment busy per event, median",
            milliseconds(ours),
            milliseconds(baseline),
            f"{ratio:.2f}x",
            "= latency: no work after the answer",
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
            "AWS calls per new event",
            f"{calls.new.total} ({_operations(calls.new)})",
            f"1st in a process: {calls.first_new.total}" + (f" (+{', '.join(first_extra)})" if first_extra else ""),
            "",
            f"<= {NEW_EVENT_CALLS_GOAL}",
            _verdict(calls.new.total <= NEW_EVENT_CALLS_GOAL),
        ),
        (
            "AWS calls per duplicate",
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
        emulator.resources.quarantine_table_name: TableShape.from_template(resource(template, "QuarantineTable")),
    }
    import boto3

    reader = boto3.session.Session(region_name=REGION).client("dynamodb", endpoint_url=emulator.endpoint)
    meter = WriteMeter(reader=reader, shapes=shapes)
    return Function(src, environment, write_meter=meter), meter


def _write_unit_rows(writes: WriteUnits) -> list[Row]:
    new, duplicate, held = sum(writes.new.values()), sum(writes.duplicate.values()), sum(writes.held.values())
    return [
        (
            "DynamoDB write units per new event",
            f"{new} ({_spent(writes.new)})",
            "from item sizes and index projections",
            "",
            f"<= {NEW_EVENT_WRITE_UNITS_GOAL}",
            _verdict(new <= NEW_EVENT_WRITE_UNITS_GOAL),
        ),
        (
            "DynamoDB write units per duplicate",
            f"{duplicate} ({_spent(writes.duplicate)})",
            "",
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


def _cost_rows(writes: WriteUnits, warm: WarmLatency) -> list[Row]:
    """What a million new events cost at list prices, the Lambda duration taken from this run."""
    busy_s = median(warm.handler_s)  # billed: until the environment could take the next request
    parts = {
        "DynamoDB": sum(writes.new.values()) * PRICE_PER_MILLION_WRITE_UNITS,
        "API": PRICE_PER_MILLION_HTTP_API_REQUESTS,
        "Lambda": PRICE_PER_MILLION_LAMBDA_REQUESTS
        + busy_s * FUNCTION_MEMORY_GB * PRICE_PER_LAMBDA_GB_SECOND_ARM * 1_000_000,
        "SNS": PRICE_PER_MILLION_SNS_PUBLISHES,
        "logs": writes.log_bytes_per_new_event * 1_000_000 / 1e9 * PRICE_PER_GB_LOGS_INGESTED,
    }
    return [
        (
            "Cost per million new events",
            f"${sum(parts.values()):.2f}",
            ", ".join(f"{name} ${cost:.2f}" for name, cost in parts.items()),
            "",
            "(none)",
            "",
        ),
    ]


def _prices(writes: WriteUnits, warm: WarmLatency) -> str:
    busy = milliseconds(median(warm.handler_s))
    return (
        "\nCost per million new events assumes list prices in us-east-1: DynamoDB on-demand"
        f" ${PRICE_PER_MILLION_WRITE_UNITS}/M write units; HTTP API ${PRICE_PER_MILLION_HTTP_API_REQUESTS:.2f}/M;"
        f" Lambda ${PRICE_PER_MILLION_LAMBDA_REQUESTS:.2f}/M + ${PRICE_PER_LAMBDA_GB_SECOND_ARM}/GB-s (arm64),"
        f" {FUNCTION_MEMORY_GB:g} GB for the environment-busy median of this run ({busy});"
        f" SNS ${PRICE_PER_MILLION_SNS_PUBLISHES:.2f}/M; CloudWatch Logs ${PRICE_PER_GB_LOGS_INGESTED:.2f}/GB"
        f" for the {writes.log_bytes_per_new_event} bytes printed per event. Free tiers not counted; the"
        " scheduled publisher of pending events adds a fixed 43,200 runs a month."
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
