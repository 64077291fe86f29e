"""The runtime tier: the built function in Lambda's own runtime (aws-lambda-rie, awslambdaric, python3.13).

Every test here is deep (`make test-deep`). Without aws-lambda-rie (on PATH, or AWS_LAMBDA_RIE) or
`make build-local`, they skip, saying what is missing; CI sets RUNTIME_TIER_REQUIRED=1, so there a
missing piece fails instead of skipping.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from local_stack.receiver import FAKE_CREDENTIALS, LocalReceiver
from local_stack.resources import REGION, LocalResources, create_resources
from local_stack.runtime import RuntimeSetup, find_runtime
from local_stack.server import emulator

REQUIRED = "RUNTIME_TIER_REQUIRED"


@pytest.fixture(scope="session")
def runtime_setup() -> RuntimeSetup:
    found = find_runtime()
    if isinstance(found, str):
        message = (
            f"Lambda's runtime is not available: {found}. Get aws-lambda-rie from"
            " github.com/aws/aws-lambda-runtime-interface-emulator/releases, put it on PATH or name it in"
            " AWS_LAMBDA_RIE, then `make build-local`."
        )
        if os.environ.get(REQUIRED):
            pytest.fail(f"{REQUIRED} is set: {message}")
        pytest.skip(message)
    return found


@dataclass
class RuntimeStack:
    """moto's server on 127.0.0.1 with the template's resources, and clients to look at it."""

    endpoint: str
    resources: LocalResources

    def client(self, service: str) -> Any:
        return boto3.session.Session(region_name=REGION, **_credentials()).client(service, endpoint_url=self.endpoint)

    def subscribe(self, name: str) -> str:
        """A raw-delivery queue of our own on the topic; its URL."""
        sqs = self.client("sqs")
        queue_url = str(sqs.create_queue(QueueName=name)["QueueUrl"])
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.client("sns").subscribe(
            TopicArn=self.resources.topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
        )
        return queue_url

    def received_event_ids(self, queue_url: str) -> list[str]:
        """The event ids of every message the queue holds (taking them out)."""
        sqs = self.client("sqs")
        taken: list[str] = []
        while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            taken += [json.loads(message["Body"])["event_id"] for message in batch]
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)],
            )
        return taken

    def items(self) -> list[dict[str, Any]]:
        pages = self.client("dynamodb").get_paginator("scan").paginate(TableName=self.resources.table_name)
        return [item for page in pages for item in page["Items"]]

    def quarantined(self) -> list[dict[str, Any]]:
        return self.client("dynamodb").scan(TableName=self.resources.quarantine_table_name)["Items"]  # type: ignore[no-any-return]


def _credentials() -> dict[str, str]:
    return {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


@pytest.fixture
def runtime_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[RuntimeStack]:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with emulator("127.0.0.1", 0) as endpoint:
        yield RuntimeStack(endpoint, create_resources(endpoint_url=endpoint))


@pytest.fixture
def overrides() -> dict[str, str]:
    """Environment variables set over the template's (a test parametrizes it)."""
    return {}


@pytest.fixture
def functions(
    runtime_setup: RuntimeSetup, runtime_stack: RuntimeStack, overrides: dict[str, str], tmp_path: Any
) -> Iterator[LocalReceiver]:
    """Both functions of the stack, each in an execution environment of Lambda's runtime."""
    receiver = LocalReceiver(
        runtime_stack.resources, runtime_stack.endpoint, runtime_setup, overrides, log_dir=tmp_path / "logs"
    )
    try:
        yield receiver
    finally:
        receiver.close()
