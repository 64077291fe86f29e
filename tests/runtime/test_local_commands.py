"""`make demo` and `make serve`, as a user with aws-lambda-rie runs them: in Lambda's runtime, and saying so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from urllib.request import Request, urlopen

import boto3
import pytest

from local_stack.resources import LOCAL_TOKEN, REGION
from local_stack.runtime import RIE_VARIABLE, RuntimeSetup
from local_stack.server import free_port
from tests.conftest import EVENTS, ROOT, start_serve

pytestmark = pytest.mark.deep


def with_rie(setup: RuntimeSetup) -> dict[str, str]:
    """A shell with no AWS settings of its own, and the emulator named as the README says."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    return {**environment, RIE_VARIABLE: str(setup.rie), "PYTHONUNBUFFERED": "1"}


def test_make_demo_runs_the_built_function_in_lambdas_runtime(runtime_setup: RuntimeSetup):
    run = subprocess.run(
        ["make", "-s", "demo"], cwd=ROOT, env=with_rie(runtime_setup), capture_output=True, text=True, timeout=300
    )

    assert run.returncode == 0, run.stderr
    first = run.stdout.splitlines()[0]
    assert first.startswith(f"Lambda's runtime: {runtime_setup.rie} with awslambdaric, python3.13")
    assert "=== HTTP response: 200 ===" in run.stdout
    assert '"published": true' in run.stdout
    assert run.stdout.count('"event_id": "6239c247a961750e01dda051"') >= 3  # response, item, message


def test_serve_in_lambdas_runtime_answers_and_publishes_pending_events_on_its_schedule(runtime_setup: RuntimeSetup):
    from zenoti_receiver.adapters.event_table import EventTable
    from zenoti_receiver.logic.parsing import parse_class_booking
    from zenoti_receiver.logic.ports import Claim, ReceivedEvent

    port, emulator_port = free_port(), free_port()
    process, banner = start_serve(
        "--port",
        str(port),
        "--emulator-port",
        str(emulator_port),
        "--pending-every",
        "0.5",
        env=with_rie(runtime_setup),
    )
    printed: list[str] = []
    published = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            printed.append(line)
            if "=== PendingPublisherFunction: published 1 pending event(s) ===" in line:
                published.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert any(line.startswith("Mode:          Lambda's runtime: ") for line in banner), "".join(banner)
        body = (EVENTS / "booking_deleted.json").read_bytes()
        url = f"http://127.0.0.1:{port}/zenoti/class-booking-deleted?token={LOCAL_TOKEN}"
        request = Request(url, data=body, method="POST", headers={"content-type": "application/json"})
        with urlopen(request, timeout=30) as response:
            assert (response.status, json.loads(response.read())["status"]) == (200, "accepted")
        # Another event, stored long ago by a delivery that died before publishing it.
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{emulator_port}",
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        crashed = json.dumps({**json.loads(body), "event_id": "crashed-before-publishing"})
        received = ReceivedEvent(parse_class_booking(crashed), crashed, "crashed", "2022-03-22T12:34:16.000000Z")
        EventTable("zenoti-local-events", dynamodb).store_once(received, Claim("crashed", expires_at=1))

        published.wait(timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)  # as CI stops it: a SIGINT is lost when the test run ignores it
        process.wait(timeout=60)
    output = "".join(printed)

    assert published.is_set(), output
    assert "=== HTTP response: 200 ===" in output
    assert "crashed-before-publishing" in output  # its message, shown as it arrived
    assert "Traceback" not in output


def test_invoke_without_the_runtime_falls_back_and_says_why_in_one_line(runtime_setup: RuntimeSetup):
    environment = {**with_rie(runtime_setup), RIE_VARIABLE: "/nonexistent/aws-lambda-rie"}

    run = subprocess.run(
        [sys.executable, "-m", "local_stack", "invoke", "events/apigw_booking_deleted.json"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == (
        "In-process (not Lambda's runtime: AWS_LAMBDA_RIE=/nonexistent/aws-lambda-rie is not an executable file):"
        " the handlers run in this Python"
    )
    assert "=== HTTP response: 200 ===" in run.stdout


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["kill", "kill-9"])
def test_stopping_serve_in_any_way_stops_the_functions_runtimes(runtime_setup: RuntimeSetup, stop: signal.Signals):
    process, banner = start_serve(
        "--port", str(free_port()), "--emulator-port", str(free_port()), env=with_rie(runtime_setup)
    )
    emulators = [pid for pid in _children(process.pid) if "aws-lambda-rie" in Path(f"/proc/{pid}/cmdline").read_text()]
    assert len(emulators) == 2, "".join(banner)  # one execution environment per function

    process.send_signal(stop)
    process.wait(timeout=30)
    gone = threading.Event()

    def watch() -> None:
        while any(_running(pid) for pid in emulators):
            gone.wait(0.05)
        gone.set()

    threading.Thread(target=watch, daemon=True).start()
    gone.wait(timeout=30)

    assert not [pid for pid in emulators if _running(pid)]
