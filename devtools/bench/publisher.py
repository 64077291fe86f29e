"""The publisher, imported once in this process as in a warm execution environment, and the batches it is given.

The batches are real: new events stored by the receiving function, read from moto's stream by the local
stack's event source mapping (devtools/local_stack/stream.py), in the shape Lambda hands them over. Each batch is
then given again and again, to the publisher and to a bare publisher (boto3 and a loop), interleaved:
its warm duration is what Lambda bills, per batch of one event (low traffic) and per full batch (high).
"""

from __future__ import annotations

import io
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from devtools.bench.cold_floor import bounded_config, publish_records
from devtools.bench.emulator import Emulator
from devtools.bench.events import EventFactory
from devtools.bench.in_process import Function, Handler, expect, import_handler, printing_to, quiet
from devtools.local_stack.receiver import LambdaContext
from devtools.local_stack.resources import PUBLISHER_FUNCTION
from devtools.local_stack.stream import MappingSettings, StreamMapping
from ops.local import REGION


@dataclass(frozen=True)
class StreamBatches:
    """Stream batches as Lambda hands them to the publisher."""

    one: dict[str, Any]  # a single new event: low traffic, each event read as soon as it is stored
    full: dict[str, Any]  # as many as the mapping's BatchSize: high traffic

    @property
    def full_size(self) -> int:
        return len(self.full["Records"])


def stream_batches(function: Function, events: EventFactory, emulator: Emulator) -> StreamBatches:
    """Store a full batch and one more event with the receiving function; read them back from the stream.

    Run first, while the stream holds nothing else: the cold-start floor and the bare baseline store items
    of their own shape in the same table.
    """
    assert emulator.resources is not None
    with quiet():
        for event in events.new_events(MappingSettings.from_template().batch_size + 1):
            expect(function.invoke(function.handler, event), "accepted")
    captured: list[dict[str, Any]] = []

    def capture(batch: dict[str, Any]) -> dict[str, Any]:
        captured.append(batch)
        return {"batchItemFailures": []}

    def nothing_given_up(record: dict[str, Any]) -> None:
        raise RuntimeError(f"the stream mapping gave up on records: {record}")

    # moto answers the stream's API on its classic endpoint (as devtools/local_stack/receiver.py says).
    streams = boto3.session.Session(region_name=REGION).client(
        "dynamodbstreams", endpoint_url=emulator.endpoint, config=Config(account_id_endpoint_mode="disabled")
    )
    StreamMapping(streams, emulator.resources.stream_arn, capture, nothing_given_up).drain()
    sizes = [len(batch["Records"]) for batch in captured]
    if len(captured) != 2 or sizes[1] != 1:
        raise RuntimeError(f"expected a full batch and a batch of one from the stream, got batches of {sizes}")
    return StreamBatches(one=captured[1], full=captured[0])


class Publisher:
    """The publisher module in this process, its output discarded, beside a bare publisher on the same topic."""

    def __init__(self, src: Path, publisher_environment: dict[str, str]) -> None:
        os.environ.update(publisher_environment)
        boto3.setup_default_session()
        self.module = import_handler(src, "zenoti_receiver.publisher_handler")
        self.handler: Handler = self.module.lambda_handler
        sns = boto3.client("sns", config=bounded_config())
        topic_arn = publisher_environment["EVENTS_TOPIC_ARN"]

        def bare(event: dict[str, Any], context: Any) -> dict[str, Any]:
            publish_records(sns, topic_arn, event["Records"])
            return {"batchItemFailures": []}

        self.baseline: Handler = bare

    def timed_invoke(self, handler: Handler, batch: dict[str, Any]) -> float:
        """Seconds the invocation took, once every record of the batch is published."""
        context = LambdaContext(aws_request_id=str(uuid.uuid4()), function_name=PUBLISHER_FUNCTION)
        started = time.perf_counter()
        answer = handler(batch, context)
        took = time.perf_counter() - started
        if answer.get("batchItemFailures") != []:
            raise RuntimeError(f"the publisher did not publish its whole batch: {answer}")
        return took


@dataclass
class PublisherRuns:
    """Warm durations per invocation, and what one invocation prints, by batch."""

    one_s: list[float]
    full_s: list[float]
    bare_one_s: list[float]
    bare_full_s: list[float]
    one_log_bytes: int = 0  # its log lines and metrics, as CloudWatch Logs ingests them
    full_log_bytes: int = 0


def measure_publisher(publisher: Publisher, batches: StreamBatches, rounds: int) -> PublisherRuns:
    result = PublisherRuns(one_s=[], full_s=[], bare_one_s=[], bare_full_s=[])
    sides = [
        (publisher.handler, batches.one, result.one_s),
        (publisher.handler, batches.full, result.full_s),
        (publisher.baseline, batches.one, result.bare_one_s),
        (publisher.baseline, batches.full, result.bare_full_s),
    ]
    with quiet():
        for handler, batch, _ in sides:  # unrecorded warm-up
            publisher.timed_invoke(handler, batch)
        for run in range(rounds):
            for handler, batch, durations in sides[run % len(sides) :] + sides[: run % len(sides)]:
                durations.append(publisher.timed_invoke(handler, batch))
    result.one_log_bytes = _printed_bytes(publisher, batches.one)
    result.full_log_bytes = _printed_bytes(publisher, batches.full)
    return result


def _printed_bytes(publisher: Publisher, batch: dict[str, Any]) -> int:
    """What one invocation prints (its log lines and metrics), as CloudWatch Logs ingests it."""
    # Both functions' Loggers share one logger in this process, where the receiver's last correlation id
    # stays; the publisher's own environment never has one.
    publisher.module.logger.set_correlation_id(None)
    printed = io.StringIO()
    with printing_to(printed):
        publisher.timed_invoke(publisher.handler, batch)
    return len(printed.getvalue().encode())
