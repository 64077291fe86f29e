"""Cold start: whole fresh processes, each function's against its floor, interleaved.

Each run is a new Python process serving one first request against the emulator, timed from spawn to
exit: for the receiver a new event, for the publisher a stream batch of one record. The first request
is part of it: Zenoti (or the stream) waits for it, so work moved from import time to the first request
is no saving.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HANDLER_SCRIPT = Path(__file__).with_name("cold_handler.py")
FLOOR_SCRIPT = Path(__file__).with_name("cold_floor.py")
RESULT_PREFIX = "BENCH-RESULT "
FUNCTIONS = ("receiver", "publisher")


@dataclass
class ColdRuns:
    """Wall times of whole processes, and the child's own split into init and first request."""

    wall_s: list[float] = field(default_factory=list)
    init_s: list[float] = field(default_factory=list)
    request_s: list[float] = field(default_factory=list)


@dataclass
class ColdStart:
    """One function's cold starts and its floor's."""

    handler: ColdRuns = field(default_factory=ColdRuns)
    floor: ColdRuns = field(default_factory=ColdRuns)


@dataclass(frozen=True)
class ColdFunction:
    """What a function's cold start needs: its environment and a first request (a new one each time)."""

    environment: dict[str, str]
    first_request: Callable[[], dict[str, Any]]
    kind: str = ""  # "receiver" or "publisher", when the name it is measured under is another (a family's)


def measure_cold_starts(pairs: int, src: Path, functions: dict[str, ColdFunction]) -> dict[str, ColdStart]:
    """`pairs` cold starts of each function and of its floor, every side in turn, the order rotating."""
    sides = [(function, side) for function in functions for side in ("handler", "floor")]
    results = {function: ColdStart() for function in functions}
    environments = {function: _child_environment(cold.environment) for function, cold in functions.items()}
    # One unrecorded round first: it fills the page cache and writes src/'s bytecode.
    for run in range(pairs + 1):
        for function, side in sides[run % len(sides) :] + sides[: run % len(sides)]:
            script, arguments = (HANDLER_SCRIPT, [str(src)]) if side == "handler" else (FLOOR_SCRIPT, [])
            event = functions[function].first_request()
            kind = functions[function].kind or function
            wall, report = _run_process(script, [*arguments, kind], event, environments[function])
            if run == 0:
                continue
            runs = results[function].handler if side == "handler" else results[function].floor
            runs.wall_s.append(wall)
            runs.init_s.append(report["init_s"])
            runs.request_s.append(report["request_s"])
    return results


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
        failure = f"{script.name} {' '.join(arguments)} failed (exit {completed.returncode})"
        raise RuntimeError(f"{failure}: {completed.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_PREFIX))
    # Only the path Zenoti (or the stream) waits for is the cold start; anything else times a shortcut.
    if not report["ok"]:
        raise RuntimeError(f"{script.name} {arguments} did not serve its first request: {report}")
    return wall, report


def _child_environment(function_environment: dict[str, str]) -> dict[str, str]:
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "PYTHON", "POWERTOOLS_")) and name not in function_environment
    }
    return {**inherited, **function_environment}
