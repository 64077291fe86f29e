"""The publisher warm in this process, given real stream batches (read by the local stack's event source mapping)
again and again, interleaved with a bare publisher (boto3 and a loop): its duration is what Lambda bills."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from statistics import median
from typing import Any

import boto3
from botocore.config import Config

from devtools.bench.cold_start import bounded_config, publish_records
from devtools.bench.events import EventFactory
from devtools.bench.in_process import Function, Handler, import_handler, invoke, printing
from devtools.local_stack.receiver import LambdaContext
from devtools.local_stack.resources import PUBLISHER_FUNCTION, LocalResources
from devtools.local_stack.stream import MappingSettings, StreamMapping
from ops.local import REGION


def stream_batches(function: Function, events: EventFactory, endpoint: str, stream_arn: str) -> dict[str, Any]:
    """A batch of one new event ("one") and a full batch ("full"), stored by the receiving function, read back.
    Run first, while the stream holds nothing else (the floor and the bare baseline store items of their own)."""
    for event in events.new_events(MappingSettings.from_template().batch_size + 1):
        invoke(function.handler, event)
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
    module = import_handler(src, "zenoti_receiver.publisher_handler")
    sns = boto3.client("sns", config=bounded_config())

    def bare(event: dict[str, Any], context: Any) -> dict[str, Any]:
        publish_records(sns, resources.topic_arn, event["Records"])
        return {"batchItemFailures": []}

    def timed(handler: Handler, batch: dict[str, Any]) -> float:
        """Seconds the invocation took, once every record of the batch is published."""
        context = LambdaContext(aws_request_id=str(uuid.uuid4()), function_name=PUBLISHER_FUNCTION)
        started = time.perf_counter()
        answer = handler(batch, context)
        took = time.perf_counter() - started
        if answer.get("batchItemFailures") != []:
            raise RuntimeError(f"the publisher did not publish its whole batch: {answer}")
        return took

    handlers = {"ours": module.lambda_handler, "bare": bare}
    sides = [
        (f"{side} {size}", handler, batch) for side, handler in handlers.items() for size, batch in batches.items()
    ]
    durations: dict[str, list[float]] = {name: [] for name, _, _ in sides}
    for _, handler, batch in sides:  # unrecorded warm-up
        timed(handler, batch)
    for run in range(rounds):
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
    return {name: median(figures) for name, figures in durations.items()}, printed
