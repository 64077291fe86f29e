"""The stack's two functions, configured from template.yaml and run in this process against an emulator,
one execution environment each, one request at a time; and reports of what they left in the stack."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
import threading
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from botocore.config import Config

from devtools.local_stack.resources import FUNCTION, PUBLISHER_FUNCTION, LocalResources
from devtools.local_stack.stream import PollResult, StreamMapping
from devtools.local_stack.template import REPO
from ops.items import plain_event, plain_held
from ops.local import REGION
from zenoti_receiver.logic.parsing import received_bytes
from zenoti_receiver.timing import PUBLISHER_TIMEOUT_SECONDS, RECEIVER_TIMEOUT_SECONDS


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    aws_request_id: str
    function_name: str = FUNCTION
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """The function's Timeout (timing.py, template.yaml's): the remaining time never runs down here."""
        return 1000 * (RECEIVER_TIMEOUT_SECONDS if self.function_name == FUNCTION else PUBLISHER_TIMEOUT_SECONDS)


class LocalReceiver:
    """The stack's functions, imported from src/ as Lambda imports them, against the emulator AWS_ENDPOINT_URL names
    (unset: moto's in-process mock); `overrides`: environment variables set over the template's."""

    def __init__(self, resources: LocalResources, overrides: dict[str, str] | None = None) -> None:
        self.resources = resources
        session = boto3.session.Session(region_name=REGION)
        self._dynamodb = session.client("dynamodb")
        self.sqs = session.client("sqs")
        # The names both functions read have the same values; each reads its own.
        os.environ.update({**resources.publisher_environment, **resources.function_environment, **(overrides or {})})
        self._receiver = import_handler("zenoti_receiver.handler")
        self._publisher = import_handler("zenoti_receiver.publisher_handler")
        self._receiver_lock = threading.Lock()  # one request at a time; the stream mapping invokes one batch at a time
        # moto answers the stream's API on its classic endpoint, not the account-based one botocore now prefers.
        streams = session.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
        self.stream = StreamMapping(streams, resources.stream_arn, self.invoke_publisher, self._send_failure)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """The receiving function's answer to an API Gateway event; API Gateway's 500 if the function failed."""
        context = LambdaContext(aws_request_id=event["requestContext"]["requestId"])
        with self._receiver_lock:
            try:
                result: dict[str, Any] = self._receiver.lambda_handler(event, context)
            except Exception:  # what Lambda reports as the invocation's error, API Gateway as a 500
                traceback.print_exc()
                return {"statusCode": 500, "body": json.dumps({"message": "Internal Server Error"})}
        return result

    def invoke_publisher(self, event: dict[str, Any]) -> dict[str, Any]:
        """The publisher's answer to a batch of the stream (what Lambda's event source mapping sends it)."""
        context = LambdaContext(aws_request_id=str(uuid.uuid4()), function_name=PUBLISHER_FUNCTION)
        return self._publisher.lambda_handler(event, context)  # type: ignore[no-any-return]

    def _send_failure(self, record: dict[str, Any]) -> None:
        self.sqs.send_message(QueueUrl=self.resources.publication_failures_queue_url, MessageBody=json.dumps(record))

    def item(self, table: str, key: str, value: str) -> dict[str, Any] | None:
        """An item of one of the stack's tables, as stored (None: there is none)."""
        answer = self._dynamodb.get_item(TableName=table, Key={key: {"S": value}}, ConsistentRead=True)
        return answer.get("Item")  # type: ignore[no-any-return]


def import_handler(module: str, src: Path = REPO / "src") -> ModuleType:
    """A function's handler module imported anew from `src`, its code root (CodeUri): a new execution environment."""
    if str(src) not in sys.path:  # src/ is there already: the ops package puts it there
        sys.path.insert(0, str(src))
    package = sys.modules.get("zenoti_receiver")
    if package is not None and Path(next(iter(package.__path__))).parent.resolve() != src.resolve():
        # Another code root's package is loaded (the bench's --src compares two): every one of its modules goes,
        # or the handler would be found through that package's __path__, whatever sys.path says.
        for name in [name for name in sys.modules if name.partition(".")[0] == "zenoti_receiver"]:
            del sys.modules[name]
    sys.modules.pop(module, None)
    return importlib.import_module(module)


def describe_result(receiver: LocalReceiver, event: dict[str, Any], result: dict[str, Any]) -> str:
    """The HTTP response, and what the function stored: the event's item, or the body's held body's entry."""
    answer = json.loads(result["body"])
    report = _section(f"HTTP response: {result['statusCode']}") + json.dumps(answer, indent=2) + "\n"
    tables = receiver.resources
    stored = receiver.item(tables.table_name, "event_id", event_id) if (event_id := answer.get("event_id")) else None
    report += _section(f"Stored in DynamoDB table {tables.table_name}")
    report += _kept(plain_event(stored) if stored else None, "payload", "(nothing stored)")
    # Authenticated bodies that are not events we store and publish are held, to be re-driven: answered
    # held (202), or duplicate when another body is stored under their event_id.
    if answer.get("status") == "held" or answer.get("reason") == "conflicting_duplicate":
        # Found by the bytes the function keeps of the body, decoded as the function decodes them.
        body = received_bytes(event.get("body"), bool(event.get("isBase64Encoded")))
        held = receiver.item(tables.held_table_name, "body_sha256", hashlib.sha256(body).hexdigest())
        report += _section(f"Held in DynamoDB table {tables.held_table_name}")
        report += _kept(plain_held(held) if held else None, "body", "(not held)")
    return report


def _kept(record: dict[str, Any] | None, verbatim: str, missing: str) -> str:
    """A stored item or held entry as JSON, then its `verbatim` attribute (what was sent) as it is."""
    if record is None:
        return f"{missing}\n"
    kept = record.pop(verbatim)
    sent = kept.encode() if isinstance(kept, str) else kept  # an event's payload is text, a held body bytes
    text = sent.decode("utf-8", errors="replace")
    return f"{json.dumps(record, indent=2)}\n{verbatim} (verbatim, {len(sent)} bytes):\n{text}\n"


def describe_messages(queue_url: str, messages: list[dict[str, Any]], whose: str = "the subscriber queue") -> str:
    """The messages taken off the queue at `queue_url`, under a title naming that queue."""
    report = _section(f"Received by {whose} {queue_url.rsplit('/', 1)[-1]} (SQS, raw delivery)")
    if not messages:
        report += "(no message)\n"
    for message in messages:
        attributes = {name: value.get("StringValue") for name, value in message.get("MessageAttributes", {}).items()}
        report += f"MessageId: {message['MessageId']}\nMessageAttributes: {json.dumps(attributes, sort_keys=True)}\n"
        report += f"Message:\n{message['Body']}\n"
    return report


def describe_publication(result: PollResult) -> str:
    """What the publisher did with the stream: each event it published, and what is left to retry or given up."""
    published = result.published
    report = _section(f"{PUBLISHER_FUNCTION}, invoked by the table's stream: published {len(published)} event(s)")
    report += "".join(f"published {event_id}\n" for event_id in published)
    if result.failed:
        report += "some records were not published: Lambda retries them from the first one\n"
    if result.given_up:
        report += f"{result.given_up} record(s) given up: see the publication failures queue\n"
    return report


def _section(title: str) -> str:
    return f"\n=== {title} ===\n"
