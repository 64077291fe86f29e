"""The end-to-end tier: a running stack, over HTTP, as Zenoti and a subscriber see it.

Black box: requests to the webhook URL, the stack's outputs and secret, a subscriber queue, and
`python -m ops`, as a user would run them; nothing here imports the function. Choose the stack with
the environment (`make test-e2e` passes it on):

  E2E_LOCAL=http://127.0.0.1:3000 [E2E_EMULATOR=http://127.0.0.1:5000]   the stack `make serve` runs
  E2E_STACK_NAME=<stack> [AWS_REGION=<region>]   a deployed stack of its own (SubscriberQueue=true)

With neither, every test is skipped. Each run sends events with ids of its own (a deployed stack
keeps its tables), to a center of its own, so a subscriber filtering on its centers never sees them.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import quote, urlsplit
from urllib.request import Request, urlopen

import boto3
import botocore.session
import pytest
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = (ROOT / "events" / "booking_deleted.json").read_text(encoding="utf-8")  # Zenoti's sample, its layout kept
SAMPLE_EVENT = json.loads(SAMPLE)
SCHEMA = ROOT / "schema"

# What the README documents for the stack `make serve` runs.
WEBHOOK_PATH = "/zenoti/webhook"
EARLIER_WEBHOOK_PATH = "/zenoti/class-booking-deleted"  # what stacks gave Zenoti before the family: still served
LOCAL_TOKEN = "local-demo-token"  # the local stack's token, printed by `make serve`
LOCAL_EMULATOR = "http://127.0.0.1:5000"
LOCAL_REGION = "us-east-1"
LOCAL_TOPIC_NAME = "zenoti-local-events"

NO_TARGET = (
    "no end-to-end target: set E2E_LOCAL=http://127.0.0.1:3000 for the stack `make serve` runs, "
    "or E2E_STACK_NAME=<stack> (and AWS_REGION) for a deployed one"
)

# How long a message may take to reach the subscriber before a test gives up on it: the stream's publisher
# sends a stored event within a second or two; an SNS hiccup is retried by Lambda within seconds more.
MESSAGE_WAIT_SECONDS = 60.0

OWN_TOKEN = object()  # Target.send's default: the stack's token

RUN = uuid.uuid4().hex[:12]
RUN_CENTER = str(uuid.uuid4())  # canonical: lower-case, hyphenated
_SEQUENCE = itertools.count(1)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Message:
    """One message of the subscriber queue (raw delivery: the body as Zenoti sent it)."""

    body: str
    attributes: dict[str, str]  # the String message attributes, by name


@dataclass(frozen=True)
class Event:
    event_id: str
    center_id: str
    body: str  # exactly what is sent


class Inbox:
    """What the subscriber queue delivered, by event_id. This run's messages are deleted once read;
    anyone else's are left in the queue."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._received: dict[str, list[Message]] = {}
        self._seen: set[str] = set()  # SQS message ids: SQS itself may deliver a message twice

    def messages(self, event_id: str, count: int = 1) -> list[Message]:
        """The messages of one event, as soon as `count` are in, or all that came before giving up."""
        deadline = time.monotonic() + MESSAGE_WAIT_SECONDS
        while len(self._received.get(event_id, [])) < count and (left := deadline - time.monotonic()) > 0:
            self._receive(wait_seconds=max(1, min(20, int(left))))
        return list(self._received.get(event_id, []))

    def _receive(self, wait_seconds: int) -> None:
        answer = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            MessageAttributeNames=["All"],
        )
        for received in answer.get("Messages", []):
            event_id = _event_id(received["Body"])
            if event_id is None or not event_id.startswith(f"e2e-{RUN}-"):
                continue
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=received["ReceiptHandle"])
            if received["MessageId"] in self._seen:
                continue
            self._seen.add(received["MessageId"])
            attributes = {
                name: value["StringValue"]
                for name, value in received.get("MessageAttributes", {}).items()
                if value["DataType"] == "String"
            }
            self._received.setdefault(event_id, []).append(Message(received["Body"], attributes))


def _event_id(body: str) -> str | None:
    try:
        event_id = json.loads(body).get("event_id")
    except (ValueError, AttributeError):
        return None
    return event_id if isinstance(event_id, str) else None


class Contracts:
    """The published response schemas (schema/): every answer the tier gets must match its own."""

    def __init__(self) -> None:
        self._validators = {
            name: Draft202012Validator(
                json.loads((SCHEMA / f"response-{name}.schema.json").read_text(encoding="utf-8")),
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
            for name in ("accepted", "duplicate", "held", "refused", "error", "api-gateway")
        }

    def check(self, answer: Answer) -> None:
        kind = {"accepted": "accepted", "duplicate": "duplicate", "held": "held", "refused": "refused"}.get(
            answer.body.get("status"), "error" if answer.body.get("status") == "error" else "api-gateway"
        )
        statuses = {
            "accepted": (200,),
            "duplicate": (200,),
            "held": (202,),
            "refused": range(400, 500),
            "error": range(500, 600),
        }
        assert answer.status in statuses.get(kind, range(400, 600)), f"{answer} has the wrong status for its body"
        problems = [error.message for error in self._validators[kind].iter_errors(answer.body)]
        assert not problems, f"{answer} does not match schema/response-{kind}.schema.json: {problems}"


@dataclass
class Target:
    """A running stack: where to send, the token, where its subscriber reads, how `ops` finds it."""

    description: str
    webhook_url: str
    token: str = field(repr=False)
    ops_options: list[str]
    contracts: Contracts = field(default_factory=Contracts, repr=False)

    def send(self, body: str | bytes | None, method: str = "POST", token: Any = OWN_TOKEN) -> Answer:
        """One request as Zenoti makes it: the token (the stack's own unless given; None: no token) in the
        query string. The answer must match its published schema."""
        token = self.token if token is OWN_TOKEN else token
        address = self.webhook_url + (f"?token={quote(token, safe='')}" if token is not None else "")
        data = body.encode() if isinstance(body, str) else body
        request = Request(address, data=data, method=method, headers={"content-type": "application/json"})
        try:
            with urlopen(request, timeout=15) as response:  # Zenoti waits 10 s; a cold start adds some
                answer = Answer(response.status, json.loads(response.read()))
        except HTTPError as error:
            answer = Answer(error.code, json.loads(error.read()))
        self.contracts.check(answer)
        return answer

    def at_earlier_path(self) -> Target:
        """The same stack, at the path stacks gave Zenoti before the Class booking family had one URL."""
        base = self.webhook_url.removesuffix(WEBHOOK_PATH).removesuffix(EARLIER_WEBHOOK_PATH)
        return replace(self, webhook_url=base + EARLIER_WEBHOOK_PATH)

    def replay(self, event_id: str) -> subprocess.CompletedProcess[str]:
        """`python -m ops replay --event-id ID`, as the README tells an operator to run it."""
        return subprocess.run(
            [sys.executable, "-m", "ops", "replay", "--event-id", event_id, *self.ops_options],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture(scope="session")
def target_environment() -> dict[str, str]:
    local, stack = os.environ.get("E2E_LOCAL"), os.environ.get("E2E_STACK_NAME")
    if not local and not stack:
        pytest.skip(NO_TARGET)
    if local and stack:
        pytest.fail("both E2E_LOCAL and E2E_STACK_NAME are set: choose one stack")
    return {"local": local or "", "stack": stack or ""}


@pytest.fixture(scope="session")
def subscriber_queue(target_environment: dict[str, str]) -> Iterator[tuple[Any, str]]:
    """(an SQS client, the URL of a queue subscribed to the stack's topic with raw delivery)."""
    if target_environment["local"]:
        with _local_subscriber_queue() as queue:
            yield queue
        return
    name = target_environment["stack"]
    outputs = _stack_outputs(name)
    if "SubscriberQueueUrl" not in outputs:
        pytest.fail(
            f"stack {name} has no output SubscriberQueueUrl: deploy it with SubscriberQueue=true "
            'and SubscriberEventTypes="" (every type, no SubscriberCenterIds) to test what subscribers receive'
        )
    yield _aws().client("sqs"), outputs["SubscriberQueueUrl"]


@pytest.fixture(scope="session")
def target(target_environment: dict[str, str]) -> Target:
    if target_environment["local"]:
        origin = target_environment["local"].rstrip("/")
        emulator = os.environ.get("E2E_EMULATOR", LOCAL_EMULATOR)
        return Target(
            description=f"the local stack at {origin} (emulator {emulator})",
            webhook_url=origin if urlsplit(origin).path else origin + WEBHOOK_PATH,
            token=LOCAL_TOKEN,
            ops_options=["--local", "--endpoint-url", emulator],
        )
    name = target_environment["stack"]
    outputs = _stack_outputs(name)
    secret = _aws().client("secretsmanager").get_secret_value(SecretId=outputs["WebhookTokenSecretArn"])
    region = _region()
    return Target(
        description=f"stack {name}",
        webhook_url=outputs["WebhookUrl"],
        token=json.loads(secret["SecretString"])["token"],
        ops_options=["--stack-name", name, *(["--region", region] if region else [])],
    )


@pytest.fixture(scope="session")
def inbox(subscriber_queue: tuple[Any, str]) -> Inbox:
    return Inbox(*subscriber_queue)


@pytest.fixture
def new_event(request: pytest.FixtureRequest) -> Callable[[], Event]:
    """Zenoti's sample, its layout kept, with ids of this run's own (a new event each call)."""

    def make() -> Event:
        test = request.node.name.split("[")[0].removeprefix("test_")[:40].replace("_", "-")
        event_id = f"e2e-{RUN}-{next(_SEQUENCE)}-{test}"
        body = (
            SAMPLE.replace(f'"{SAMPLE_EVENT["event_id"]}"', f'"{event_id}"')
            .replace(f'"{SAMPLE_EVENT["id"]}"', f'"{event_id}-call"')
            .replace(f'"{SAMPLE_EVENT["data"]["center_id"]}"', f'"{RUN_CENTER}"')
        )
        sent = json.loads(body)
        assert (sent["event_id"], sent["data"]["center_id"]) == (event_id, RUN_CENTER), "events/ changed its ids"
        return Event(event_id=event_id, center_id=RUN_CENTER, body=body)

    return make


def _region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def _aws() -> Any:
    """A session with your AWS credentials, in the stack's region."""
    return boto3.session.Session(region_name=_region())


@functools.cache
def _stack_outputs(name: str) -> dict[str, str]:
    stack = _aws().client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    missing = {"WebhookUrl", "WebhookTokenSecretArn"} - outputs.keys()
    if missing:
        pytest.fail(f"stack {name} ({stack['StackStatus']}) has no output {', '.join(sorted(missing))}")
    return outputs


@contextmanager
def _local_subscriber_queue() -> Iterator[tuple[Any, str]]:
    """A queue of this run's own, subscribed to the local topic with raw delivery as the stack's subscriber
    queue is; removed afterwards, so that runs against one `make serve` do not pile up."""
    # The emulator takes any credentials: dummy ones, whatever profile or keys this shell has.
    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    core.set_credentials("local", "local")
    session = boto3.session.Session(botocore_session=core, region_name=LOCAL_REGION)
    emulator = os.environ.get("E2E_EMULATOR", LOCAL_EMULATOR)
    sqs, sns = session.client("sqs", endpoint_url=emulator), session.client("sns", endpoint_url=emulator)
    topics = [topic["TopicArn"] for page in sns.get_paginator("list_topics").paginate() for topic in page["Topics"]]
    topic_arn = next((arn for arn in topics if arn.rsplit(":", 1)[-1] == LOCAL_TOPIC_NAME), None)
    if topic_arn is None:
        pytest.fail(f"no topic {LOCAL_TOPIC_NAME} in the emulator at {emulator}: is `make serve` running there?")
    queue_url = sqs.create_queue(QueueName=f"e2e-{RUN}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]
    try:
        yield sqs, queue_url
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)
        sqs.delete_queue(QueueUrl=queue_url)
