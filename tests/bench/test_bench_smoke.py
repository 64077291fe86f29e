"""The benchmark runs and prints its whole table; its figures are for people to read, never asserted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ROWS = (
    "Cold start: process + 1st request",
    "init (imports, clients) + 1st request",
    "Init in Lambda's runtime (INIT REPORT)",
    "Warm latency per event, median",
    "p99 per event",
    "environment busy per event, median",
    "events per second, one environment",
    "Handler CPU per event, AWS stubbed",
    "our own code (stand-in AWS clients)",
    "vs bare baseline, AWS stubbed",
    "AWS calls per new event",
    "AWS calls per duplicate",
    "DynamoDB write units per new event",
    "DynamoDB write units per duplicate",
    "DynamoDB write units per held body",
    "Cost per million new events",
    "Per refused request (401, 405, 413)",
    "Cost per million refused requests",
    "Package size (sam build artifact)",
)
GOALS = (
    "1 document, 0 lines",
    "<= 1.5x floor",
    "<= 1.15x baseline",
    "< 100 us beyond JSON",
    "<= 3",
    "<= 1",
    "<= 6",
    "<= 2",
)


def test_quick_bench_prints_every_row_and_goal():
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}

    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 0, run.stderr[-3000:]
    missing = [label for label in (*ROWS, *GOALS) if label not in run.stdout]
    assert not missing, f"not in the table: {missing}\n{run.stdout}"
    assert "assumes list prices in us-east-1" in run.stdout
    assert "function code src." in run.stdout  # not a path of the machine it ran on
    # Either the artifact's size or what to do to get it.
    assert "MB on disk" in run.stdout or "run `make build` first" in run.stdout
    # What it announces it runs: a measure it skips is not announced, its row says why.
    [runtime_row] = [line for line in run.stdout.splitlines() if line.startswith("Init in Lambda's runtime")]
    skipped = runtime_row.removeprefix("Init in Lambda's runtime (INIT REPORT)").split()[0] == "skipped"
    assert ("[bench] init in Lambda's runtime" in run.stderr) != skipped, (runtime_row, run.stderr)
