"""Lambda's SQS event source mapping, emulated: receive a batch, invoke the function, delete what succeeded.

What Lambda does with the answer (AWS Lambda developer guide, "Handling errors for an SQS event source"):
the messages listed in batchItemFailures stay in the queue and come back after its visibility timeout;
the others are deleted. If the function raises, or lists an identifier that is not in the batch, the
whole batch stays. The queue's redrive policy moves a message to the dead-letter queue once it has been
received MaxReceiveCount times.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FUNCTION_NAME = "SubscriberFunction"
MAX_POLLS = 200  # a drain that never ends is a bug in the caller, not a wait


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_name: str = FUNCTION_NAME
    function_version: str = "$LATEST"
    invoked_function_arn: str = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"
    memory_limit_in_mb: int = 256
    timeout_millis: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_millis


@dataclass(frozen=True)
class Invocation:
    """One call of the function by the event source, and what became of each message."""

    event: dict[str, Any]
    response: Any  # what the function returned; None if it raised
    error: BaseException | None
    deleted: list[dict[str, Any]]  # the messages (as ReceiveMessage gave them) removed from the queue
    kept: list[dict[str, Any]]  # the messages left in the queue, to be delivered again

    @property
    def reported_failures(self) -> list[str]:
        """The itemIdentifiers of the function's batchItemFailures."""
        if not isinstance(self.response, dict):
            return []
        return [failure.get("itemIdentifier") for failure in self.response.get("batchItemFailures") or []]


class QueueEventSource:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        function: Callable[[dict[str, Any], Any], Any],
        *,
        batch_size: int = 10,
        region: str = "us-east-1",
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._queue_arn = queue_arn
        self._function = function
        self._batch_size = batch_size
        self._region = region

    def poll(self, wait_seconds: int = 0, *, retry_failed_now: bool = False) -> Invocation | None:
        """Receive one batch and invoke the function with it; None if the queue had nothing visible.

        retry_failed_now makes the kept messages visible at once, standing for their visibility timeout
        running out, so that tests need not wait for it.
        """
        received = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=self._batch_size,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=wait_seconds,
        )
        messages: list[dict[str, Any]] = received.get("Messages", [])
        if not messages:
            return None
        event = {"Records": [self._record(message) for message in messages]}
        response: Any = None
        error: BaseException | None = None
        try:
            response = self._function(event, LambdaContext())
        except Exception as raised:
            error = raised
        failed = self._failed_ids(messages, response, error)
        deleted = [message for message in messages if message["MessageId"] not in failed]
        kept = [message for message in messages if message["MessageId"] in failed]
        for message in deleted:
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        if retry_failed_now:
            for message in kept:
                self._sqs.change_message_visibility(
                    QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        return Invocation(event=event, response=response, error=error, deleted=deleted, kept=kept)

    def drain(self, *, retry_failed_now: bool = False) -> list[Invocation]:
        """Poll until nothing is visible. With retry_failed_now, until every message is deleted or redriven."""
        invocations = []
        while (invocation := self.poll(retry_failed_now=retry_failed_now)) is not None:
            invocations.append(invocation)
            if len(invocations) >= MAX_POLLS:
                raise RuntimeError(f"the queue was not empty after {MAX_POLLS} invocations")
        return invocations

    @staticmethod
    def _failed_ids(messages: list[dict[str, Any]], response: Any, error: BaseException | None) -> set[str]:
        everything = {message["MessageId"] for message in messages}
        if error is not None:
            return everything
        if response is None or response == {}:
            return set()
        failures = response.get("batchItemFailures") if isinstance(response, dict) else None
        if failures is None:
            return set()
        identifiers = {failure.get("itemIdentifier") if isinstance(failure, dict) else None for failure in failures}
        if not identifiers <= everything:  # an empty, null or unknown identifier fails the whole batch
            return everything
        return {identifier for identifier in identifiers if identifier is not None}

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        """A message as Lambda puts it in the SQS event (its field names differ from ReceiveMessage's)."""
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": base64.b64encode(value["BinaryValue"]).decode() if "BinaryValue" in value else None,
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self._queue_arn,
            "awsRegion": self._region,
        }
