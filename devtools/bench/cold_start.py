"""Cold start: fresh processes serving a first request (which Zenoti or the stream waits for too), timed from spawn
to exit, each function's against its floor's (boto3 and the same calls). This file is also the child process:
`python -I cold_start.py receiver|publisher [SRC]` (the function of SRC, or without it the floor), event on stdin."""

from __future__ import annotations

import base64
import importlib
import json
import os
import sys
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

RESULT_PREFIX = "BENCH-RESULT "
SIDES = ("function", "floor")
PARTS = ("wall", "init", "request")
NOT_INHERITED = ("AWS_", "PYTHON", "POWERTOOLS_")  # the benchmark's own settings: a child has its function's
HANDLERS = {"receiver": "zenoti_receiver.handler", "publisher": "zenoti_receiver.publisher_handler"}
FUNCTION_NAMES = {"receiver": "ReceiverFunction", "publisher": "PublisherFunction"}
TIMEOUT_MS = {"receiver": 9000, "publisher": 30000}  # template.yaml: each function's Timeout
MESSAGE_ATTRIBUTES = ("event_type", "event_resource", "center_id")


# Seconds by side ("function", "floor") and by part ("wall", "init", "request"): one figure per process.
ColdStart = dict[str, dict[str, list[float]]]
# What a cold start needs: "receiver" or "publisher", its environment, and a first request (a new one each time).
ColdFunction = tuple[str, dict[str, str], Callable[[], dict[str, Any]]]


def measure_cold_starts(pairs: int, src: Path, functions: dict[str, ColdFunction]) -> dict[str, ColdStart]:
    """`pairs` cold starts of each function and of its floor, every side in turn, the order rotating."""
    sides = [(name, side) for name in functions for side in SIDES]
    results: dict[str, ColdStart] = {name: {side: {part: [] for part in PARTS} for side in SIDES} for name in functions}
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(NOT_INHERITED)}
    # One unrecorded round first: it fills the page cache and writes src/'s bytecode.
    for run in range(pairs + 1):
        for name, side in sides[run % len(sides) :] + sides[: run % len(sides)]:
            kind, environment, first_request = functions[name]
            arguments = [kind, str(src)] if side == "function" else [kind]
            report = _run_process(arguments, first_request(), {**inherited, **environment})
            for part, figures in results[name][side].items():
                if run:  # the first round is not recorded
                    figures.append(report[f"{part}_s"])
    return results


def _run_process(arguments: list[str], event: dict[str, Any], environment: dict[str, str]) -> dict[str, Any]:
    """The child's report: the seconds of its init and first request, and of the whole process ("wall_s")."""
    import subprocess  # here: the child has no use for it

    command = [sys.executable, "-I", __file__, *arguments]
    started = time.perf_counter()
    run = subprocess.run(command, input=json.dumps(event), capture_output=True, text=True, env=environment, timeout=120)  # noqa: S603 - our script
    wall_s = time.perf_counter() - started
    lines = [line for line in run.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if run.returncode != 0 or not lines:
        raise RuntimeError(f"{__name__} {arguments} failed (exit {run.returncode}): {run.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_PREFIX))
    # Only the path Zenoti (or the stream) waits for is the cold start; anything else times a shortcut.
    if not report["ok"]:
        raise RuntimeError(f"{__name__} {arguments} did not serve its first request: {report}")
    return {**report, "wall_s": wall_s}


class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_version = "$LATEST"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-cold-start"

    def __init__(self, function: str) -> None:
        self.function_name = FUNCTION_NAMES[function]
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.get_remaining_time_in_millis = lambda: TIMEOUT_MS[function]


def bounded_config() -> Any:
    """What the function's adapters configure (src/zenoti_receiver/adapters/aws.py)."""
    from botocore.config import Config

    retries = {"mode": "standard", "total_max_attempts": 2}
    return Config(connect_timeout=0.5, read_timeout=1, retries=retries, tcp_keepalive=True, parameter_validation=False)


def publish_records(sns: Any, topic_arn: str, records: list[dict[str, Any]]) -> int:
    """The least a stream publisher does: each new image's body, decompressed, published with its attributes."""
    for record in records:
        image = record["dynamodb"]["NewImage"]
        sns.publish(
            TopicArn=topic_arn,
            Message=zlib.decompress(base64.b64decode(image["payload_zlib"]["B"])).decode("utf-8"),
            MessageAttributes={
                name: {"DataType": "String", "StringValue": image[name]["S"]}
                for name in MESSAGE_ATTRIBUTES
                if name in image
            },
        )
    return len(records)


def function(kind: str, event: dict[str, Any]) -> Callable[[], tuple[bool, str]]:
    """The function's handler imported; its first request, and whether it took the path that is waited for."""
    lambda_handler = importlib.import_module(HANDLERS[kind]).lambda_handler

    def first_request() -> tuple[bool, str]:
        result = lambda_handler(event, LambdaContext(kind))
        if kind == "publisher":  # a batch all published
            return result.get("batchItemFailures") == [], json.dumps(result)
        return result["statusCode"] == 200 and json.loads(result["body"]).get("status") == "accepted", result["body"]

    return first_request


def floor(kind: str, event: dict[str, Any]) -> Callable[[], tuple[bool, str]]:
    import boto3

    if kind == "publisher":
        sns = boto3.client("sns", config=bounded_config())
        return lambda: (publish_records(sns, os.environ["EVENTS_TOPIC_ARN"], event["Records"]) > 0, "published")
    config = bounded_config()
    secretsmanager, dynamodb = (boto3.client(service, config=config) for service in ("secretsmanager", "dynamodb"))

    def first_request() -> tuple[bool, str]:
        secret = json.loads(secretsmanager.get_secret_value(SecretId=os.environ["TOKEN_SECRET_ARN"])["SecretString"])
        if event["queryStringParameters"]["token"] != secret["token"]:
            return False, "wrong token"
        payload = event["body"]
        body = json.loads(payload)
        dynamodb.put_item(
            TableName=os.environ["EVENTS_TABLE_NAME"],
            # The body's envelope alone: what any family has (its own ids are the receiver's work).
            Item={
                "event_id": {"S": body["event_id"]},
                "event_type": {"S": body["event_type"]},
                "occurred_at": {"S": body["event_timestamp"]},
                "payload": {"S": payload},
                "received_at": {"S": datetime.now(UTC).isoformat()},
            },
            ConditionExpression="attribute_not_exists(event_id)",
        )
        return True, body["event_id"]

    return first_request


def main() -> None:
    event = json.loads(sys.stdin.read())
    kind, src = sys.argv[1], sys.argv[2:]
    sys.path[:0] = src  # the function's code root, as Lambda puts it on the path
    before_import = time.perf_counter()
    first_request = function(kind, event) if src else floor(kind, event)
    imported = time.perf_counter()
    ok, detail = first_request()
    seconds = {"init_s": imported - before_import, "request_s": time.perf_counter() - imported}
    print(RESULT_PREFIX + json.dumps({"ok": ok, "detail": detail, **seconds}), flush=True)


if __name__ == "__main__":
    main()
