"""End to end with the receiver: Zenoti's delivery -> the receiver's handler -> its topic -> this subscriber.

Needs the receiver's repository (its handler, devtools/local_stack/ and ops/); in a copy of the example elsewhere
this module is skipped, and you may delete it.
"""

from __future__ import annotations

import copy
import importlib
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.request import Request, urlopen

import boto3
import pytest
from aws_lambda_powertools.logging import logger as powertools_logger
from aws_lambda_powertools.metrics.provider import cold_start
from botocore.config import Config
from conftest import EXAMPLE, Subscriber, sample_notification, sample_payload
from subscriber_local.event_source import QueueEventSource
from subscriber_local.resources import LOCAL_TOPIC_ARN, REGION

receiver_resources = pytest.importorskip("devtools.local_stack.resources", reason="needs the receiver's repository")
replay_module = pytest.importorskip("ops.replay", reason="needs the receiver's repository")
stored_events = pytest.importorskip("ops.stored_events", reason="needs the receiver's repository")

from devtools.local_stack.receiver import LambdaContext as ReceiverContext  # noqa: E402
from devtools.local_stack.server import free_port  # noqa: E402
from devtools.local_stack.stream import StreamMapping  # noqa: E402

REPOSITORY = EXAMPLE.parent.parent
RECEIVER_EVENTS = REPOSITORY / "events"


@dataclass
class Receiver:
    handler: ModuleType
    resources: Any
    stream: StreamMapping  # the table's stream to the receiver's publisher, as Lambda's event source mapping

    def deliver(self, event_id: str | None = None, *, body: str | None = None) -> dict[str, Any]:
        """Zenoti's sample delivery (another event_id, or another body, if given) through the receiver's real
        handler, with the token; the answer's body."""
        event = json.loads((RECEIVER_EVENTS / "apigw_booking_deleted.json").read_text(encoding="utf-8"))
        if event_id is not None:
            payload = json.loads(event["body"])
            payload["event_id"] = event_id
            event = copy.deepcopy(event)
            event["body"] = json.dumps(payload)
        if body is not None:
            event["body"] = body
        result = self.handler.lambda_handler(
            event, ReceiverContext(aws_request_id=event["requestContext"]["requestId"])
        )
        answer: dict[str, Any] = json.loads(result["body"])
        self.stream.drain()  # what the stack does next: the new item, through the stream, to the topic
        return answer

    def replay(self, *event_ids: str) -> str:
        """`python -m ops replay --event-id ...`: the stored events published again with replay=true."""
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        events = stored_events.events_by_id(dynamodb, self.resources.table_name, list(event_ids))
        out = io.StringIO()
        sns = boto3.client("sns", region_name=REGION)
        replay_module.replay(events, sns, self.resources.topic_arn, dry_run=False, out=out, err=io.StringIO())
        return out.getvalue()


@pytest.fixture
def receiver(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """The receiver's resources from its template, and its handler imported (cold) with its environment."""
    resources = receiver_resources.create_resources()
    for name, value in {**resources.publisher_environment, **resources.function_environment}.items():
        monkeypatch.setenv(name, value)
    for module in ("zenoti_receiver.handler", "zenoti_receiver.publisher_handler"):
        sys.modules.pop(module, None)
    powertools_logger.is_cold_start = True
    cold_start.reset_cold_start_flag()
    handler = importlib.import_module("zenoti_receiver.handler")
    publisher = importlib.import_module("zenoti_receiver.publisher_handler")
    for log_handler in logging.getLogger(resources.function_environment["POWERTOOLS_SERVICE_NAME"]).handlers:
        if isinstance(log_handler, logging.StreamHandler):
            log_handler.setStream(io.StringIO())  # the receiver's log is not what these tests read

    def publish(batch: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = publisher.lambda_handler(
            batch, ReceiverContext(aws_request_id="stream", function_name="PublisherFunction")
        )
        return answer

    streams = boto3.client("dynamodbstreams", region_name=REGION, config=Config(account_id_endpoint_mode="disabled"))
    stream = StreamMapping(streams, resources.stream_arn, publish, lambda record: None)
    yield Receiver(handler=handler, resources=resources, stream=stream)
    for module in ("zenoti_receiver.handler", "zenoti_receiver.publisher_handler"):
        sys.modules.pop(module, None)


@pytest.fixture
def topic_arn(receiver: Receiver) -> str:
    """The subscriber subscribes to the receiver's own topic."""
    return str(receiver.resources.topic_arn)


def test_the_sam_local_sample_is_exactly_what_the_receiver_publishes(receiver: Receiver, subscriber: Subscriber):
    assert receiver.deliver()["status"] == "accepted"

    [delivered] = subscriber.waiting()
    published = json.loads(delivered["Body"])
    sample = sample_notification()
    assert sample["Message"] == published["Message"] == (RECEIVER_EVENTS / "booking_deleted.json").read_text("utf-8")
    assert sample["MessageAttributes"] == published["MessageAttributes"]
    assert sample["Type"] == published["Type"] == "Notification"


def test_an_event_zenoti_sends_is_recorded_once_by_the_subscriber(receiver: Receiver, subscriber: Subscriber):
    answer = receiver.deliver()

    invocations = subscriber.queue.drain()

    assert answer["status"] == "accepted"
    assert [invocation.reported_failures for invocation in invocations] == [[]]
    payload = json.loads(sample_payload())
    recorded = subscriber.deletions()[answer["event_id"]]
    assert (recorded["center_id"], recorded["guest_id"]) == (payload["data"]["center_id"], payload["data"]["guest_id"])
    assert recorded["times_recorded"] == "1"
    assert subscriber.waiting() == []
    assert subscriber.dead_letters() == []


def test_a_booking_of_the_all_zero_center_is_published_without_center_id_and_recorded(
    receiver: Receiver, subscriber: Subscriber
):
    body = json.loads(sample_payload())
    body["data"]["center_id"] = "00000000-0000-0000-0000-000000000000"  # Zenoti's "no value"

    answer = receiver.deliver(body=json.dumps(body))
    [delivered] = subscriber.waiting()
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.change_message_visibility(
        QueueUrl=subscriber.resources.queue_url, ReceiptHandle=delivered["ReceiptHandle"], VisibilityTimeout=0
    )
    invocations = subscriber.queue.drain(retry_failed_now=True)

    assert answer["status"] == "accepted"
    assert "center_id" not in json.loads(delivered["Body"])["MessageAttributes"]
    assert [invocation.reported_failures for invocation in invocations] == [[]]
    assert subscriber.deletions()[answer["event_id"]]["times_recorded"] == "1"
    assert subscriber.dead_letters() == []


def test_zenoti_retrying_and_sns_delivering_twice_still_record_it_once(receiver: Receiver, subscriber: Subscriber):
    assert receiver.deliver()["status"] == "accepted"
    assert receiver.deliver()["status"] == "duplicate"  # Zenoti's retry: stored once, not published again
    [delivered] = subscriber.waiting()
    subscriber.send_raw(delivered["Body"])  # SNS delivering the same notification a second time
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.change_message_visibility(
        QueueUrl=subscriber.resources.queue_url, ReceiptHandle=delivered["ReceiptHandle"], VisibilityTimeout=0
    )

    invocations = subscriber.queue.drain()

    assert sum(len(invocation.deleted) for invocation in invocations) == 2  # both deliveries done with
    assert all(invocation.reported_failures == [] for invocation in invocations)
    assert subscriber.deletions()[json.loads(sample_payload())["event_id"]]["times_recorded"] == "1"


def test_ops_replay_of_a_handled_event_is_received_and_skipped(receiver: Receiver, subscriber: Subscriber, logs):
    event_id = receiver.deliver()["event_id"]
    subscriber.queue.drain()

    printed = receiver.replay(event_id)
    invocations = subscriber.queue.drain()

    assert f"published {event_id}" in printed
    assert [invocation.reported_failures for invocation in invocations] == [[]]
    assert subscriber.deletions()[event_id]["times_recorded"] == "1"
    last = logs()[-1]
    assert (last["message"], last["event_id"], last["replay"]) == ("Event already handled; skipped", event_id, True)


def test_ops_replay_brings_an_event_the_subscriber_lost(receiver: Receiver, subscriber: Subscriber):
    delivered = [receiver.deliver(event_id)["event_id"] for event_id in ("kept", "lost")]
    sqs = boto3.client("sqs", region_name=REGION)
    for message in subscriber.waiting():
        if json.loads(json.loads(message["Body"])["Message"])["event_id"] == "lost":  # expired, purged: gone
            sqs.delete_message(QueueUrl=subscriber.resources.queue_url, ReceiptHandle=message["ReceiptHandle"])
        else:  # visible again for the subscriber
            sqs.change_message_visibility(
                QueueUrl=subscriber.resources.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    subscriber.queue.drain()
    assert set(subscriber.deletions()) == {"kept"}

    receiver.replay(*delivered)  # the operator replays the window; "kept" comes again too
    subscriber.queue.drain()

    assert {event_id: item["times_recorded"] for event_id, item in subscriber.deletions().items()} == {
        "kept": "1",
        "lost": "1",
    }


def dressed_as_sns() -> tuple[str, str]:
    """What a sender with the token could try (issue 25): Zenoti's sample, which the stack's raw queue takes,
    carrying SNS's notification fields, with another event in its Message: of another center, claiming to be
    a replay. (the body, the inner event's JSON)"""
    inner = json.loads(sample_payload())
    inner["event_id"] = "inner-event"
    inner["data"]["center_id"] = "0c4e1e7a-53b9-4f3c-9a52-3f0d3c0c2f11"
    outer = json.loads(sample_payload())
    outer["event_id"] = "outer-event"
    outer.update(
        Type="Notification",
        MessageId="5b8a3f6e-2c1d-4e8f-9a7b-3c2d1e0f9a8b",
        TopicArn=LOCAL_TOPIC_ARN,
        Message=json.dumps(inner),
        MessageAttributes={"replay": {"Type": "String", "Value": "true"}},
        Timestamp="2022-03-22T12:34:16.120Z",
        SignatureVersion="1",
        Signature="EXAMPLE",
        SigningCertURL="https://sns.us-east-1.amazonaws.com/SimpleNotificationService-example.pem",
        UnsubscribeURL="https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    )
    return json.dumps(outer), json.dumps(inner)


@pytest.mark.parametrize("raw_message_delivery", ["true"])
def test_an_event_dressed_as_sns_never_gets_its_inner_event_acted_on(receiver: Receiver, subscriber: Subscriber):
    """Zenoti's delivery -> the receiver -> its topic -> the stack's raw subscriber queue -> this subscriber,
    deployed with RawMessageDelivery=true to read that queue."""
    body, _ = dressed_as_sns()
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = receiver.resources.subscriber_queue_url
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    stacks_queue = QueueEventSource(sqs, queue_url, queue_arn, subscriber.handler.lambda_handler)

    answer = receiver.deliver(body=body)
    invocations = stacks_queue.drain(retry_failed_now=True)

    assert "inner-event" not in subscriber.deletions()  # never acted on: never stored, filtered or a replay
    # The receiver holds it (2xx: Zenoti's count of failures does not grow), and publishes nothing.
    assert (answer["status"], answer.get("reason")) == ("held", "undeliverable")
    assert "SNS's own envelope" in answer["message"]
    assert subscriber.deletions() == {}
    assert invocations == []

    # Were it published anyway (a receiver from before the hold; `ops replay` of an event stored then), with
    # the attributes the receiver gives the outer event: the subscriber reads the body it was given, the outer
    # event, never the one in its Message.
    subscriber.publish(body)
    invocations = stacks_queue.drain(retry_failed_now=True)

    assert [invocation.reported_failures for invocation in invocations] == [[]]
    assert set(subscriber.deletions()) == {"outer-event"}


@pytest.mark.deep
@pytest.mark.parametrize("queue", ["its own", "the receiver's raw-delivery queue"])
def test_the_local_command_runs_against_make_serve_and_skips_a_replay(tmp_path: Path, queue):
    """`make serve` in one terminal, `make local` in the example in another, as the README says; reading its
    own queue (SNS notifications) or, with --queue-url, the receiver's own subscriber queue (raw deliveries)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update(
        PYTHONUNBUFFERED="1",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
    )
    port, emulator_port = free_port(), free_port()
    emulator = f"http://127.0.0.1:{emulator_port}"
    serve, _ = _started(
        [
            sys.executable,
            "-m",
            "devtools.local_stack",
            "serve",
            "--port",
            str(port),
            "--emulator-port",
            str(emulator_port),
        ],
        REPOSITORY,
        environment,
        "Ctrl-C stops.",
    )
    local = None
    try:
        options = ["--endpoint-url", emulator, "--max-messages", "2"]
        if queue != "its own":
            sqs = boto3.client(
                "sqs",
                endpoint_url=emulator,
                region_name=REGION,
                aws_access_key_id="local",
                aws_secret_access_key="local",
            )
            options += ["--queue-url", sqs.get_queue_url(QueueName="zenoti-local-subscriber")["QueueUrl"]]
        local, banner = _started(
            [sys.executable, "-m", "subscriber_local", *options],
            EXAMPLE,
            {**environment, "PYTHONPATH": str(REPOSITORY)},
            "Waiting for messages",
        )
        url = f"http://127.0.0.1:{port}/zenoti/webhook?token=local-demo-token"
        body = (RECEIVER_EVENTS / "booking_deleted.json").read_bytes()
        with urlopen(Request(url, data=body, method="POST", headers={"content-type": "application/json"})) as answer:
            event_id = json.loads(answer.read())["event_id"]
        replayed = subprocess.run(
            [sys.executable, "-m", "ops", "replay", "--local", "--endpoint-url", emulator, "--event-id", event_id],
            cwd=REPOSITORY,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert replayed.returncode == 0, replayed.stderr
        printed, _ = local.communicate(timeout=60)
    finally:
        for process in (local, serve):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)

    assert local.returncode == 0, printed
    if queue == "its own":
        assert f"subscribed to {LOCAL_TOPIC_ARN}" in banner
        assert '"shape":"sns notification"' in printed
    else:
        assert "zenoti-local-subscriber (its own subscription" in banner
        assert '"shape":"raw delivery"' in printed
    assert '"message":"Event handled"' in printed
    assert '"message":"Event already handled; skipped"' in printed
    assert printed.count("done    ") == 2
    assert printed.count('"times_recorded": "1"') == 2  # recorded once, shown after each message


def _started(
    command: list[str], cwd: Path, environment: dict[str, str], ready: str
) -> tuple[subprocess.Popen[str], str]:
    """A command started in the background, once it has printed `ready`; and what it printed until then."""
    process = subprocess.Popen(
        command, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    lines = []
    while line := process.stdout.readline():
        lines.append(line)
        if ready in line:
            return process, "".join(lines)
    process.wait(timeout=10)
    raise AssertionError(f"{command} exited before it was ready:\n{''.join(lines)}")
