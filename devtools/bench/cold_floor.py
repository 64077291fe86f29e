"""The floor of a cold start: boto3 and the same AWS calls as the function, with no framework at all.

Run by bench.cold_start like cold_handler.py (`python -I cold_floor.py receiver|publisher`, the same
environment, the same event on stdin): creates the clients the function creates, with the same botocore
settings, and makes the calls its first request costs. For the receiver: get_secret_value and one
conditional put_item. For the publisher: each record's body read from the stream's image and published
with its attributes. Prints one `BENCH-RESULT {json}` line last. Self-contained, like cold_handler.py.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

MESSAGE_ATTRIBUTES = ("event_type", "event_resource", "center_id")


def bounded_config() -> Any:
    """What the function's adapters configure (src/zenoti_receiver/adapters/aws.py)."""
    from botocore.config import Config

    return Config(
        connect_timeout=0.5,
        read_timeout=1,
        retries={"mode": "standard", "total_max_attempts": 2},
        tcp_keepalive=True,
        parameter_validation=False,
    )


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


def receiver(event: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    import boto3

    config = bounded_config()
    secretsmanager = boto3.client("secretsmanager", config=config)
    dynamodb = boto3.client("dynamodb", config=config)

    def first_request() -> dict[str, Any]:
        secret = json.loads(secretsmanager.get_secret_value(SecretId=os.environ["TOKEN_SECRET_ARN"])["SecretString"])
        if event["queryStringParameters"]["token"] != secret["token"]:
            raise SystemExit("wrong token")
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
        return {"ok": True, "detail": body["event_id"]}

    return first_request


def publisher(event: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    import boto3

    sns = boto3.client("sns", config=bounded_config())

    def first_request() -> dict[str, Any]:
        published = publish_records(sns, os.environ["EVENTS_TOPIC_ARN"], event["Records"])
        return {"ok": published == len(event["Records"]), "detail": f"{published} published"}

    return first_request


def main() -> None:
    event = json.loads(sys.stdin.read())
    before_import = time.perf_counter()
    first_request = {"receiver": receiver, "publisher": publisher}[sys.argv[1]](event)
    imported = time.perf_counter()
    report = first_request()
    answered = time.perf_counter()
    print(
        "BENCH-RESULT " + json.dumps({**report, "init_s": imported - before_import, "request_s": answered - imported}),
        flush=True,
    )


if __name__ == "__main__":
    main()
