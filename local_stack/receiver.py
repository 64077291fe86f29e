"""The real handler, configured from template.yaml, running against an emulator; and what it left there."""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

from local_stack.items import plain_event
from local_stack.resources import PENDING_FUNCTION, REGION, LocalResources

FUNCTION_CODE = Path(__file__).resolve().parent.parent / "src"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
}


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    aws_request_id: str
    function_name: str = "ReceiverFunction"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    timeout_ms: int = 7000  # the function's Timeout in template.yaml; the remaining time never runs down here

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


class LocalReceiver:
    """The stack's two functions, each one Lambda execution environment: imported once, one request at a time."""

    def __init__(self, resources: LocalResources, endpoint_url: str | None = None) -> None:
        self.resources = resources
        # The names both functions read have the same values; each reads its own.
        os.environ.update(resources.pending_function_environment)
        os.environ.update(resources.function_environment)
        session = boto3.session.Session(region_name=REGION)
        self._dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
        self._sqs = session.client("sqs", endpoint_url=endpoint_url)
        self._handler = _import_function("zenoti_receiver.handler")
        self._lock = threading.Lock()
        self._pending = _import_function("zenoti_receiver.pending_handler")
        self._pending_lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        context = LambdaContext(aws_request_id=event["requestContext"]["requestId"])
        with self._lock:
            result: dict[str, Any] = self._handler.lambda_handler(event, context)
        return result

    def publish_pending(self) -> dict[str, Any]:
        """One run of the publisher of pending events, as EventBridge Scheduler starts it every minute."""
        now = datetime.now(UTC)
        event = {"scheduled_time": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "execution_id": str(uuid.uuid4())}
        context = LambdaContext(aws_request_id=str(uuid.uuid4()), function_name=PENDING_FUNCTION, timeout_ms=60_000)
        with self._pending_lock:
            result: dict[str, Any] = self._pending.lambda_handler(event, context)
        return result

    def stored_item(self, event_id: str) -> dict[str, Any] | None:
        item = self._dynamodb.get_item(
            TableName=self.resources.table_name, Key={"event_id": {"S": event_id}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        return plain_event(item)

    def take_messages(self, wait_seconds: int = 0) -> list[dict[str, Any]]:
        """Messages the demo subscriber (an SQS queue on the topic) has received since last asked."""
        queue = self.resources.subscriber_queue_url
        received = self._sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds)
        messages = received.get("Messages", [])
        for message in messages:
            self._sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(message["Body"]) for message in messages]


def _import_function(module: str) -> ModuleType:
    # The function's code root (CodeUri: src/) is on the path in Lambda; put it there here too.
    if str(FUNCTION_CODE) not in sys.path:
        sys.path.insert(0, str(FUNCTION_CODE))
    sys.modules.pop(module, None)  # a new execution environment
    return importlib.import_module(module)


def report(receiver: LocalReceiver, result: dict[str, Any], out: Any = sys.stdout) -> None:
    """Print the HTTP response, the stored item and what the subscriber received."""
    body = json.loads(result["body"])

    def section(title: str) -> None:
        print(f"\n=== {title} ===", file=out)

    section(f"HTTP response: {result['statusCode']}")
    print(json.dumps(body, indent=2), file=out)
    event_id = body.get("event_id")
    section(f"Stored in DynamoDB table {receiver.resources.table_name}")
    item = receiver.stored_item(event_id) if event_id else None
    if item is None:
        print("(nothing stored)", file=out)
    else:
        payload = item.pop("payload")
        print(json.dumps(item, indent=2), file=out)
        print(f"payload (verbatim, {len(payload.encode())} bytes):\n{payload}", file=out)
    section("Received by a subscriber of the SNS topic (SQS queue)")
    messages = receiver.take_messages()
    if not messages:
        print("(no message)", file=out)
    for notification in messages:
        attributes = {name: value["Value"] for name, value in notification.get("MessageAttributes", {}).items()}
        print(f"MessageId: {notification['MessageId']}", file=out)
        print(f"MessageAttributes: {json.dumps(attributes)}", file=out)
        print(f"Message:\n{notification['Message']}", file=out)
