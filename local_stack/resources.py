"""Create the receiver's table, topic and secret in an emulator, the way template.yaml declares them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

from local_stack.template import load_template, parameter_default, resource

LOCAL_PREFIX = "zenoti-local"
LOCAL_ACCOUNT = "123456789012"  # moto's default account
LOCAL_TOKEN = "local-demo-token"  # noqa: S105 - the emulator's token, printed to the user on purpose
REGION = "us-east-1"
FUNCTION = "ReceiverFunction"
PENDING_FUNCTION = "PendingPublisherFunction"


@dataclass(frozen=True)
class LocalNames:
    """What create_resources() calls things: the same on every run, so tools can find them."""

    table_name: str
    quarantine_table_name: str
    topic_name: str
    secret_name: str
    queue_name: str

    @property
    def topic_arn(self) -> str:
        return f"arn:aws:sns:{REGION}:{LOCAL_ACCOUNT}:{self.topic_name}"


def local_names(prefix: str = LOCAL_PREFIX) -> LocalNames:
    return LocalNames(
        table_name=f"{prefix}-events",
        quarantine_table_name=f"{prefix}-quarantine",
        topic_name=f"{prefix}-events",
        secret_name=f"{prefix}-webhook-token",
        queue_name=f"{prefix}-subscriber",
    )


@dataclass(frozen=True)
class LocalResources:
    table_name: str
    quarantine_table_name: str
    topic_arn: str
    secret_arn: str
    subscriber_queue_url: str  # an SQS queue subscribed to the topic, standing in for a subscriber
    function_environment: dict[str, str]  # the receiving function's
    pending_function_environment: dict[str, str]  # the scheduled publisher's


def create_resources(prefix: str = LOCAL_PREFIX, endpoint_url: str | None = None) -> LocalResources:
    """Create everything the function needs; return its names and the function's environment."""
    template = load_template()
    session = boto3.session.Session(region_name=REGION)

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url)

    names = local_names(prefix)
    table_name, quarantine_table_name = names.table_name, names.quarantine_table_name
    dynamodb = client("dynamodb")
    dynamodb.create_table(TableName=table_name, **_table_properties(resource(template, "EventsTable")))
    dynamodb.create_table(TableName=quarantine_table_name, **_table_properties(resource(template, "QuarantineTable")))

    topic_arn = client("sns").create_topic(Name=names.topic_name)["TopicArn"]
    secret_name = names.secret_name
    secret_arn = client("secretsmanager").create_secret(
        Name=secret_name, SecretString=json.dumps({"token": LOCAL_TOKEN})
    )["ARN"]

    sqs = client("sqs")
    queue_url = sqs.create_queue(QueueName=names.queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)

    # The secret by name (a valid SecretId): unlike its ARN it is the same on every run.
    references = {
        "EventsTable": table_name,
        "QuarantineTable": quarantine_table_name,
        "EventsTopic": topic_arn,
        "WebhookTokenSecret": secret_name,
    }
    return LocalResources(
        table_name=table_name,
        quarantine_table_name=quarantine_table_name,
        topic_arn=topic_arn,
        secret_arn=secret_arn,
        subscriber_queue_url=queue_url,
        function_environment=_function_environment(template, FUNCTION, references),
        pending_function_environment=_function_environment(template, PENDING_FUNCTION, references),
    )


def _table_properties(table: dict[str, Any]) -> dict[str, Any]:
    properties = table["Properties"]
    return {
        key: properties[key]
        for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
        if key in properties
    }


def _function_environment(template: dict[str, Any], function: str, names: dict[str, str]) -> dict[str, str]:
    """A function's environment variables from the template (its Globals too), with !Ref resolved locally."""
    variables = {
        **template["Globals"]["Function"]["Environment"]["Variables"],
        **resource(template, function)["Properties"]["Environment"]["Variables"],
    }
    environment = {}
    for name, value in variables.items():
        if isinstance(value, dict) and "Ref" in value:
            target = value["Ref"]
            value = names[target] if target in names else parameter_default(template, target)
        environment[name] = str(value)
    return environment
