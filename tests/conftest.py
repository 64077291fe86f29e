"""Fixtures shared by all tests: the sample events under events/, and a moto-backed stack."""

from __future__ import annotations

import base64
import copy
import functools
import importlib
import io
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from aws_lambda_powertools.logging import logger as powertools_logger
from aws_lambda_powertools.metrics.provider import cold_start
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError
from cryptography.hazmat.primitives.asymmetric import rsa
from moto import mock_aws
from moto.sns import models as moto_sns

from devtools.local_stack.receiver import LambdaContext, import_handler
from devtools.local_stack.resources import (
    LOCAL_TOKEN,
    REGION,
    LocalResources,
    create_resources,
    local_stack_name,
    take_messages,
)
from devtools.local_stack.server import emulator
from devtools.local_stack.stream import PollResult, StreamMapping
from ops.local import FAKE_CREDENTIALS

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

# Each test starts a new boto3 session (a new mocked account, a new "execution environment"), and
# botocore would read and parse every service's JSON model again for each: one loader for the whole
# run keeps the models it has parsed (about a tenth of a second a test). The models are read-only.
_SHARED_LOADER = botocore.loaders.create_loader()
botocore.session.create_loader = lambda search_path_string=None: _SHARED_LOADER

# moto signs the notifications of each SNS subscription with a 2,048-bit RSA key of its own, made on its first
# message (about a tenth of a second of CPU, and most tests subscribe a queue): one key for the whole run.
_SNS_SIGNING_KEY = functools.cache(lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
moto_sns.Subscription.private_key = lambda self: _SNS_SIGNING_KEY()

# Set before any test imports the function's modules, as Lambda sets it before the function starts:
# Powertools names the child loggers of the logic and adapters after the service, once, on import.
# The template names the service after the stack (!Ref AWS::StackName): here, the local stack's name.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", local_stack_name())


def start_serve(*arguments: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    """`python -m devtools.local_stack serve`, once it has printed its banner or exited; and the lines it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.local_stack", "serve", *arguments],
        cwd=ROOT,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    printed = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        printed.append(line)
        if "Ctrl-C stops." in line or not line:
            break
    return process, printed


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


@pytest.fixture
def raw_payload() -> str:
    """Zenoti's sample body, byte for byte as a user would curl it."""
    return (EVENTS / "booking_deleted.json").read_text(encoding="utf-8")


@pytest.fixture
def api_event() -> dict[str, Any]:
    """The valid API Gateway event a user invokes with `sam local invoke`."""
    return load_event("apigw_booking_deleted.json")


def with_body(event: dict[str, Any], body: str | bytes | None, *, base64_encoded: bool = False) -> dict[str, Any]:
    """A copy of `event` carrying another body, encoded the way API Gateway would."""
    changed = copy.deepcopy(event)
    if base64_encoded:
        raw = body.encode() if isinstance(body, str) else (body or b"")
        changed["body"] = base64.b64encode(raw).decode()
    else:
        changed["body"] = body.decode() if isinstance(body, bytes) else body
    changed["isBase64Encoded"] = base64_encoded
    return changed


def with_payload(event: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    return with_body(event, json.dumps(payload))


@dataclass
class Faults:
    """Makes chosen AWS calls fail, as botocore would see it, until cleared.

    A timeout is raised where the HTTP request would be sent, so botocore retries it as it would a
    real one; an error answer (500, throttling) replaces the whole call, so moto never executes it.
    """

    plans: dict[str, str] = field(default_factory=dict)
    remaining: dict[str, int] = field(default_factory=dict)  # attempts left to fail; absent: all
    attempts: dict[str, int] = field(default_factory=dict)

    def fail(self, service: str, operation: str, kind: str = "server_error", times: int | None = None) -> None:
        key = f"{service}.{operation}"
        self.plans[key] = kind
        if times is None:
            self.remaining.pop(key, None)
        else:
            self.remaining[key] = times

    def clear(self) -> None:
        self.plans.clear()
        self.remaining.clear()

    def _fails_now(self, key: str, kinds: tuple[str, ...]) -> str | None:
        kind = self.plans.get(key)
        if kind not in kinds:
            return None
        if key in self.remaining:
            if self.remaining[key] <= 0:
                return None
            self.remaining[key] -= 1
        return kind

    def install(self, events: Any) -> None:
        events.register_first("before-call", self._before_call)
        events.register_first("before-send", self._before_send)

    def _before_send(self, request: Any, event_name: str, **_: Any) -> None:
        key = event_name.split(".", 1)[1]  # before-send.<service>.<Operation>
        self.attempts[key] = self.attempts.get(key, 0) + 1
        if self._fails_now(key, ("timeout",)):
            raise ReadTimeoutError(endpoint_url=request.url)

    def _before_call(self, event_name: str, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        key = event_name.split(".", 1)[1]
        kind = self._fails_now(key, ("server_error", "throttling"))
        if kind is None:
            return None
        self.attempts[key] = self.attempts.get(key, 0) + 1
        status, code = (500, "InternalFailure") if kind == "server_error" else (400, "ThrottlingException")
        error = {"Error": {"Code": code, "Message": kind}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse("https://aws.invalid", status, {}, None), error


@dataclass
class Stack:
    resources: LocalResources
    faults: Faults
    notifications_queue_url: str  # the tests' own subscriber: the stack's subscriber queue is raw
    _stream: StreamMapping | None = None

    @property
    def stream(self) -> StreamMapping:
        """Lambda's event source mapping of the table's stream, invoking the publisher (imported once, on first use)."""
        if self._stream is None:
            publisher = fresh_publisher()
            streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
            sqs = boto3.client("sqs", region_name=REGION)

            def invoke(event: dict[str, Any]) -> dict[str, Any]:
                context = LambdaContext(aws_request_id="stream", function_name="PublisherFunction")
                result: dict[str, Any] = publisher.lambda_handler(event, context)
                return result

            def send_failure(record: dict[str, Any]) -> None:
                queue = self.resources.publication_failures_queue_url
                sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(record))

            self._stream = StreamMapping(streams, self.resources.stream_arn, invoke, send_failure)
        return self._stream

    def publish(self) -> PollResult:
        """What Lambda's poller does now: the stream's new records, in batches, to the publisher, until none is left."""
        return self.stream.drain()

    def items(self) -> list[dict[str, Any]]:
        """Every item of the events table (every page of the Scan)."""
        pages = (
            boto3.client("dynamodb", region_name=REGION)
            .get_paginator("scan")
            .paginate(TableName=self.resources.table_name)
        )
        return [item for page in pages for item in page["Items"]]

    def reset(self) -> None:
        """Empty the tables and the subscriber queue, clear the faults: as new, in the same account."""
        client = boto3.client("dynamodb", region_name=REGION)
        for table, key in (
            (self.resources.table_name, "event_id"),
            (self.resources.held_table_name, "body_sha256"),
        ):
            for item in client.scan(TableName=table, ProjectionExpression=key)["Items"]:
                client.delete_item(TableName=table, Key={key: item[key]})
        sqs = boto3.client("sqs", region_name=REGION)
        for queue in (self.resources.subscriber_queue_url, self.notifications_queue_url):
            while take_messages(sqs, queue):
                pass
        self.faults.clear()

    def held_bodies(self) -> list[dict[str, Any]]:
        client = boto3.client("dynamodb", region_name=REGION)
        return client.scan(TableName=self.resources.held_table_name)["Items"]  # type: ignore[no-any-return]

    def messages(self, publish: bool = True) -> list[dict[str, Any]]:
        """What an SQS subscriber of the topic has received: the SNS notifications, decoded.

        First, unless told not to, what the stream holds is published, as the deployed stack would have by then.
        """
        if publish:
            self.publish()
        # Taken, as a subscriber takes them: left in flight, they would come back 30 s later into
        # another test's view (reset() cannot drain what is in flight).
        received = take_messages(boto3.client("sqs", region_name=REGION), self.notifications_queue_url)
        return [json.loads(message["Body"]) for message in received]


# The shell the function runs in against moto: its region and credentials of no one.
MOCKED_SHELL = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@contextmanager
def mocked_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The template's resources in moto, the function's environment set as the template sets it."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # mock_aws does not intercept when it is set
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in MOCKED_SHELL.items():
        monkeypatch.setenv(name, value)
    faults = Faults()
    with mock_aws():
        boto3.setup_default_session()
        # Clients created from the default session after this point inherit the hook.
        faults.install(boto3.DEFAULT_SESSION.events)
        resources = create_resources()
        # Both functions' environments: the names they share have the same values.
        for name, value in {**resources.publisher_environment, **resources.function_environment}.items():
            monkeypatch.setenv(name, value)
        yield Stack(resources=resources, faults=faults, notifications_queue_url=subscribe_notifications(resources))
    boto3.DEFAULT_SESSION = None
    sys.modules.pop("zenoti_receiver.publisher_handler", None)


def subscribe_notifications(resources: LocalResources) -> str:
    """An SQS queue on the topic without raw delivery: it receives the SNS notifications, message ids included."""
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="test-notifications")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(TopicArn=resources.topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return str(queue_url)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    with mocked_stack(monkeypatch) as fresh:
        yield fresh


@pytest.fixture
def log_stream() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def logs(log_stream: io.StringIO) -> Any:
    """The structured log lines the function has written so far, parsed."""

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in log_stream.getvalue().splitlines() if line.strip()]

    return read


@pytest.fixture
def handler(stack: Stack, log_stream: io.StringIO) -> Iterator[ModuleType]:
    """The real entry point, imported fresh (cold start) inside the mocked account."""
    yield fresh_handler(log_stream)
    sys.modules.pop("zenoti_receiver.handler", None)


def fresh_handler(log_stream: io.StringIO) -> ModuleType:
    """The handler module imported anew (a new execution environment), logging to `log_stream`."""
    _fresh_execution_environment()
    module = importlib.import_module("zenoti_receiver.handler")
    _log_to(log_stream)
    return module


def fresh_publisher() -> ModuleType:
    """The publisher's module imported anew (a new execution environment) in the mocked account."""
    return import_handler("zenoti_receiver.publisher_handler")


def _log_to(log_stream: io.StringIO) -> None:
    # Powertools sets its log handler up once per process, on the stdout of that moment.
    for log_handler in logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"]).handlers:
        if isinstance(log_handler, logging.StreamHandler):
            log_handler.setStream(log_stream)


def _fresh_execution_environment() -> None:
    """Forget what a previous test's "Lambda execution environment" left in this process."""
    sys.modules.pop("zenoti_receiver.handler", None)
    powertools_logger.is_cold_start = True
    cold_start.reset_cold_start_flag()


@pytest.fixture
def served_handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, StreamMapping]]:
    """The handler against moto's server on 127.0.0.1, as in `make serve`; and the stream to its publisher."""
    with emulator("127.0.0.1", 0) as endpoint:
        for name, value in {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}.items():
            monkeypatch.setenv(name, value)
        resources = create_resources(endpoint_url=endpoint)
        for name, value in {**resources.publisher_environment, **resources.function_environment}.items():
            monkeypatch.setenv(name, value)
        _fresh_execution_environment()
        import zenoti_receiver.handler as handler

        publisher = fresh_publisher()

        def invoke(event: dict[str, Any]) -> dict[str, Any]:
            context = LambdaContext(aws_request_id="stream", function_name="PublisherFunction")
            result: dict[str, Any] = publisher.lambda_handler(event, context)
            return result

        streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=REGION)
        stream = StreamMapping(streams, resources.stream_arn, invoke, lambda record: None)
        try:
            yield handler, resources, stream
        finally:
            sys.modules.pop("zenoti_receiver.handler", None)
            sys.modules.pop("zenoti_receiver.publisher_handler", None)


@dataclass
class Response:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@pytest.fixture
def invoke(handler: ModuleType) -> Any:
    def call(event: dict[str, Any]) -> Response:
        context = LambdaContext(aws_request_id=event["requestContext"]["requestId"])
        result = handler.lambda_handler(event, context)
        return Response(status=result["statusCode"], body=json.loads(result["body"]), headers=result["headers"])

    return call


__all__ = ["LOCAL_TOKEN", "LambdaContext", "load_event", "start_serve", "with_body", "with_payload"]
