"""The functions imported in this process, as in warm Lambda execution environments: the receiver's AWS calls, write
units, warm latency and CPU beside a bare baseline that stores and publishes; the publisher's beside a bare one."""

from __future__ import annotations

import contextlib
import copy
import gc
import io
import json
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from types import SimpleNamespace
from typing import Any
from unittest import mock

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from devtools.bench.cold_start import publish_records
from devtools.bench.write_units import WriteMeter
from devtools.local_stack.receiver import LambdaContext, import_handler
from devtools.local_stack.resources import PUBLISHER_FUNCTION, LocalResources
from devtools.local_stack.stream import MappingSettings, StreamMapping
from devtools.local_stack.template import REPO
from ops.local import LOCAL_TOKEN, REGION
from zenoti_receiver.adapters.aws import BOUNDED

Event = dict[str, Any]  # what a function is given and what it answers
Handler = Callable[[Event, Any], Event]

# The bare baseline's: the function's adapters' timeouts and retries, with botocore's own parameter validation.
BASELINE_CONFIG = BOUNDED.merge(Config(parameter_validation=True))
_OK = AWSResponse("https://stubbed.invalid", 200, {}, None)
# What a stub answers GetSecretValue; any other call gets an empty success.
_SECRET = {"SecretString": json.dumps({"token": LOCAL_TOKEN})}


class EventFactory:
    """Copies of the sample event, each with a fresh Zenoti event_id and API Gateway request id."""

    def __init__(self, sample: Path = REPO / "events" / "apigw_booking_deleted.json") -> None:
        self._event: dict[str, Any] = json.loads(sample.read_text(encoding="utf-8"))
        self._body: dict[str, Any] = json.loads(self._event["body"])

    def new_event(self) -> dict[str, Any]:
        event = copy.deepcopy(self._event)
        body = dict(self._body, event_id=uuid.uuid4().hex[:24])  # Zenoti's ids: 24 hex digits
        # Pretty-printed like the sample, so every event is as long as the one Zenoti documents.
        event["body"] = json.dumps(body, indent=2) + "\n"
        event["requestContext"]["requestId"] = uuid.uuid4().hex[:16]
        return event


@dataclass
class AwsCalls:
    """A botocore hook on every client: counts API calls and HTTP attempts; answers calls when stubbed (skipping
    signing, the HTTP exchange and parsing, but not validation and serialisation, which any AWS call costs)."""

    calls: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    stubbed: bool = False

    def install(self, session: boto3.session.Session) -> None:
        session.events.register_first("before-call", self._before_call)
        session.events.register_first("before-send", self._before_send)

    def taken(self) -> tuple[Counter[str], int]:
        """The calls and attempts counted since the last time."""
        counted = self.calls, self.attempts
        self.calls, self.attempts = Counter(), 0
        return counted

    def _before_call(self, event_name: str, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        operation = event_name.split(".", 1)[1]  # before-call.<service>.<Operation>
        self.calls[operation] += 1
        if not self.stubbed:
            return None
        return _OK, dict(_SECRET) if operation.endswith(".GetSecretValue") else {}

    def _before_send(self, **_: Any) -> None:
        self.attempts += 1


class StandInClient:
    """An AWS client whose every call answers at once, as the stubs do: no botocore work at all."""

    def __init__(self, service: str, **_: Any) -> None:
        conflict = type("ConditionalCheckFailedException", (Exception,), {})
        self.exceptions = SimpleNamespace(ConditionalCheckFailedException=conflict)

    def __getattr__(self, method: str) -> Callable[..., dict[str, Any]]:
        return lambda **_: dict(_SECRET) if method == "get_secret_value" else {}


class Function:
    """The handler module in this process, every AWS call seen by `aws`, beside the bare baseline."""

    def __init__(self, src: Path, environment: dict[str, str], topic_arn: str, write_meter: WriteMeter | None = None):
        os.environ.update(environment)
        self.aws = AwsCalls()
        boto3.setup_default_session()
        # Clients the handler creates from the default session inherit the hooks.
        self.aws.install(boto3.DEFAULT_SESSION)
        if write_meter is not None:
            write_meter.install(boto3.DEFAULT_SESSION)
        self.handler: Handler = import_handler("zenoti_receiver.handler", src).lambda_handler
        # Where the bare baseline publishes (the receiving function no longer does).
        self.baseline = _baseline_handler(environment["EVENTS_TABLE_NAME"], topic_arn)


def invoke(handler: Handler, event: Event, outcome: str = "accepted", status: int = 200) -> tuple[Event, float]:
    """The answer and the seconds until it; the benchmark is only valid if every event took the path it times."""
    context = LambdaContext(aws_request_id=event["requestContext"]["requestId"])
    started = time.perf_counter()
    response = handler(event, context)
    took = time.perf_counter() - started
    answered = json.loads(response["body"]).get("status")
    if response["statusCode"] != status or answered != outcome:
        raise RuntimeError(f"expected a {status} {outcome!r}, got {response['statusCode']}: {response['body']}")
    return response, took


@contextlib.contextmanager
def printing() -> Iterator[io.StringIO]:
    """What the function prints, its log lines included: Powertools' handler keeps the stdout of the
    moment the Logger was made, so redirecting stdout alone catches only the metrics."""
    stream = io.StringIO()
    logger = logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"])
    handlers = [handler for handler in logger.handlers if isinstance(handler, logging.StreamHandler)]
    before = [handler.setStream(stream) for handler in handlers]
    try:
        with contextlib.redirect_stdout(stream):
            yield stream
    finally:
        for handler, previous in zip(handlers, before, strict=True):
            handler.setStream(previous)


def count_calls(function: Function, events: EventFactory) -> dict[str, tuple[Counter[str], int]]:
    """The calls and HTTP attempts of the first new event of an environment, of a new event, of its duplicate."""

    def counted(event: dict[str, Any], outcome: str = "accepted") -> tuple[Counter[str], int]:
        function.aws.taken()
        invoke(function.handler, event, outcome)
        return function.aws.taken()

    first, event = events.new_event(), events.new_event()
    return {"first": counted(first), "new": counted(event), "duplicate": counted(event, "duplicate")}


@dataclass
class WriteUnits:
    """DynamoDB write request units by where they are spent, and what a new event's invocation printed."""

    new: Counter[str]
    duplicate: Counter[str]
    held: Counter[str]  # an authenticated body that is not an event
    baseline: Counter[str]  # the bare baseline's put of a new event
    log_bytes: int  # what a new event's invocation printed: its log line and metrics, as CloudWatch ingests them
    response_bytes: int  # a new event's answer, which the API's access-log line counts


def count_write_units(function: Function, meter: WriteMeter, events: EventFactory) -> WriteUnits:
    """One new event, its redelivery, and a held body, after a warm-up: what each costs in writes."""
    invoke(function.handler, events.new_event())
    meter.reset()
    event = events.new_event()
    with printing() as printed:
        answer, _ = invoke(function.handler, event)
    new = meter.reset()
    invoke(function.handler, event, "duplicate")
    duplicate = meter.reset()
    # The sample as Zenoti might send it under a schema version we do not know: held, not stored.
    held = copy.deepcopy(event)
    held["body"] = held["body"].replace('"event_schema": "v1"', '"event_schema": "v2"')
    invoke(function.handler, held, "held", status=202)
    held_units = meter.reset()
    invoke(function.baseline, events.new_event())
    baseline = meter.reset()
    printed_bytes, answer_bytes = len(printed.getvalue().encode()), len(answer["body"].encode())
    return WriteUnits(new, duplicate, held_units, baseline, printed_bytes, answer_bytes)


def measure_latency(function: Function, events: EventFactory, rounds: int, batch: int) -> dict[str, list[float]]:
    """Seconds until each answer, by side: an environment takes its next request once it has answered."""
    sides = {"handler": function.handler, "baseline": function.baseline}
    latencies: dict[str, list[float]] = {side: [] for side in sides}
    for run in range(rounds + 1):
        for side in list(sides)[run % 2 :] + list(sides)[: run % 2]:
            latencies[side] += [invoke(sides[side], events.new_event())[1] for _ in range(batch)]
    # The first round unrecorded: connections opened, caches filled, on both sides.
    return {side: figures[batch:] for side, figures in latencies.items()}


def measure_cpu(function: Function, src: Path, events: EventFactory, rounds: int, batch: int) -> dict[str, list[float]]:
    """CPU seconds per event, a figure per round, by side: "handler" answered by the botocore hook (botocore's
    client-side work stays), "own" with stand-in clients (our own code), "baseline" stubbed too, "json" parsing."""
    with mock.patch.object(boto3, "client", StandInClient):  # the function creates its clients while it is imported
        own = import_handler("zenoti_receiver.handler", src).lambda_handler

    def parsing(event: Event, context: Any) -> Any:  # only the body's JSON: what any receiver does
        return json.loads(event["body"])

    sides = {"handler": function.handler, "own": own, "baseline": function.baseline, "json": parsing}
    figures: dict[str, list[float]] = {side: [] for side in sides}
    function.aws.stubbed = True
    try:
        for run in range(rounds + 1):
            for side in list(sides)[run % len(sides) :] + list(sides)[: run % len(sides)]:
                batch_events = [events.new_event() for _ in range(batch)]
                contexts = [LambdaContext(aws_request_id=e["requestContext"]["requestId"]) for e in batch_events]
                gc.collect()  # each batch starts from a clean heap
                started = time.process_time()
                for event, context in zip(batch_events, contexts, strict=True):
                    sides[side](event, context)
                figures[side].append((time.process_time() - started) / batch)
        # The stubbed events were accepted, as the timed ones are assumed to have been.
        for handler in (function.handler, own):
            invoke(handler, events.new_event())
    finally:
        function.aws.stubbed = False
    return {side: each[1:] for side, each in figures.items()}  # the first round unrecorded


def _baseline_handler(table: str, topic: str) -> Handler:
    """The least a receiver does: parse the body, one put_item, one publish. No framework."""
    dynamodb, sns = (boto3.client(service, config=BASELINE_CONFIG) for service in ("dynamodb", "sns"))

    def baseline(event: dict[str, Any], context: Any) -> dict[str, Any]:
        payload = event["body"]
        body = json.loads(payload)
        dynamodb.put_item(
            TableName=table,
            Item={"event_id": {"S": body["event_id"]}, "payload": {"S": payload}},
            ConditionExpression="attribute_not_exists(event_id)",
        )
        sns.publish(TopicArn=topic, Message=payload)
        return {"statusCode": 200, "body": json.dumps({"status": "accepted", "event_id": body["event_id"]})}

    return baseline


def stream_batches(function: Function, events: EventFactory, endpoint: str, stream_arn: str) -> dict[str, Any]:
    """A batch of one new event ("one") and a full batch ("full"), stored by the receiving function, read back.
    Run first, while the stream holds nothing else (the floor and the bare baseline store items of their own)."""
    for _ in range(MappingSettings.from_template().batch_size + 1):
        invoke(function.handler, events.new_event())
    captured: list[dict[str, Any]] = []

    def capture(batch: dict[str, Any]) -> dict[str, Any]:
        captured.append(batch)
        return {"batchItemFailures": []}

    def nothing_given_up(record: dict[str, Any]) -> None:
        raise RuntimeError(f"the stream mapping gave up on records: {record}")

    # moto answers the stream's API on its classic endpoint (as devtools/local_stack/receiver.py says).
    streams = boto3.session.Session(region_name=REGION).client(
        "dynamodbstreams", endpoint_url=endpoint, config=Config(account_id_endpoint_mode="disabled")
    )
    StreamMapping(streams, stream_arn, capture, nothing_given_up).drain()
    sizes = [len(batch["Records"]) for batch in captured]
    if sizes[1:] != [1]:
        raise RuntimeError(f"expected a full batch and a batch of one from the stream, got batches of {sizes}")
    return {"one": captured[1], "full": captured[0]}


def measure_publisher(
    src: Path, resources: LocalResources, batches: dict[str, Any], rounds: int
) -> tuple[dict[str, float], dict[str, int]]:
    """The median warm duration per invocation by side and batch ("ours one", "bare full", ...), against a bare
    publisher on the same topic; and what one invocation of ours prints, by batch, as CloudWatch Logs ingests it."""
    os.environ.update(resources.publisher_environment)
    boto3.setup_default_session()
    module = import_handler("zenoti_receiver.publisher_handler", src)
    sns = boto3.client("sns", config=BOUNDED)

    def bare(event: dict[str, Any], context: Any) -> dict[str, Any]:
        publish_records(sns, resources.topic_arn, event["Records"])
        return {"batchItemFailures": []}

    def timed(handler: Handler, batch: dict[str, Any]) -> float:
        context = LambdaContext(aws_request_id=str(uuid.uuid4()), function_name=PUBLISHER_FUNCTION)
        started = time.perf_counter()
        answer = handler(batch, context)
        took = time.perf_counter() - started
        if answer.get("batchItemFailures") != []:
            raise RuntimeError(f"the publisher did not publish its whole batch: {answer}")
        return took

    handlers = {"ours": module.lambda_handler, "bare": bare}
    sides = [(f"{side} {size}", handler, batches[size]) for side, handler in handlers.items() for size in batches]
    durations: dict[str, list[float]] = {name: [] for name, _, _ in sides}
    for run in range(rounds + 1):
        for name, handler, batch in sides[run % len(sides) :] + sides[: run % len(sides)]:
            durations[name].append(timed(handler, batch))
    # Both functions' Loggers share one logger in this process, where the receiver's last correlation id stays;
    # the publisher's own environment never has one.
    module.logger.set_correlation_id(None)
    printed = {}
    for size, batch in batches.items():
        with printing() as output:
            timed(module.lambda_handler, batch)
        printed[size] = len(output.getvalue().encode())
    return {name: median(figures[1:]) for name, figures in durations.items()}, printed  # the first round unrecorded
