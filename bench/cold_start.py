"""Cold start: whole fresh processes, the function's against the floor, interleaved.

Each run is a new Python process serving one new event against the emulator, timed from spawn to
exit. The first request is part of it: Zenoti waits for it, so work moved from import time to the
first request is no saving.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.events import EventFactory

HANDLER_SCRIPT = Path(__file__).with_name("cold_handler.py")
FLOOR_SCRIPT = Path(__file__).with_name("cold_floor.py")
RESULT_PREFIX = "BENCH-RESULT "


@dataclass
class ColdRuns:
    """Wall times of whole processes, and the child's own split into init and first request."""

    wall_s: list[float] = field(default_factory=list)
    init_s: list[float] = field(default_factory=list)
    request_s: list[float] = field(default_factory=list)


@dataclass
class ColdStart:
    handler: ColdRuns
    floor: ColdRuns


def measure_cold_start(pairs: int, src: Path, function_environment: dict[str, str]) -> ColdStart:
    events = EventFactory()
    environment = _child_environment(function_environment)
    sides = {"handler": (HANDLER_SCRIPT, [str(src)]), "floor": (FLOOR_SCRIPT, [])}
    result = ColdStart(handler=ColdRuns(), floor=ColdRuns())
    # One unrecorded pair first: it fills the page cache and writes src/'s bytecode.
    for run in range(pairs + 1):
        order = ["handler", "floor"] if run % 2 == 0 else ["floor", "handler"]
        for side in order:
            script, arguments = sides[side]
            wall, report = _run_process(script, arguments, events.new_event(), environment)
            if run == 0:
                continue
            runs = result.handler if side == "handler" else result.floor
            runs.wall_s.append(wall)
            runs.init_s.append(report["init_s"])
            runs.request_s.append(report["request_s"])
    return result


def _run_process(
    script: Path, arguments: list[str], event: dict[str, Any], environment: dict[str, str]
) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    completed = subprocess.run(  # noqa: S603 - our own script, run by our own interpreter
        [sys.executable, "-I", str(script), *arguments],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    wall = time.perf_counter() - started
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"{script.name} failed (exit {completed.returncode}): {completed.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_PREFIX))
    # Only an accepted new event is the cold start Zenoti waits for; anything else times a shortcut.
    if report["status"] != 200 or report["body"].get("status") != "accepted":
        raise RuntimeError(f"{script.name} did not accept its event: {report}")
    return wall, report


def _child_environment(function_environment: dict[str, str]) -> dict[str, str]:
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "PYTHON", "POWERTOOLS_")) and name not in function_environment
    }
    return {**inherited, **function_environment}
