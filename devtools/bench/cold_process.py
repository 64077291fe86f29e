"""One cold start: a fresh process imports a function (or its floor) and serves its first request.

`python -I cold_process.py receiver|publisher [SRC]`: with SRC the function of that code root, without it the
floor (boto3 and the same calls, no framework); the event on stdin, the function's environment set. Prints one
`BENCH-RESULT {json}` line last. It imports nothing of the benchmark: the process holds only what is measured.
"""

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
from typing import Any

HANDLERS = {"receiver": "zenoti_receiver.handler", "publisher": "zenoti_receiver.publisher_handler"}
FUNCTION_NAMES = {"receiver": "ReceiverFunction", "publisher": "PublisherFunction"}
TIMEOUT_MS = {"receiver": 9000, "publisher": 30000}  # template.yaml: each function's Timeout
MESSAGE_ATTRIBUTES = ("event_type", "event_resource", "center_id")


class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_version = "$LATEST"
    memory_limit_in_mb = 512

    def __init__(self, function: str) -> None:
        self.function_name = FUNCTION_NAMES[function]
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.aws_request_id = "00000000-cold-start"
        self._timeout_ms = TIMEOUT_MS[function]

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms


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
        records = event["Records"]
        return lambda: (publish_records(sns, os.environ["EVENTS_TOPIC_ARN"], records) == len(records), "published")
    config = bounded_config()
    secretsmanager = boto3.client("secretsmanager", config=config)
    dynamodb = boto3.client("dynamodb", config=config)

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
    report = {
        "ok": ok,
        "detail": detail,
        "init_s": imported - before_import,
        "request_s": time.perf_counter() - imported,
    }
    print("BENCH-RESULT " + json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
