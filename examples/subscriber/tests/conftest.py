"""Fixtures of the example's tests: its resources in moto, created from template.yaml, and the real handler.

No __init__.py in this folder on purpose: the receiver's repository has a `tests` package of its own, and
pytest imports these files by their (unique) names instead.
"""

from __future__ import annotations

import copy
import importlib
import io
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.logging import logger as powertools_logger
from aws_lambda_powertools.metrics.provider import cold_start
from moto import mock_aws

EXAMPLE = Path(__file__).resolve().parent.parent
if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))

from subscriber_local import function_code  # noqa: E402 - needs EXAMPLE on the path
from subscriber_local.event_source import LambdaContext, QueueEventSource  # noqa: E402
from subscriber_local.resources import LOCAL_TOPIC_ARN, REGION, SubscriberResources, create_resources  # noqa: E402

function_code.put_on_path()

from zenoti_receiver.models.class_booking import ClassBookingEvent  # noqa: E402 - put on the path just above

EVENTS = EXAMPLE / "events"
SAMPLE_SQS_EVENT = EVENTS / "sqs_booking_deleted.json"
FUNCTION_MODULES = ("booking_subscriber.handler", "booking_subscriber.action")


def sample_sqs_event() -> dict[str, Any]:
    """The SQS event a user gives `sam local invoke`."""
    return json.loads(SAMPLE_SQS_EVENT.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def sample_notification() -> dict[str, Any]:
    return json.loads(sample_sqs_event()["Records"][0]["body"])  # type: ignore[no-any-return]


def sample_payload() -> str:
    """Zenoti's body, as the receiver publishes it (verbatim) inside the sample notification."""
    return str(sample_notification()["Message"])


def payload_with(event_id: str, event_type: str = "Class.Booking.Deleted", **data: Any) -> str:
    """The sample body with another event_id (type, data fields), as Zenoti would send another event."""
    event = json.loads(sample_payload())
    event["event_id"] = event_id
    event["event_type"] = event_type
    event["data"].update(data)
    return json.dumps(event)


def notification_body(
    payload: str, *, replay: bool = False, message_id: str | None = None, attributes_of: str | None = None
) -> str:
    """An SNS notification around `payload`, shaped like the sample's, with the attributes the receiver
    publishes with it (or with `attributes_of`; the sample's if neither is an event)."""
    notification = sample_notification()
    notification["Message"] = payload
    if message_id is not None:
        notification["MessageId"] = message_id
    try:
        attributes = message_attributes(attributes_of or payload)
    except ValueError:  # no event: the sample's stay
        pass
    else:
        notification["MessageAttributes"] = {
            name: {"Type": "String", "Value": value["StringValue"]} for name, value in attributes.items()
        }
    if replay:
        notification["MessageAttributes"]["replay"] = {"Type": "String", "Value": "true"}
    return json.dumps(notification)


def sqs_event(*bodies: str) -> dict[str, Any]:
    """An SQS event of one record per body, each built from the sample record with its own messageId."""
    template = sample_sqs_event()["Records"][0]
    records = []
    for number, body in enumerate(bodies):
        record = copy.deepcopy(template)
        record["messageId"] = f"{template['messageId'][:-4]}{number:04d}"
        record["body"] = body
        records.append(record)
    return {"Records": records}


def raw_sqs_event(*payloads: str, replay: bool = False, attributes_of: str | None = None) -> dict[str, Any]:
    """An SQS event of raw deliveries (the receiver's own subscriber queue): Zenoti's JSON as the body, the
    receiver's attributes (those it publishes with `attributes_of`, if given) as SQS message attributes, as
    Lambda hands them over; none for a body that is no event."""
    event = sqs_event(*payloads)
    for record, payload in zip(event["Records"], payloads, strict=True):
        try:
            attributes = message_attributes(attributes_of or payload, replay=replay)
        except ValueError:
            attributes = {}
        record["messageAttributes"] = {
            name: {
                "stringValue": value["StringValue"],
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
            for name, value in attributes.items()
        }
    return event


def message_attributes(payload: str, *, replay: bool = False) -> dict[str, Any]:
    """The attributes the receiver publishes with a body (and `ops replay` adds replay=true)."""
    attributes = ClassBookingEvent.model_validate_json(payload).message_attributes
    if replay:
        attributes["replay"] = "true"
    return {name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()}


@dataclass
class ActionOutage:
    """Makes the example's action fail (its table unreachable), for some event_ids or all, until ended."""

    table_name: str
    event_ids: set[str] | None = None  # None: every event
    active: bool = False
    attempts: list[str] = field(default_factory=list)

    def before_parameter_build(self, params: dict[str, Any], **_: Any) -> None:
        if not self.active or params.get("TableName") != self.table_name:
            return
        event_id = params["Key"]["event_id"]["S"]
        self.attempts.append(event_id)
        if self.event_ids is None or event_id in self.event_ids:
            raise ConnectionError(f"the deletions table is unreachable (test outage, {event_id})")


@dataclass
class Subscriber:
    resources: SubscriberResources
    topic_arn: str
    handler: ModuleType
    queue: QueueEventSource
    outage: ActionOutage

    @property
    def raw(self) -> bool:
        """Whether its subscription delivers raw (the template's RawMessageDelivery), as the function is told."""
        return self.resources.function_environment["RAW_MESSAGE_DELIVERY"] == "true"

    def shaped(self, payload: str, *, replay: bool = False, attributes_of: str | None = None) -> dict[str, Any]:
        """An SQS event holding `payload` in the shape its subscription delivers."""
        if self.raw:
            return raw_sqs_event(payload, replay=replay, attributes_of=attributes_of)
        return sqs_event(notification_body(payload, replay=replay, attributes_of=attributes_of))

    def invoke(self, event: dict[str, Any]) -> Any:
        """The function, called as Lambda calls it."""
        return self.handler.lambda_handler(event, LambdaContext())

    def publish(self, payload: str, *, replay: bool = False) -> str:
        """What the receiver (or `ops replay`) publishes for a body; returns the SNS message id."""
        sns = boto3.client("sns", region_name=REGION)
        return str(
            sns.publish(
                TopicArn=self.topic_arn, Message=payload, MessageAttributes=message_attributes(payload, replay=replay)
            )["MessageId"]
        )

    def send_raw(self, body: str) -> str:
        """A message put straight into the queue (an SNS duplicate, or something that is no notification)."""
        sqs = boto3.client("sqs", region_name=REGION)
        return str(sqs.send_message(QueueUrl=self.resources.queue_url, MessageBody=body)["MessageId"])

    def deletions(self) -> dict[str, dict[str, Any]]:
        """What the action recorded, by event_id, values as the AWS CLI shows them."""
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        items = dynamodb.scan(TableName=self.resources.deletions_table_name)["Items"]
        return {item["event_id"]["S"]: {name: next(iter(v.values())) for name, v in item.items()} for item in items}

    def waiting(self, queue_url: str | None = None) -> list[dict[str, Any]]:
        """Every message of a queue (the subscriber's by default), read and left invisible for the test."""
        sqs = boto3.client("sqs", region_name=REGION)
        messages: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(
                QueueUrl=queue_url or self.resources.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
            ).get("Messages", [])
            if not batch:
                return messages
            messages += batch

    def dead_letters(self) -> list[dict[str, Any]]:
        return self.waiting(self.resources.dead_letter_queue_url)

    def idempotency_records(self) -> list[dict[str, Any]]:
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        return dynamodb.scan(TableName=self.resources.idempotency_table_name)["Items"]  # type: ignore[no-any-return]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A mocked AWS account; every boto3 client created inside it talks to moto."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # mock_aws does not intercept when it is set
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.setup_default_session()
        yield
    boto3.DEFAULT_SESSION = None


@pytest.fixture
def topic_arn(aws: None) -> str:
    """The topic the subscriber subscribes to; standing in for the receiver's (same name as `make serve`'s)."""
    name = LOCAL_TOPIC_ARN.rsplit(":", 1)[1]
    return str(boto3.client("sns", region_name=REGION).create_topic(Name=name)["TopicArn"])


@pytest.fixture
def log_stream() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def logs(log_stream: io.StringIO) -> Any:
    """The structured log lines the function has written so far, parsed."""

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in log_stream.getvalue().splitlines() if line.strip()]

    return read


@pytest.fixture
def raw_message_delivery() -> str:
    """The template's RawMessageDelivery parameter: "false" (its default) unless a test parametrizes it."""
    return "false"


@pytest.fixture
def subscriber(
    aws: None, topic_arn: str, raw_message_delivery: str, monkeypatch: pytest.MonkeyPatch, log_stream: io.StringIO
) -> Iterator[Subscriber]:
    """The example's resources from template.yaml, subscribed to the topic; the handler imported fresh (cold)."""
    resources = create_resources(
        boto3.session.Session(region_name=REGION), topic_arn, parameters={"RawMessageDelivery": raw_message_delivery}
    )
    for name, value in resources.function_environment.items():
        monkeypatch.setenv(name, value)
    outage = ActionOutage(resources.deletions_table_name)
    # Clients created from the default session from now on (the function's) carry the hook.
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-parameter-build.dynamodb.UpdateItem", outage.before_parameter_build)
    handler = _fresh_handler(log_stream, resources.function_environment["POWERTOOLS_SERVICE_NAME"])
    sqs = boto3.client("sqs", region_name=REGION)
    queue = QueueEventSource(sqs, resources.queue_url, resources.queue_arn, handler.lambda_handler)
    yield Subscriber(resources=resources, topic_arn=topic_arn, handler=handler, queue=queue, outage=outage)
    for module in FUNCTION_MODULES:
        sys.modules.pop(module, None)


def _fresh_handler(log_stream: io.StringIO, service: str) -> ModuleType:
    """A new "execution environment": the function's modules imported again, cold start flags reset."""
    for module in FUNCTION_MODULES:
        sys.modules.pop(module, None)
    powertools_logger.is_cold_start = True
    cold_start.reset_cold_start_flag()
    handler = importlib.import_module("booking_subscriber.handler")
    # Powertools sets its log handler up once per process, on the stdout of that moment.
    for log_handler in logging.getLogger(service).handlers:
        if isinstance(log_handler, logging.StreamHandler):
            log_handler.setStream(log_stream)
    return handler
