"""The local commands, run the way the README tells a new user to run them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import boto3
import pytest

from local_stack.resources import LOCAL_TOKEN, REGION
from local_stack.server import free_port
from tests.conftest import EVENTS, ROOT, start_serve, stored_payload

SAMPLE = (EVENTS / "booking_deleted.json").read_bytes()


def clean_environment() -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment["PYTHONUNBUFFERED"] = "1"
    return environment


def test_readme_quick_start_demo_prints_response_item_and_message():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme
    if not (ROOT / ".venv" / "bin" / ".installed").exists():
        pytest.skip("`make demo` runs in the project's .venv; run the tests with `make test`")

    run = subprocess.run(
        ["make", "-s", "demo"], cwd=ROOT, env=clean_environment(), capture_output=True, text=True, timeout=120
    )

    assert run.returncode == 0, run.stderr
    assert "=== HTTP response: 200 ===" in run.stdout
    assert '"status": "accepted"' in run.stdout
    assert '"published": true' in run.stdout
    assert "MessageAttributes: " in run.stdout
    assert run.stdout.count('"event_id": "6239c247a961750e01dda051"') >= 3  # response, item, message


@pytest.mark.parametrize(
    ("event_file", "status"),
    [("apigw_wrong_token.json", 401), ("apigw_invalid_body.json", 422)],
)
def test_invoke_prints_the_rejection_and_that_nothing_was_stored(event_file, status):
    run = subprocess.run(
        [sys.executable, "-m", "local_stack", "invoke", str(EVENTS / event_file)],
        cwd=ROOT,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 0, run.stderr
    assert f"=== HTTP response: {status} ===" in run.stdout
    assert "(nothing stored)" in run.stdout
    assert "(no message)" in run.stdout


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    emulator: str

    def send(self, method: str, body: bytes, token: str | None = LOCAL_TOKEN, **headers: str) -> tuple[int, Any]:
        url = self.url + (f"?token={token}" if token is not None else "")
        request = Request(url, data=body, method=method, headers={"content-type": "application/json", **headers})
        try:
            with urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except HTTPError as error:
            return error.code, json.loads(error.read())

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.emulator,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )


@pytest.fixture
def serve_arguments() -> list[str]:
    return []


@pytest.fixture
def served(serve_arguments: list[str]) -> Iterator[Served]:
    port, emulator_port = free_port(), free_port()
    process, banner = start_serve(
        "--port", str(port), "--emulator-port", str(emulator_port), *serve_arguments, env=clean_environment()
    )
    assert any(f"127.0.0.1:{emulator_port}" in line for line in banner), "".join(banner)
    served = Served(
        process, f"http://127.0.0.1:{port}/zenoti/class-booking-deleted", f"http://127.0.0.1:{emulator_port}"
    )
    yield served
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def subscribe_queue(served: Served) -> str:
    """A subscriber of our own on the local topic, independent of the tool's demo queue."""
    sqs, sns = served.client("sqs"), served.client("sns")
    queue_url = sqs.create_queue(QueueName="test-subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    [topic] = sns.list_topics()["Topics"]
    sns.subscribe(TopicArn=topic["TopicArn"], Protocol="sqs", Endpoint=queue_arn)
    return str(queue_url)


def received(served: Served, queue_url: str) -> list[dict[str, Any]]:
    messages = served.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return [json.loads(message["Body"]) for message in messages.get("Messages", [])]


def test_serve_over_http_stores_publishes_and_refuses_like_the_deployed_stack(served):
    queue_url = subscribe_queue(served)
    sample = json.loads(SAMPLE)
    put_event = {**sample, "event_id": "put-event"}
    patch_event = {**sample, "event_id": "patch-event"}

    accepted = {"status": "accepted", "event_id": sample["event_id"], "publication": "published"}
    assert served.send("POST", SAMPLE) == (200, accepted)
    assert served.send("PUT", json.dumps(put_event).encode())[0] == 200
    assert (
        served.send("PATCH", json.dumps(patch_event).encode(), token=None, **{"X-Webhook-Token": LOCAL_TOKEN})[0] == 200
    )
    assert served.send("POST", SAMPLE) == (200, {"status": "duplicate", "event_id": sample["event_id"]})
    assert served.send("POST", SAMPLE, token="wrong")[0] == 401
    status, body = served.send("POST", b'{"event_id": ')
    assert (status, body["reason"]) == (400, "malformed_body")
    status, body = served.send("POST", json.dumps({**sample, "data": {}}).encode())
    assert status == 422
    assert "data.guest_id" in {error["field"] for error in body["errors"]}

    items = served.client("dynamodb").scan(TableName="zenoti-local-events")["Items"]
    assert sorted(item["event_id"]["S"] for item in items) == sorted([sample["event_id"], "put-event", "patch-event"])
    stored = next(item for item in items if item["event_id"]["S"] == sample["event_id"])
    assert stored_payload(stored) == SAMPLE.decode()
    messages = received(served, queue_url) + received(served, queue_url)
    assert sorted(json.loads(message["Message"])["event_id"] for message in messages) == sorted(
        [sample["event_id"], "put-event", "patch-event"]
    )
    assert all(
        message["MessageAttributes"]["center_id"]["Value"] == sample["data"]["center_id"] for message in messages
    )


@pytest.mark.parametrize("serve_arguments", [["--pending-every", "0.5"]])
def test_serve_publishes_pending_events_on_a_schedule_as_the_stack_does(served):
    from zenoti_receiver.adapters.event_table import EventTable
    from zenoti_receiver.logic.parsing import parse_booking_deleted
    from zenoti_receiver.logic.ports import Claim, ReceivedEvent

    queue_url = subscribe_queue(served)
    # Stored a minute ago by a delivery that died before it could publish.
    body = SAMPLE.decode()
    crashed = ReceivedEvent(parse_booking_deleted(body), body, "crashed", "2022-03-22T12:34:16.000000Z")
    EventTable("zenoti-local-events", served.client("dynamodb")).store_once(crashed, Claim("crashed", expires_at=1))

    messages = received(served, queue_url) or received(served, queue_url)

    assert [json.loads(message["Message"])["event_id"] for message in messages] == [json.loads(body)["event_id"]]
    [item] = served.client("dynamodb").scan(TableName="zenoti-local-events")["Items"]
    assert item["published"] == {"BOOL": True}


def test_unknown_route_is_a_404_as_api_gateway_answers(served):
    request = Request(served.url.replace("class-booking-deleted", "other"), data=SAMPLE, method="POST")
    with pytest.raises(HTTPError) as raised:
        urlopen(request, timeout=10)
    assert raised.value.code == 404


def test_serve_reports_each_request_and_stops_cleanly_on_ctrl_c(served):
    served.send("POST", SAMPLE)

    served.process.send_signal(signal.SIGINT)
    output, _ = served.process.communicate(timeout=30)

    assert served.process.returncode == 0
    assert "=== HTTP response: 200 ===" in output
    assert "Received by a subscriber of the SNS topic" in output
    assert "Stopping." in output
    assert "Traceback" not in output


def test_port_in_use_is_a_clear_message_not_a_traceback():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process, printed = start_serve(
            "--port", str(port), "--emulator-port", str(free_port()), env=clean_environment()
        )
        rest, _ = process.communicate(timeout=60)
        output = "".join(printed) + rest

    assert process.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in output
    assert "Traceback" not in output


def test_sam_local_env_file_points_at_the_resources_serve_creates(monkeypatch):
    from moto import mock_aws

    from local_stack.resources import create_resources

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "local")
    with mock_aws():
        environment = create_resources().function_environment
    variables = json.loads((EVENTS / "sam-local-env.json").read_text())["ReceiverFunction"]

    for name in ("EVENTS_TABLE_NAME", "QUARANTINE_TABLE_NAME", "EVENTS_TOPIC_ARN", "TOKEN_SECRET_ARN"):
        assert variables[name] == environment[name]
    assert variables["AWS_ENDPOINT_URL"].endswith(":5000")  # serve's default emulator port


@pytest.mark.deep
def test_load_script_counts_every_event_through_the_http_stack():
    # The README's load run sends 2,000; this proves the script and its checks on a few.
    run = subprocess.run(
        [sys.executable, "-m", "local_stack.load", "--events", "40", "--senders", "4"],
        cwd=ROOT,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert "5xx answers:        0" in run.stdout
    assert "items stored:       40" in run.stdout
    assert "messages received:  40 (40 distinct events)" in run.stdout
    assert "result:             PASS" in run.stdout
