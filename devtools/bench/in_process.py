"""The receiving function imported once in this process, as in a warm Lambda execution environment.

Measures, against the emulator: how many AWS calls an event costs before its answer (counted by a
botocore hook on every client, not estimated), its write units, and the warm latency next to a bare
baseline handler that stores and publishes; then, with every AWS call answered by the same hook, the
CPU our own code spends per event.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import importlib
import io
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, TextIO
from unittest import mock

import boto3
from botocore import xform_name
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from devtools.bench.events import EventFactory
from devtools.bench.write_units import WriteMeter
from devtools.local_stack.receiver import LambdaContext
from ops.local import LOCAL_TOKEN

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

# What the function's adapters configure (src/zenoti_receiver/adapters/aws.py), for the baseline.
BASELINE_CONFIG = Config(
    connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 2}, tcp_keepalive=True
)

# Powertools binds its log handler to sys.stdout when the handler module is first imported, and
# keeps it for later imports; the metrics are printed to sys.stdout: /dev/null for both, for the
# whole process, so only the table is printed.
_SINK: TextIO = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - open as long as the process

_OK = AWSResponse("https://stubbed.invalid", 200, {}, None)
# Canned answers by "<service>.<Operation>"; anything else gets an empty success.
_CANNED: dict[str, dict[str, Any]] = {
    "secrets-manager.GetSecretValue": {"SecretString": json.dumps({"token": LOCAL_TOKEN})},
    "sns.Publish": {"MessageId": "00000000-0000-4000-8000-000000000000"},
}


@dataclass
class AwsCalls:
    """A botocore hook on every client: counts API calls and HTTP attempts; answers calls when stubbed.

    Answering in `before-call` skips signing, the HTTP exchange and response parsing, and keeps
    what happens before it: parameter validation and serialisation, which any AWS call costs.
    """

    calls: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    stubbed: bool = False

    def install(self, session: boto3.session.Session) -> None:
        session.events.register_first("before-call", self._before_call)
        session.events.register_first("before-send", self._before_send)

    def reset(self) -> None:
        self.calls.clear()
        self.attempts = 0

    def _before_call(self, event_name: str, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        operation = event_name.split(".", 1)[1]  # before-call.<service>.<Operation>
        self.calls[operation] += 1
        if not self.stubbed:
            return None
        return _OK, dict(_CANNED.get(operation, {}))

    def _before_send(self, **_: Any) -> None:
        self.attempts += 1


class StandInClient:
    """An AWS client whose every call answers at once with `_CANNED`: no botocore work at all."""

    def __init__(self, service: str, **_: Any) -> None:
        self._canned = {xform_name(key.split(".")[1]): answer for key, answer in _CANNED.items()}
        conflict = type("ConditionalCheckFailedException", (Exception,), {})
        self.exceptions = SimpleNamespace(ConditionalCheckFailedException=conflict)

    def __getattr__(self, method: str) -> Callable[..., dict[str, Any]]:
        answer = self._canned.get(method, {})
        return lambda **_: dict(answer)


@dataclass
class CallCount:
    calls: dict[str, int]
    attempts: int

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@dataclass
class CallCounts:
    first_new: CallCount  # the first event an execution environment serves
    new: CallCount
    duplicate: CallCount


@dataclass
class WarmLatency:
    handler_s: list[float]  # until the response, which is also when the environment can take the next one
    baseline_s: list[float]


@dataclass
class HandlerCpu:
    """CPU seconds per event, one figure per round."""

    handler_s: list[float]
    own_code_s: list[float]  # the handler with stand-in AWS clients: no botocore at all
    baseline_s: list[float]  # the bare baseline, its two AWS calls stubbed the same way
    json_loads_s: list[float]


class Function:
    """The handler module in this process, its output discarded, every AWS call seen by `aws`."""

    def __init__(
        self,
        src: Path,
        function_environment: dict[str, str],
        topic_arn: str,  # where the bare baseline publishes (the receiving function no longer does)
        *,
        stand_in_clients: bool = False,
        write_meter: WriteMeter | None = None,
    ) -> None:
        os.environ.update(function_environment)
        self.aws = AwsCalls()
        boto3.setup_default_session()
        # Clients the handler creates from the default session inherit the hooks.
        self.aws.install(boto3.DEFAULT_SESSION)
        if write_meter is not None:
            write_meter.install(boto3.DEFAULT_SESSION)
        self.handler: Handler = import_handler(src, "zenoti_receiver.handler", stand_in_clients).lambda_handler
        self.baseline: Handler = _baseline_handler(function_environment["EVENTS_TABLE_NAME"], topic_arn)

    def quiet(self) -> contextlib.AbstractContextManager[None]:
        return quiet()

    def invoke(self, handler: Handler, event: dict[str, Any]) -> dict[str, Any]:
        return self.timed_invoke(handler, event)[0]

    def timed_invoke(self, handler: Handler, event: dict[str, Any]) -> tuple[dict[str, Any], float]:
        """The response and the seconds until it: the environment is busy exactly that long."""
        context = LambdaContext(aws_request_id=event["requestContext"]["requestId"])
        started = time.perf_counter()
        response = handler(event, context)
        return response, time.perf_counter() - started


def import_handler(src: Path, module: str, stand_in_clients: bool = False) -> ModuleType:
    """A function's handler module imported anew from `src`: a new execution environment in this process."""
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))
    sys.modules.pop(module, None)
    # The function creates all its clients while it is imported.
    clients = mock.patch.object(boto3, "client", StandInClient) if stand_in_clients else contextlib.nullcontext()
    with quiet(), clients:
        return importlib.import_module(module)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """What the functions print, discarded."""
    with contextlib.redirect_stdout(_SINK):
        yield


@contextlib.contextmanager
def printing_to(stream: io.StringIO) -> Iterator[None]:
    """What the function prints, its log lines included: Powertools' handler keeps the stdout of the
    moment the Logger was made, so redirecting stdout alone catches only the metrics."""
    handlers = [
        handler
        for handler in logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"]).handlers
        if isinstance(handler, logging.StreamHandler)
    ]
    before = [handler.setStream(stream) for handler in handlers]
    try:
        with contextlib.redirect_stdout(stream):
            yield
    finally:
        for handler, previous in zip(handlers, before, strict=True):
            handler.setStream(previous)


def count_calls(function: Function, events: EventFactory) -> CallCounts:
    def counted(event: dict[str, Any], outcome: str) -> CallCount:
        function.aws.reset()
        with function.quiet():
            expect(function.invoke(function.handler, event), outcome)
        return CallCount(calls=dict(function.aws.calls), attempts=function.aws.attempts)

    first = counted(events.new_event(), "accepted")
    event = events.new_event()
    new = counted(event, "accepted")
    duplicate = counted(event, "duplicate")
    return CallCounts(first_new=first, new=new, duplicate=duplicate)


@dataclass
class WriteUnits:
    """DynamoDB write request units by where they are spent, and what a new event's invocation printed."""

    new: Counter[str]
    duplicate: Counter[str]
    held: Counter[str]  # an authenticated body that is not an event
    baseline: Counter[str]  # the bare baseline's put of a new event
    log_bytes_per_new_event: int
    response_bytes_per_new_event: int  # the answer's body, which the API's access-log line counts


def count_write_units(
    function: Function, meter: WriteMeter, events: EventFactory, with_baseline: bool = True
) -> WriteUnits:
    """One new event and its redelivery, after a warm-up: what each costs in writes."""
    with function.quiet():
        expect(function.invoke(function.handler, events.new_event()), "accepted")
    meter.reset()
    event = events.new_event()
    printed = io.StringIO()
    with printing_to(printed):  # the log line and the metrics, as CloudWatch Logs ingests them
        answer = function.invoke(function.handler, event)
    expect(answer, "accepted")
    new = meter.reset()
    with function.quiet():
        expect(function.invoke(function.handler, event), "duplicate")
    duplicate = meter.reset()
    # The sample as Zenoti might send it under a schema version we do not know: held, not stored.
    held = copy.deepcopy(event)
    held["body"] = held["body"].replace('"event_schema": "v1"', '"event_schema": "v2"')
    with function.quiet():
        expect(function.invoke(function.handler, held), "held", status=202)
    held_units = meter.reset()
    if with_baseline:  # the bare baseline stores any body; once is enough
        with function.quiet():
            expect(function.invoke(function.baseline, events.new_event()), "accepted")
    return WriteUnits(
        new=new,
        duplicate=duplicate,
        held=held_units,
        baseline=meter.reset(),
        log_bytes_per_new_event=len(printed.getvalue().encode()),
        response_bytes_per_new_event=len(answer["body"].encode()),
    )


def measure_warm_latency(function: Function, events: EventFactory, rounds: int, batch: int) -> WarmLatency:
    result = WarmLatency(handler_s=[], baseline_s=[])
    sides = {"handler": (function.handler, result.handler_s), "baseline": (function.baseline, result.baseline_s)}
    with function.quiet():
        # Unrecorded warm-up: connections opened, caches filled, on both sides.
        for handler, _ in sides.values():
            for event in events.new_events(5):
                expect(function.invoke(handler, event), "accepted")
        for run in range(rounds):
            order = ["handler", "baseline"] if run % 2 == 0 else ["baseline", "handler"]
            for side in order:
                handler, latencies = sides[side]
                for event in events.new_events(batch):
                    response, answered_s = function.timed_invoke(handler, event)
                    latencies.append(answered_s)
                    expect(response, "accepted")
    return result


def measure_handler_cpu(
    function: Function, stand_in: Function, events: EventFactory, rounds: int, batch: int
) -> HandlerCpu:
    """The work of an event, all of it in the handler.

    `function` has its AWS calls answered by the botocore hook (botocore's client-side work stays);
    `stand_in` is the same handler with stand-in clients, so what it spends is our own code.
    """
    result = HandlerCpu(handler_s=[], own_code_s=[], baseline_s=[], json_loads_s=[])
    sides: dict[str, tuple[Handler, list[float]]] = {
        "handler": (function.handler, result.handler_s),
        "own": (stand_in.handler, result.own_code_s),
        "baseline": (function.baseline, result.baseline_s),
        "json": (_json_loads_only, result.json_loads_s),
    }
    function.aws.stubbed = True
    try:
        with function.quiet():
            for handler, _ in sides.values():  # unrecorded warm-up
                for event in events.new_events(batch):
                    handler(event, LambdaContext(aws_request_id=event["requestContext"]["requestId"]))
            for run in range(rounds):
                order = list(sides)[run % len(sides) :] + list(sides)[: run % len(sides)]
                for side in order:
                    handler, figures = sides[side]
                    batch_events = events.new_events(batch)
                    contexts = [LambdaContext(aws_request_id=e["requestContext"]["requestId"]) for e in batch_events]
                    gc.collect()  # each batch starts from a clean heap
                    started = time.process_time()
                    for event, context in zip(batch_events, contexts, strict=True):
                        handler(event, context)
                    figures.append((time.process_time() - started) / batch)
            # The stubbed events were accepted, as the timed ones are assumed to have been.
            for handler in (function.handler, stand_in.handler):
                expect(function.invoke(handler, events.new_event()), "accepted")
    finally:
        function.aws.stubbed = False
    return result


def _json_loads_only(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(event["body"])
    return body


def _baseline_handler(table: str, topic: str) -> Handler:
    """The least a receiver does: parse the body, one put_item, one publish. No framework."""
    dynamodb = boto3.client("dynamodb", config=BASELINE_CONFIG)
    sns = boto3.client("sns", config=BASELINE_CONFIG)

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


def expect(response: dict[str, Any], outcome: str, status: int = 200) -> None:
    """The benchmark is only valid if every event took the path it means to time."""
    answered = json.loads(response["body"]).get("status")
    if response["statusCode"] != status or answered != outcome:
        raise RuntimeError(f"expected a {status} {outcome!r}, got {response['statusCode']}: {response['body']}")
