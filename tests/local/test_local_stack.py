"""The local commands, run the way the README tells a new user to run them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

import boto3
import pytest

from devtools.local_stack.__main__ import FAMILY, main
from devtools.local_stack.api_gateway import EARLIER_WEBHOOK_PATH, WEBHOOK_PATH
from devtools.local_stack.resources import LOCAL_TOKEN, REGION
from devtools.local_stack.server import MAX_BODY_BYTES, free_port
from tests.conftest import EVENTS, ROOT, start_serve
from zenoti_receiver.adapters.event_table import stored_payload
from zenoti_receiver.models.catalog import FAMILIES

# What demo and serve's banner send: one sample of each family (devtools/local_stack/__main__.py FAMILY).
FAMILY_SAMPLES = [json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8")) for name in FAMILY]
FAMILY_TYPES = [sample["event_type"] for sample in FAMILY_SAMPLES]

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
    # One event of each family, each accepted, stored, published and received with its type.
    assert run.stdout.count("=== HTTP response: 200 ===") == len(FAMILIES)
    assert run.stdout.count('"status": "accepted"') == len(FAMILIES)
    # Each stored, then published by the publisher the table's stream invokes, then received: in that order.
    for report in run.stdout.split("##### ")[1:]:
        stored = report.index("=== Stored in DynamoDB table zenoti-local-events ===")
        published = report.index("=== PublisherFunction, invoked by the table's stream: published 1 event(s) ===")
        assert stored < published < report.index("=== Received by the subscriber queue")
    for event_type in FAMILY_TYPES:
        assert f'"event_type": "{event_type}"' in run.stdout  # the message's attributes
    assert run.stdout.count('"event_id": "6239c247a961750e01dda051"') >= 3  # response, item, message


def test_invoke_runs_several_events_in_order_against_one_emulator():
    deleted = str(EVENTS / "apigw_booking_deleted.json")

    run = run_invoke(deleted, str(EVENTS / "apigw_booking_created.json"), deleted)

    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0].startswith("The functions run in this process")  # said once
    reports = run.stdout.split(f"##### {deleted} #####")
    assert len(reports) == 3
    assert '"status": "accepted"' in reports[1]
    assert '"status": "duplicate"' in reports[2]  # the first one stored it, on the same emulator
    assert "Class.Booking.Created" in reports[1]


def test_invoke_of_several_events_reads_them_all_before_running_any(invoke_here):
    run = invoke_here(str(EVENTS / "apigw_booking_deleted.json"), "events/booking_deleted.json")

    assert run.returncode == 2
    assert "events/booking_deleted.json is not an event of this stack's functions" in run.stderr
    assert run.stdout == ""


def run_invoke(*event_files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devtools.local_stack", "invoke", *event_files],
        cwd=ROOT,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def invoke_here(capsys, monkeypatch) -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    """`python -m devtools.local_stack invoke` run in this process, as run_invoke runs it without the start-up."""
    monkeypatch.chdir(ROOT)
    environment = os.environ.copy()

    def run(*event_files: str) -> subprocess.CompletedProcess[str]:
        capsys.readouterr()
        status = main(["invoke", *event_files])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["invoke", *event_files], status, out, err)

    yield run
    os.environ.clear()  # what invoke set for the functions, as a process of its own would have left it
    os.environ.update(environment)
    for module in ("zenoti_receiver.handler", "zenoti_receiver.publisher_handler"):
        sys.modules.pop(module, None)


@pytest.mark.parametrize(
    ("event_file", "status", "held"),
    [("apigw_wrong_token.json", 401, False), ("apigw_invalid_body.json", 202, True)],
)
def test_invoke_prints_the_refusal_or_hold_and_where_the_body_went(invoke_here, event_file, status, held):
    run = invoke_here(str(EVENTS / event_file))

    assert run.returncode == 0, run.stderr
    assert f"=== HTTP response: {status} ===" in run.stdout
    assert "(nothing stored)" in run.stdout
    assert "(no message)" in run.stdout
    # An authenticated body that is not an event is held, to be re-driven: the report shows its entry.
    assert ("=== Held in DynamoDB table zenoti-local-held-bodies ===" in run.stdout) == held
    if held:
        assert '"reason": "invalid_event"' in run.stdout
        assert '"guest_id": "not-a-uuid"' in run.stdout  # the body, verbatim


def test_invoke_says_where_the_functions_run_in_one_line(invoke_here):
    run = invoke_here(str(EVENTS / "apigw_wrong_token.json"))

    first = run.stdout.splitlines()[0]
    assert first == (
        "The functions run in this process (imported from src/, as Lambda imports them), against an AWS emulator"
    )


def test_invoke_of_a_file_that_is_no_function_event_says_which_files_are_in_one_line(invoke_here):
    run = invoke_here("events/booking_deleted.json")  # Zenoti's body itself, not an API Gateway event

    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    [line] = run.stderr.splitlines()
    assert "events/booking_deleted.json is not an event of this stack's functions" in line
    assert "events/apigw_booking_deleted.json" in line
    assert "PublisherFunction takes a batch of the events table's stream (events/stream_booking_deleted.json)" in line


def test_invoke_of_the_stream_event_runs_the_publisher_which_publishes_it(invoke_here):
    # What `sam local invoke PublisherFunction -e events/stream_booking_deleted.json` hands the function.
    run = invoke_here("events/stream_booking_deleted.json")

    assert run.returncode == 0, run.stderr
    assert '=== PublisherFunction answered ===\n{"batchItemFailures": []}' in run.stdout
    assert "MessageAttributes: " in run.stdout
    assert '"event_id": "6239c247a961750e01dda051"' in run.stdout  # the sample, as the subscriber got it


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    emulator: str
    banner: list[str]
    output: list[str] = field(default_factory=list)
    printed: threading.Condition = field(default_factory=threading.Condition)
    since: int = 0  # the lines of `output` printed before the test began

    def collect_output(self) -> None:
        """Keep what serve prints from now on (a thread of its own: reading blocks)."""

        def read() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                with self.printed:
                    self.output.append(line)
                    self.printed.notify_all()

        threading.Thread(target=read, daemon=True).start()

    def wait_printed(self, text: str) -> str:
        """Everything serve printed during the test, once it has printed `text` (or given up after a bound)."""
        with self.printed:
            self.printed.wait_for(lambda: text in "".join(self.output[self.since :]), timeout=20)
            return "".join(self.output[self.since :])

    def reset(self) -> None:
        """As new for the next test: what the last one stored published, the tables emptied, the output read."""
        dynamodb = self.client("dynamodb")
        for table, key in (("zenoti-local-events", "event_id"), ("zenoti-local-held-bodies", "body_sha256")):
            for item in dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]:
                if key == "event_id":  # published first, or the message could reach the next test's queue
                    self.wait_printed(f"published {item[key]['S']}")
                dynamodb.delete_item(TableName=table, Key={key: item[key]})
        # A request refused for its Host prints one line: once it is read, so is everything printed before.
        marker = f"reset-{uuid.uuid4().hex}"
        raw_request(self.url, f"GET / HTTP/1.1\r\nHost: {marker}\r\nConnection: close\r\n\r\n".encode())
        self.wait_printed(marker)
        with self.printed:
            self.since = len(self.output)

    def stop(self) -> str:
        """Stop it as CI does (SIGTERM, which serve takes as Ctrl-C: a SIGINT would be lost on a test run that
        ignores it, as a background job or nohup does, since serve inherits that); everything it printed."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        return self.wait_printed("Stopping.")

    def send(
        self, method: str, body: bytes, token: str | None = LOCAL_TOKEN, path: str = WEBHOOK_PATH, **headers: str
    ) -> tuple[int, Any]:
        url = self.url.replace(WEBHOOK_PATH, path) + (f"?token={token}" if token is not None else "")
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


def serving(serve_arguments: list[str]) -> Iterator[Served]:
    port, emulator_port = free_port(), free_port()
    process, banner = start_serve(
        "--port", str(port), "--emulator-port", str(emulator_port), *serve_arguments, env=clean_environment()
    )
    assert any(f"127.0.0.1:{emulator_port}" in line for line in banner), "".join(banner)
    served = Served(process, f"http://127.0.0.1:{port}{WEBHOOK_PATH}", f"http://127.0.0.1:{emulator_port}", banner)
    served.collect_output()
    yield served
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def own_serve(serve_arguments: list[str]) -> Iterator[Served]:
    """`serve` for one test: one that stops it, or starts it with its own arguments."""
    yield from serving(serve_arguments)


@pytest.fixture(scope="module")
def served_once() -> Iterator[Served]:
    """`serve` shared by the module's tests, as the user runs it: one process (starting one takes a second or two)."""
    yield from serving([])


@pytest.fixture
def served(served_once: Served) -> Served:
    """The module's `serve`, as new for this test (Served.reset)."""
    served_once.reset()
    return served_once


def subscribe_queue(served: Served) -> str:
    """A subscriber of our own on the local topic, independent of the tool's demo queue (one per test)."""
    sqs, sns = served.client("sqs"), served.client("sns")
    queue_url = sqs.create_queue(QueueName=f"test-subscriber-{uuid.uuid4().hex[:8]}")["QueueUrl"]
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

    accepted = {"status": "accepted", "event_id": sample["event_id"], "event_type": sample["event_type"]}
    assert served.send("POST", SAMPLE) == (200, accepted)
    assert served.send("PUT", json.dumps(put_event).encode())[0] == 200
    assert (
        served.send("PATCH", json.dumps(patch_event).encode(), token=None, **{"X-Webhook-Token": LOCAL_TOKEN})[0] == 200
    )
    duplicate = {"status": "duplicate", "event_id": sample["event_id"], "event_type": sample["event_type"]}
    assert served.send("POST", SAMPLE) == (200, duplicate)
    assert served.send("POST", SAMPLE, token="wrong")[0] == 401
    status, body = served.send("POST", b'{"event_id": ')
    assert (status, body["reason"]) == (202, "malformed_body")
    status, body = served.send("POST", json.dumps({**sample, "data": {}}).encode())
    assert (status, body["status"]) == (202, "held")
    assert "data.guest_id" in {error["field"] for error in body["errors"]}

    items = served.client("dynamodb").scan(TableName="zenoti-local-events")["Items"]
    assert sorted(item["event_id"]["S"] for item in items) == sorted([sample["event_id"], "put-event", "patch-event"])
    stored = next(item for item in items if item["event_id"]["S"] == sample["event_id"])
    assert stored_payload(stored) == SAMPLE.decode()
    messages: list[dict[str, Any]] = []
    for _ in range(10):  # the stream's publisher sends them as it reads them, a poll every quarter second
        messages += received(served, queue_url)
        if len(messages) >= 3:
            break
    assert sorted(json.loads(message["Message"])["event_id"] for message in messages) == sorted(
        [sample["event_id"], "put-event", "patch-event"]
    )
    assert all(
        message["MessageAttributes"]["center_id"]["Value"] == sample["data"]["center_id"] for message in messages
    )


def test_the_webhook_path_and_the_earlier_one_reach_the_function_for_every_verb(served):
    # A webhook Zenoti was given before the family keeps its URL: the earlier path is routed as the new one.
    sample = json.loads(SAMPLE)
    sent = []
    for path in (WEBHOOK_PATH, EARLIER_WEBHOOK_PATH):
        for verb in ("POST", "PUT", "PATCH"):
            event_id = f"{verb.lower()}{path.replace('/', '-')}"
            sent.append(event_id)
            answer = served.send(verb, json.dumps({**sample, "event_id": event_id}).encode(), path=path)
            accepted = {"status": "accepted", "event_id": event_id, "event_type": "Class.Booking.Deleted"}
            assert answer == (200, accepted), path

    items = served.client("dynamodb").scan(TableName="zenoti-local-events")["Items"]
    assert sorted(item["event_id"]["S"] for item in items) == sorted(sent)


def test_the_banners_curl_delivers_one_event_of_each_family_on_the_one_url(served):
    if shutil.which("curl") is None:
        pytest.skip("the banner's command runs curl, which is not on PATH")
    banner = "".join(served.banner)
    command = banner.split("Try:", 1)[1].splitlines()[1].strip()
    assert f"'{served.url}?token={LOCAL_TOKEN}'" in command

    run = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert run.returncode == 0, run.stderr
    answers = [json.loads(line) for line in run.stdout.splitlines()]
    assert [answer["status"] for answer in answers] == ["accepted"] * len(FAMILIES)
    assert [answer["event_type"] for answer in answers] == FAMILY_TYPES
    assert sorted(answer["event_id"] for answer in answers) == sorted(sample["event_id"] for sample in FAMILY_SAMPLES)
    items = served.client("dynamodb").scan(TableName="zenoti-local-events")["Items"]
    assert sorted(json.loads(stored_payload(item))["event_type"] for item in items) == sorted(FAMILY_TYPES)


def test_serve_publishes_what_is_stored_outside_a_request_as_lambda_reads_the_stream(served):
    from zenoti_receiver.adapters.event_table import EventTable
    from zenoti_receiver.logic.parsing import parse_event
    from zenoti_receiver.logic.ports import ReceivedEvent

    queue_url = subscribe_queue(served)
    # Stored by something else than a request (ops held redrive writes the same way): the stream publishes it.
    body = SAMPLE.decode()
    stored = ReceivedEvent(parse_event(body), body, "elsewhere", "2022-03-22T12:34:16.000000Z")
    EventTable("zenoti-local-events", served.client("dynamodb"), retention_days=0).store_once(stored)

    messages = received(served, queue_url) or received(served, queue_url)

    assert [json.loads(message["Message"])["event_id"] for message in messages] == [json.loads(body)["event_id"]]
    output = served.wait_printed(f"published {json.loads(body)['event_id']}")
    assert "=== PublisherFunction, invoked by the table's stream: published 1 event(s) ===" in output


def test_serve_shows_every_publication_of_a_burst(served):
    # The banner's loop sends the six types one after the other: the terminal shows each one published.
    samples = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(EVENTS.glob("booking_*.json"))]
    for sample in samples:
        assert served.send("POST", json.dumps(sample).encode())[0] == 200

    for sample in samples:
        output = served.wait_printed(f"published {sample['event_id']}")

    for sample in samples:
        assert f"published {sample['event_id']}" in output
        assert output.count(f'"event_id": "{sample["event_id"]}"') >= 2  # the stored item, and the message


def test_serve_reports_each_request_then_its_message_and_stops_cleanly(own_serve):
    own_serve.send("POST", SAMPLE)

    output = own_serve.stop()

    assert own_serve.process.returncode == 0
    # Named after the queue this terminal reads (its own), not the subscriber queue, whose messages it leaves.
    assert (
        output.index("=== HTTP response: 200 ===")
        < output.index("=== PublisherFunction, invoked by the table's stream: published 1 event(s) ===")
        < output.index("=== Received by this terminal's queue zenoti-local-terminal (SQS, raw delivery) ===")
    )
    assert "zenoti-local-subscriber" not in output
    assert "Stopping." in output
    assert "Traceback" not in output


def test_serve_shows_messages_published_outside_a_request_as_they_arrive(served):
    # What `python -m ops replay --local` does: publish, with no request.
    [topic] = served.client("sns").list_topics()["Topics"]
    replayed = json.dumps({**json.loads(SAMPLE), "event_id": "replayed-outside-a-request"})
    served.client("sns").publish(TopicArn=topic["TopicArn"], Message=replayed)

    output = served.wait_printed("replayed-outside-a-request")

    assert "replayed-outside-a-request" in output
    assert ">>> POST" not in output  # shown without waiting for a request to carry it


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b'{"event_id": ', 202, "malformed_body"),
        (json.dumps({**json.loads(SAMPLE), "data": {}}).encode(), 202, "invalid_event"),
    ],
)
def test_serve_shows_the_entry_of_a_held_body(served, body, status, reason):
    assert served.send("POST", body)[0] == status

    output = served.wait_printed("=== Held in DynamoDB table zenoti-local-held-bodies ===")

    held_bodies = output.split("=== Held in DynamoDB table zenoti-local-held-bodies ===", 1)[1]
    assert f'"reason": "{reason}"' in held_bodies
    assert '"deliveries": 1' in held_bodies
    assert body.decode() in held_bodies  # the body, as it was sent


def test_serve_banner_names_the_mode_the_subscriber_queue_and_how_to_change_the_token(served_once):
    banner = "".join(served_once.banner)

    assert "Mode:          The functions run in this process" in banner
    assert "Publisher:     invoked by the table's stream, as Lambda does" in banner
    assert "Subscriber:    SQS queue zenoti-local-subscriber (raw delivery; dead letters:" in banner
    assert "reads the secret again after 2 s (TOKEN_CACHE_SECONDS)" in banner
    assert "secretsmanager put-secret-value --secret-id zenoti-local-webhook-token" in banner
    assert "everything is gone when serve stops" in banner
    assert "read from a queue of its own (zenoti-local-terminal)" in banner


def test_the_aws_cli_commands_of_the_banner_run_as_printed(served_once, tmp_path):
    commands = [line.strip() for line in served_once.banner if " aws --endpoint-url " in line]
    assert len(commands) == 2, "".join(served_once.banner)
    # The AWS CLI refuses to call even the emulator without credentials: each command brings dummy ones.
    assert all(command.startswith("AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws ") for command in commands)
    if shutil.which("aws") is None:
        pytest.skip("no AWS CLI on PATH to run them with")
    # A user without any AWS configuration of their own.
    environment = {**clean_environment(), "HOME": str(tmp_path)}
    scan = next(command for command in commands if " dynamodb scan " in command)

    run = subprocess.run(["sh", "-c", scan], env=environment, capture_output=True, text=True, timeout=60)

    assert run.returncode == 0, run.stderr
    assert '"Count"' in run.stdout


@pytest.mark.parametrize("serve_arguments", [["--token-cache-seconds", "0"]])
def test_a_token_changed_with_put_secret_value_works_at_once(own_serve):
    assert own_serve.send("POST", SAMPLE)[0] == 200  # the function has read the secret once

    own_serve.client("secretsmanager").put_secret_value(
        SecretId="zenoti-local-webhook-token", SecretString=json.dumps({"token": "a-new-local-token"})
    )

    assert own_serve.send("POST", SAMPLE, token="a-new-local-token")[0] == 200
    assert own_serve.send("POST", SAMPLE)[0] == 401


def raw_request(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (what urllib would not send); the status, headers and body of the answer."""
    target = urlsplit(url)
    with socket.create_connection((target.hostname, target.port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize("method", ["GET", "DELETE", "OPTIONS", "HEAD", "TRACE", "BREW"])
def test_every_other_method_is_a_json_404_as_api_gateway_answers(served_once, method):
    target = urlsplit(served_once.url)

    status, headers, body = raw_request(
        served_once.url,
        f"{method} {target.path} HTTP/1.1\r\nHost: {target.netloc}\r\nConnection: close\r\n\r\n".encode(),
    )

    assert status == 404
    assert headers["content-type"] == "application/json"
    if method == "HEAD":
        assert body == b""  # HEAD: the headers of the answer, never its body
        assert headers["content-length"] == str(len(b'{"message": "Not Found"}'))
    else:
        assert json.loads(body) == {"message": "Not Found"}


def test_an_unknown_route_is_a_json_404_as_api_gateway_answers(served_once):
    request = Request(served_once.url.replace(WEBHOOK_PATH, "/zenoti/other"), data=SAMPLE, method="POST")
    with pytest.raises(HTTPError) as raised:
        urlopen(request, timeout=10)
    assert raised.value.code == 404
    assert json.loads(raised.value.read()) == {"message": "Not Found"}


@pytest.mark.parametrize(
    ("length_headers", "status"),
    [
        ("Content-Length: -5\r\n", 400),
        ("Content-Length: five\r\n", 400),
        ("Content-Length: 5\r\nContent-Length: 6\r\n", 400),
        ("Transfer-Encoding: chunked\r\n", 411),
        (f"Content-Length: {MAX_BODY_BYTES + 1}\r\n", 413),
    ],
    ids=["negative", "not-a-number", "two-lengths", "chunked-without-length", "over-10-MB"],
)
def test_a_body_length_that_cannot_be_read_safely_is_answered_at_once(served_once, length_headers, status):
    # Nothing of the body follows: a server that tried to read it would wait, and the test would time out.
    target = urlsplit(served_once.url)
    request = (
        f"POST {target.path}?token={LOCAL_TOKEN} HTTP/1.1\r\nHost: {target.netloc}\r\n{length_headers}\r\n".encode()
    )

    answered, headers, body = raw_request(served_once.url, request)

    assert answered == status
    assert headers["content-type"] == "application/json"
    assert set(json.loads(body)) == {"message"}
    assert served_once.send("POST", SAMPLE)[0] == 200  # and the server goes on serving


def test_serve_restarts_at_once_on_the_port_it_just_left(own_serve):
    # The server closes each connection first, which leaves the port's side of it in TIME-WAIT for a
    # minute after Ctrl-C: nothing listens, yet a plain bind is refused.
    assert own_serve.send("POST", SAMPLE)[0] == 200
    own_serve.stop()
    port = urlsplit(own_serve.url).port
    assert port is not None
    assert f":{port:04X} " in _time_wait_sockets()

    process, printed = start_serve("--port", str(port), "--emulator-port", str(free_port()), env=clean_environment())
    try:
        assert "Ctrl-C stops." in "".join(printed)
        assert process.poll() is None
    finally:
        process.kill()
        process.wait(timeout=10)


def _time_wait_sockets() -> str:
    """The kernel's TCP table, lines in state TIME-WAIT (06)."""
    table = Path("/proc/net/tcp").read_text()
    return "\n".join(line for line in table.splitlines() if line.split()[3:4] == ["06"])


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


@pytest.mark.deep
def test_load_script_counts_every_event_through_the_http_stack():
    # The README's load run sends 2,000; this proves the script and its checks on a few.
    run = subprocess.run(
        [sys.executable, "-m", "devtools.local_stack.load", "--events", "40", "--senders", "4"],
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
    # A line to say what runs, then the summary: the function's log lines (thousands on the README's run)
    # go to a file of their own.
    assert len(run.stdout.splitlines()) == 9, run.stdout
    assert run.stdout.startswith("Sending 40 events from 4 concurrent senders")
    assert "Event published" not in run.stdout
    assert "Event published" in (ROOT / ".aws-sam/local/logs/load.log").read_text(encoding="utf-8")


def test_invoke_takes_the_api_gateway_event_of_every_type_each_stored_and_published(invoke_here):
    from tests.unit.test_samples import sample_name
    from zenoti_receiver.models.catalog import EVENT_TYPES

    run = invoke_here(*(f"events/apigw_{sample_name(event_type)}.json" for event_type in EVENT_TYPES))

    assert run.returncode == 0, run.stderr
    assert run.stdout.count('"status": "accepted"') == len(EVENT_TYPES)
    for event_type in EVENT_TYPES:
        assert f'"event_type": "{event_type}"' in run.stdout
