"""Events stored through the real handler, for the operator tools to find and replay."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from devtools.local_stack.resources import LOCAL_TOKEN, REGION, LocalResources, create_resources
from devtools.local_stack.server import free_port
from ops.cli import main
from tests.conftest import MOCKED_SHELL, Faults, Stack, start_serve, subscribe_notifications, with_payload

CENTER_A = "e1693623-bda5-4b3e-a2a7-611ea4f1f7ad"  # the sample's
CENTER_B = "5a0c4b3e-6d2f-4c1e-9b8a-7f6e5d4c3b2a"
GUEST_X = "ef44e802-505c-4129-9744-0978c094c8f2"  # the sample's
GUEST_Y = "0b9d8c7e-1a2b-4c3d-8e9f-a0b1c2d3e4f5"
SAMPLE_ID = "6239c247a961750e01dda051"


@dataclass(frozen=True)
class Sample:
    event_id: str
    center_id: str
    guest_id: str
    event_timestamp: str
    occurred_at: str  # what the receiver stores: fixed-width UTC
    registration_id: int


# Not in time order, and with offsets, so that the order the tools print is theirs.
SAMPLES = [
    Sample("b-afternoon", CENTER_B, GUEST_X, "2022-03-22T18:00:00+02:00", "2022-03-22T16:00:00.000000Z", 300003),
    Sample("a-late", CENTER_A, GUEST_Y, "2022-03-23T08:00:00.0000000Z", "2022-03-23T08:00:00.000000Z", 200002),
    Sample(SAMPLE_ID, CENTER_A, GUEST_X, "2022-03-22T12:34:15.3797492Z", "2022-03-22T12:34:15.379749Z", 119986),
    Sample("a-early", CENTER_A, GUEST_X, "2022-03-21T23:59:59.9999999-05:00", "2022-03-22T04:59:59.999999Z", 400004),
]
BY_ID = {sample.event_id: sample for sample in SAMPLES}


@dataclass(frozen=True)
class Stored:
    """What the function stored and published for each sample."""

    bodies: dict[str, str]  # event_id -> the body as Zenoti sent it
    attributes: dict[str, dict[str, Any]]  # event_id -> the message attributes the function sent


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def drain(stack: Stack) -> list[dict[str, Any]]:
    """Everything the subscriber queue holds now (read messages stay invisible for the test's duration)."""
    messages: list[dict[str, Any]] = []
    while batch := stack.messages():
        messages += batch
    return messages


@pytest.fixture
def stored(stack: Stack, invoke: Any, api_event: dict[str, Any]) -> Stored:
    bodies = {}
    for sample in SAMPLES:
        if sample.event_id == SAMPLE_ID:
            event = api_event  # the sample file itself, indentation and all: the body must come back verbatim
        else:
            payload = json.loads(api_event["body"])
            payload["event_id"] = sample.event_id
            payload["event_timestamp"] = sample.event_timestamp
            payload["data"].update(
                center_id=sample.center_id, guest_id=sample.guest_id, registration_id=sample.registration_id
            )
            event = with_payload(api_event, payload)
        assert invoke(event).body["status"] == "accepted"
        bodies[sample.event_id] = event["body"]
    published = drain(stack)
    attributes = {json.loads(message["Message"])["event_id"]: message["MessageAttributes"] for message in published}
    assert attributes.keys() == bodies.keys()
    return Stored(bodies=bodies, attributes=attributes)


@dataclass(frozen=True)
class Built:
    """The template's resources in moto, and clients (made once) that put them back as they were built."""

    resources: LocalResources
    notifications_queue_url: str
    clients: dict[str, Any]

    def restore(self) -> None:
        """Undo what earlier tests wrote: items, the stream's records, messages, the token, stacks and alarms."""
        dynamodb, sqs, secretsmanager, cloudformation, cloudwatch = self.clients.values()
        resources = self.resources
        for table, key in ((resources.table_name, "event_id"), (resources.held_table_name, "body_sha256")):
            for page in dynamodb.get_paginator("scan").paginate(TableName=table, ProjectionExpression=key):
                for item in page["Items"]:
                    dynamodb.delete_item(TableName=table, Key=item)
        # A new table's stream: nothing stored (or deleted) before is a record for this test's publisher.
        dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(resources.table_name).stream_shard.items.clear()
        queues = (resources.subscriber_queue_url, resources.subscriber_dead_letter_queue_url)
        for queue in (*queues, resources.publication_failures_queue_url, self.notifications_queue_url):
            sqs.purge_queue(QueueUrl=queue)
        token = json.dumps({"token": LOCAL_TOKEN})
        if secretsmanager.get_secret_value(SecretId=resources.secret_arn)["SecretString"] != token:
            secretsmanager.put_secret_value(SecretId=resources.secret_arn, SecretString=token)
        for deployed in cloudformation.describe_stacks()["Stacks"]:
            if deployed["StackStatus"] != "DELETE_COMPLETE":
                cloudformation.delete_stack(StackName=deployed["StackName"])
        if alarms := [alarm["AlarmName"] for alarm in cloudwatch.describe_alarms()["MetricAlarms"]]:
            cloudwatch.delete_alarms(AlarmNames=alarms)


# The shell mocked_stack gives the function; and moto may purge a queue more than once a minute.
SHELL = {**MOCKED_SHELL, "MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR": "false"}


@pytest.fixture(scope="module")
def built() -> Iterator[Built]:
    """The template's resources in moto, made once for a module (moto keeps them while it is off between tests)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in SHELL.items():
            monkeypatch.setenv(name, value)
        mock = mock_aws()
        mock.start()
        resources = create_resources()
        services = ("dynamodb", "sqs", "secretsmanager", "cloudformation", "cloudwatch")
        clients = {service: boto3.client(service, region_name=REGION) for service in services}
        made = Built(resources, subscribe_notifications(resources), clients)
        mock.stop(remove_data=False)
    yield made
    mock.start()  # moto forgets them
    mock.stop()


@pytest.fixture
def stack(built: Built, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """mocked_stack's Stack, on the module's resources put back as they were built: what a test reads is its own."""
    resources = built.resources
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in {**SHELL, **resources.publisher_environment, **resources.function_environment}.items():
        monkeypatch.setenv(name, value)
    mock = mock_aws()
    mock.start(reset=False)
    try:
        built.restore()
        boto3.setup_default_session()
        faults = Faults()
        faults.install(boto3.DEFAULT_SESSION.events)
        yield Stack(resources=resources, faults=faults, notifications_queue_url=built.notifications_queue_url)
    finally:
        mock.stop(remove_data=False)
        boto3.DEFAULT_SESSION = None
        sys.modules.pop("zenoti_receiver.publisher_handler", None)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    """main(argv) as `python -m ops` runs it: exit code, stdout, stderr."""

    def call(*argv: str) -> Run:
        capsys.readouterr()  # forget what the function printed (its metrics) while storing the events
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return call


@pytest.fixture
def table(stack: Stack) -> list[str]:
    return ["--table", stack.resources.table_name]


@pytest.fixture
def table_and_topic(stack: Stack) -> list[str]:
    return ["--table", stack.resources.table_name, "--topic-arn", stack.resources.topic_arn]


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """`python -m devtools.local_stack serve` on free ports, a shell without AWS credentials; (webhook, emulator)."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    port, emulator_port = free_port(), free_port()
    process, _ = start_serve("--port", str(port), "--emulator-port", str(emulator_port), env=dict(os.environ))
    try:
        yield f"http://127.0.0.1:{port}/zenoti/class-booking-deleted", f"http://127.0.0.1:{emulator_port}"
    finally:
        process.kill()
        process.wait(timeout=10)


# Real-looking credentials of an operator, which must never reach an emulator or a plain-HTTP endpoint.
OPERATOR_KEY_ID = "AKIAOPERATOR00000000"
OPERATOR_SECRET = "operator-secret-access-key"
OPERATOR_SESSION_TOKEN = "operator-session-token"


@pytest.fixture(params=["environment", "profile"])
def operator_credentials(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An operator's shell with real AWS credentials, in environment variables or a named profile."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    (tmp_path / "config").write_text("[profile prod]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    if request.param == "environment":
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", OPERATOR_KEY_ID)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", OPERATOR_SECRET)
        monkeypatch.setenv("AWS_SESSION_TOKEN", OPERATOR_SESSION_TOKEN)
    else:
        (tmp_path / "credentials").write_text(
            f"[prod]\naws_access_key_id = {OPERATOR_KEY_ID}\naws_secret_access_key = {OPERATOR_SECRET}\n"
            f"aws_session_token = {OPERATOR_SESSION_TOKEN}\n"
        )
        monkeypatch.setenv("AWS_PROFILE", "prod")
    return str(request.param)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass
class Recorder:
    """An HTTP server on 127.0.0.1 standing in for an emulator, an --endpoint-url or a webhook: it
    records every request and answers from `answers` (keyed by X-Amz-Target, or the method for others)."""

    url: str
    requests: list[Recorded] = field(default_factory=list)
    answers: dict[str, tuple[int, dict[str, Any] | bytes]] = field(default_factory=dict)  # bytes: sent as they are

    def answer(self, request: Recorded) -> tuple[int, dict[str, Any] | bytes]:
        key = request.headers.get("x-amz-target", request.method)
        refusal = {"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "message": "recorded"}
        return self.answers.get(key, (400, refusal))


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    recording = Recorder(url=f"http://127.0.0.1:{server.server_address[1]}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            request = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            recording.requests.append(request)
            status, answer = recording.answer(request)
            payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/x-amz-json-1.0")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    # Polled often: shutdown() waits for the poll, half a second by default, at every test's end.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield recording
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
