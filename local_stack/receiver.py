"""The stack's two functions, configured from template.yaml, against an emulator; and what they left there.

Each function runs in Lambda's own runtime when aws-lambda-rie is available (local_stack/runtime.py:
the built artifact, awslambdaric, python3.13, the runtime's boto3), otherwise in this process (the
handler imported from src/, as Lambda would import it). Either way one execution environment per
function, one request at a time, and the same report of what the function left in the stack.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import io
import json
import os
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import boto3

from local_stack.guard import printable
from local_stack.resources import FUNCTION, PENDING_FUNCTION, LocalResources
from local_stack.runtime import FunctionError, LambdaFunction, RuntimeSetup, relative
from local_stack.template import load_template, resource
from ops.items import plain_event, plain_held
from ops.local import FAKE_CREDENTIALS, REGION

FUNCTION_CODE = Path(__file__).resolve().parent.parent / "src"
# What API Gateway answers when the function fails (an unhandled error, a timeout).
INTEGRATION_FAILURE = {"message": "Internal Server Error"}


@functools.cache
def _receiver_timeout_ms() -> int:
    """The receiver's Timeout in template.yaml."""
    return int(resource(load_template(), FUNCTION)["Properties"]["Timeout"]) * 1000


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    aws_request_id: str
    function_name: str = "ReceiverFunction"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    # The receiver's Timeout in template.yaml; the remaining time never runs down here.
    timeout_ms: int = field(default_factory=lambda: _receiver_timeout_ms())

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


class Functions(Protocol):
    """The stack's two functions, however they run."""

    mode: str  # one line: where they run

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]: ...

    def publish_pending(self, event: dict[str, Any]) -> dict[str, Any]: ...

    def close(self) -> None: ...


class InProcessFunctions:
    """Each function imported in this process, as Lambda would import it: one request at a time."""

    def __init__(self, resources: LocalResources, overrides: dict[str, str], reason: str) -> None:
        self.mode = f"In-process (not Lambda's runtime: {reason}): the handlers run in this Python"
        # The names both functions read have the same values; each reads its own.
        os.environ.update(resources.pending_function_environment)
        os.environ.update(resources.function_environment)
        os.environ.update(overrides)
        self._handler = _import_function("zenoti_receiver.handler")
        self._lock = threading.Lock()
        self._pending = _import_function("zenoti_receiver.pending_handler")
        self._pending_lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        context = LambdaContext(aws_request_id=event["requestContext"]["requestId"])
        with self._lock:
            result: dict[str, Any] = self._handler.lambda_handler(event, context)
        return result

    def publish_pending(self, event: dict[str, Any]) -> dict[str, Any]:
        context = LambdaContext(aws_request_id=str(uuid.uuid4()), function_name=PENDING_FUNCTION, timeout_ms=60_000)
        with self._pending_lock:
            result: dict[str, Any] = self._pending.lambda_handler(event, context)
        return result

    def close(self) -> None:
        pass


class RuntimeFunctions:
    """Each function in an execution environment of Lambda's runtime, under aws-lambda-rie."""

    def __init__(
        self,
        setup: RuntimeSetup,
        resources: LocalResources,
        endpoint_url: str,
        overrides: dict[str, str],
        log_dir: Path | None = None,
    ) -> None:
        self.mode = setup.describe()
        if log_dir is not None:
            self.mode += f"; the functions' logs in {relative(log_dir)}"
        # What Lambda sets, pointed at the emulator, with dummy credentials: never a developer's own.
        aws = {**FAKE_CREDENTIALS, "AWS_REGION": REGION, "AWS_ENDPOINT_URL": endpoint_url}
        self.receiver = _runtime_function(
            setup, FUNCTION, {**resources.function_environment, **aws, **overrides}, log_dir
        )
        try:
            self.pending = _runtime_function(
                setup, PENDING_FUNCTION, {**resources.pending_function_environment, **aws, **overrides}, log_dir
            )
        except BaseException:
            self.receiver.stop()
            raise

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.receiver.invoke(event)
        return result

    def publish_pending(self, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.pending.invoke(event)
        return result

    def close(self) -> None:
        self.receiver.stop()
        self.pending.stop()


def _runtime_function(
    setup: RuntimeSetup, name: str, environment: dict[str, str], log_dir: Path | None
) -> LambdaFunction:
    template = load_template()
    properties = resource(template, name)["Properties"]
    return LambdaFunction(
        setup,
        name,
        handler=properties["Handler"],
        environment=environment,
        timeout_s=int(properties["Timeout"]),
        memory_mb=int(template["Globals"]["Function"]["MemorySize"]),
        log_file=log_dir / f"{name}.log" if log_dir is not None else None,
    )


class LocalReceiver:
    """The stack's functions, each one Lambda execution environment, and what they left in the emulator.

    `runtime`: run them in Lambda's runtime (then `endpoint_url` is the emulator they call); None: in
    this process, for `reason`. `overrides`: environment variables set over the template's.
    """

    def __init__(
        self,
        resources: LocalResources,
        endpoint_url: str | None = None,
        runtime: RuntimeSetup | None = None,
        overrides: dict[str, str] | None = None,
        reason: str = "no aws-lambda-rie",
        log_dir: Path | None = None,
    ) -> None:
        self.resources = resources
        session = boto3.session.Session(region_name=REGION)
        self._dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
        self._sqs = session.client("sqs", endpoint_url=endpoint_url)
        self.functions: Functions
        if runtime is not None:
            if endpoint_url is None:
                raise ValueError("a function in Lambda's runtime is another process: it needs the emulator's URL")
            self.functions = RuntimeFunctions(runtime, resources, endpoint_url, overrides or {}, log_dir)
        else:
            self.functions = InProcessFunctions(resources, overrides or {}, reason)

    @property
    def mode(self) -> str:
        return self.functions.mode

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """The receiving function's answer to an API Gateway event; API Gateway's 500 if the function failed."""
        try:
            return self.functions.invoke(event)
        except FunctionError as error:
            print(f"\n!!! {error}", file=sys.stderr, flush=True)
            return {"statusCode": 500, "body": json.dumps(INTEGRATION_FAILURE)}

    def publish_pending(self, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """One run of the publisher of pending events, as EventBridge Scheduler starts it every minute."""
        return self.functions.publish_pending(event or schedule_event())

    def close(self) -> None:
        self.functions.close()

    def stored_item(self, event_id: str) -> dict[str, Any] | None:
        item = self._dynamodb.get_item(
            TableName=self.resources.table_name, Key={"event_id": {"S": event_id}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        return plain_event(item)

    def quarantined(self, body: bytes) -> dict[str, Any] | None:
        """The quarantine's entry for a body (keyed by its sha256, as the function keeps it)."""
        item = self._dynamodb.get_item(
            TableName=self.resources.quarantine_table_name,
            Key={"body_sha256": {"S": hashlib.sha256(body).hexdigest()}},
            ConsistentRead=True,
        ).get("Item")
        return plain_held(item) if item is not None else None

    def take_messages(self, wait_seconds: int = 0) -> list[dict[str, Any]]:
        """Messages the subscriber queue has received since last asked (raw delivery: the body is the event)."""
        return take_messages(self._sqs, self.resources.subscriber_queue_url, wait_seconds)


def schedule_event() -> dict[str, Any]:
    """What EventBridge Scheduler sends the publisher (template.yaml's Input; events/pending_schedule.json)."""
    now = datetime.now(UTC)
    return {"scheduled_time": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "execution_id": str(uuid.uuid4())}


def _import_function(module: str) -> ModuleType:
    # The function's code root (CodeUri: src/) is on the path in Lambda; put it there here too.
    if str(FUNCTION_CODE) not in sys.path:
        sys.path.insert(0, str(FUNCTION_CODE))
    sys.modules.pop(module, None)  # a new execution environment
    return importlib.import_module(module)


def delivered_body(event: dict[str, Any]) -> bytes:
    """The bytes the function keeps of an API Gateway event's body, decoded as the function decodes them."""
    if str(FUNCTION_CODE) not in sys.path:
        sys.path.insert(0, str(FUNCTION_CODE))
    parsing = importlib.import_module("zenoti_receiver.logic.parsing")
    body: bytes = parsing.received_bytes(event.get("body"), bool(event.get("isBase64Encoded")))
    return body


def describe_result(receiver: LocalReceiver, result: dict[str, Any], body: bytes | None) -> str:
    """The HTTP response, and what the function stored: the event's item, or the body's quarantine entry."""
    out = io.StringIO()
    answer = json.loads(result["body"])
    _section(out, f"HTTP response: {result['statusCode']}")
    print(json.dumps(answer, indent=2), file=out)
    event_id = answer.get("event_id")
    _section(out, f"Stored in DynamoDB table {receiver.resources.table_name}")
    item = receiver.stored_item(event_id) if event_id else None
    if item is None:
        print("(nothing stored)", file=out)
    else:
        payload = item.pop("payload")
        print(json.dumps(item, indent=2), file=out)
        print(f"payload (verbatim, {len(payload.encode())} bytes):\n{payload}", file=out)
    # Authenticated bodies that are not events we store and publish are held, to be re-driven: answered
    # held (202), or duplicate when another body is stored under their event_id.
    if (answer.get("status") == "held" or answer.get("reason") == "conflicting_duplicate") and body is not None:
        _section(out, f"Held in DynamoDB table {receiver.resources.quarantine_table_name}")
        entry = receiver.quarantined(body)
        if entry is None:
            print("(not held)", file=out)
        else:
            kept = entry.pop("body")
            print(json.dumps(entry, indent=2), file=out)
            print(f"body (verbatim, {len(kept)} bytes):\n{kept.decode('utf-8', errors='replace')}", file=out)
    return printable(out.getvalue())  # what a request sent, control characters escaped


def describe_messages(queue_url: str, messages: list[dict[str, Any]], whose: str = "the subscriber queue") -> str:
    """The messages taken off the queue at `queue_url`, under a title naming that queue."""
    out = io.StringIO()
    queue = queue_url.rsplit("/", 1)[-1]
    _section(out, f"Received by {whose} {queue} (SQS, raw delivery)")
    if not messages:
        print("(no message)", file=out)
    for message in messages:
        print(f"MessageId: {message['MessageId']}", file=out)
        print(f"MessageAttributes: {json.dumps(message['MessageAttributes'], sort_keys=True)}", file=out)
        print(f"Message:\n{message['Message']}", file=out)
    return printable(out.getvalue())


def describe_publisher_run(run: dict[str, Any]) -> str:
    out = io.StringIO()
    _section(out, f"{PENDING_FUNCTION}: published {run.get('published', 0)} pending event(s)")
    print(json.dumps(run, indent=2), file=out)
    return out.getvalue()


def _section(out: io.StringIO, title: str) -> None:
    print(f"\n=== {title} ===", file=out)


def take_messages(sqs: Any, queue_url: str, wait_seconds: int = 0) -> list[dict[str, Any]]:
    """What a queue subscribed with raw delivery holds, taken off it, in the shape describe_messages prints."""
    messages = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds, MessageAttributeNames=["All"]
    ).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return [
        {
            "MessageId": message["MessageId"],
            "MessageAttributes": {
                name: value.get("StringValue") for name, value in message.get("MessageAttributes", {}).items()
            },
            "Message": message["Body"],
        }
        for message in messages
    ]
