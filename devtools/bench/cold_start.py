"""Cold start: whole fresh processes, each function's against its floor, interleaved.

Each run is a new Python process serving one first request against the emulator, timed from spawn to exit: for
the receiver a new event, for the publisher a stream batch of one record. Zenoti (or the stream) waits for the
first request too, so work moved from import time to it is no saving.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("cold_process.py")
RESULT_PREFIX = "BENCH-RESULT "
SIDES = ("function", "floor")

# Seconds by side ("function", "floor") and by part ("wall", "init", "request"): one figure per process.
ColdStart = dict[str, dict[str, list[float]]]
# What a cold start needs: "receiver" or "publisher", its environment, and a first request (a new one each time).
ColdFunction = tuple[str, dict[str, str], Callable[[], dict[str, Any]]]


def measure_cold_starts(pairs: int, src: Path, functions: dict[str, ColdFunction]) -> dict[str, ColdStart]:
    """`pairs` cold starts of each function and of its floor, every side in turn, the order rotating."""
    sides = [(name, side) for name in functions for side in SIDES]
    results: dict[str, ColdStart] = {
        name: {side: {"wall": [], "init": [], "request": []} for side in SIDES} for name in functions
    }
    # One unrecorded round first: it fills the page cache and writes src/'s bytecode.
    for run in range(pairs + 1):
        for name, side in sides[run % len(sides) :] + sides[: run % len(sides)]:
            kind, environment, first_request = functions[name]
            arguments = [kind, str(src)] if side == "function" else [kind]
            report = _run_process(arguments, first_request(), _child_environment(environment))
            for part, figures in results[name][side].items():
                if run:  # the first round is not recorded
                    figures.append(report[f"{part}_s"])
    return results


def _run_process(arguments: list[str], event: dict[str, Any], environment: dict[str, str]) -> dict[str, Any]:
    """The child's report: the seconds of its init and first request, and of the whole process ("wall_s")."""
    command = [sys.executable, "-I", str(SCRIPT), *arguments]
    started = time.perf_counter()
    run = subprocess.run(command, input=json.dumps(event), capture_output=True, text=True, env=environment, timeout=120)  # noqa: S603 - our script
    wall_s = time.perf_counter() - started
    lines = [line for line in run.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if run.returncode != 0 or not lines:
        raise RuntimeError(f"{SCRIPT.name} {arguments} failed (exit {run.returncode}): {run.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_PREFIX))
    # Only the path Zenoti (or the stream) waits for is the cold start; anything else times a shortcut.
    if not report["ok"]:
        raise RuntimeError(f"{SCRIPT.name} {arguments} did not serve its first request: {report}")
    return {**report, "wall_s": wall_s}


def _child_environment(function_environment: dict[str, str]) -> dict[str, str]:
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "PYTHON", "POWERTOOLS_")) and name not in function_environment
    }
    return {**inherited, **function_environment}
