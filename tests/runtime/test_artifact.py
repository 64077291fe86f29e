"""The built artifact in Lambda's own runtime, against moto's server: one event stored, then published.

What the in-process tests cannot prove: that the artifact `sam build` makes (its dependencies, its
bytecode, the runtime's own boto3, awslambdaric) imports and serves both handlers as Lambda runs them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from devtools.local_stack.resources import FUNCTION, PUBLISHER_FUNCTION, LocalResources, create_resources
from devtools.local_stack.server import emulator
from devtools.local_stack.stream import StreamMapping
from devtools.local_stack.template import load_template, resource
from ops.local import FAKE_CREDENTIALS, REGION
from tests.conftest import EVENTS, load_event
from tests.runtime.lambda_runtime import LambdaFunction, RuntimeSetup

pytestmark = pytest.mark.deep


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, LocalResources]]:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with emulator("127.0.0.1", 0) as endpoint:
        yield endpoint, create_resources(endpoint_url=endpoint)


def in_runtime(setup: RuntimeSetup, name: str, environment: dict[str, str], endpoint: str) -> LambdaFunction:
    """One of the template's functions in an execution environment of Lambda's runtime, calling the emulator."""
    properties = resource(load_template(), name)["Properties"]
    aws = {**FAKE_CREDENTIALS, "AWS_REGION": REGION, "AWS_ENDPOINT_URL": endpoint}
    return LambdaFunction(
        setup, name, properties["Handler"], {**environment, **aws}, timeout_s=int(properties["Timeout"])
    )


def test_the_artifact_stores_an_event_and_its_publisher_publishes_it_once(runtime_setup: RuntimeSetup, stack):
    endpoint, resources = stack
    session = boto3.session.Session(region_name=REGION)
    sqs = session.client("sqs", endpoint_url=endpoint)
    receiver = in_runtime(runtime_setup, FUNCTION, resources.function_environment, endpoint)
    publisher = in_runtime(runtime_setup, PUBLISHER_FUNCTION, resources.publisher_environment, endpoint)
    streams = session.client("dynamodbstreams", endpoint_url=endpoint)
    stream = StreamMapping(streams, resources.stream_arn, publisher.invoke, lambda record: None)
    sample = json.loads((EVENTS / "booking_deleted.json").read_text(encoding="utf-8"))
    try:
        answer = receiver.invoke(load_event("apigw_booking_deleted.json"))
        published = stream.drain()
    finally:
        receiver.stop()
        publisher.stop()

    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["status"] == "accepted"
    assert (published.published, published.failed) == ([sample["event_id"]], False)
    messages = sqs.receive_message(QueueUrl=resources.subscriber_queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(message["Body"])["event_id"] for message in messages] == [sample["event_id"]]
    # Each initialised in an execution environment of its own.
    assert receiver.log.init_ms
    assert publisher.log.init_ms
