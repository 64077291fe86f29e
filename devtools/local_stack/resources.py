"""Create the stack's tables, topic, queues and secret in an emulator as template.yaml declares them; read a queue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

from devtools.local_stack.template import load_template, parameter_default, resource
from ops.local import LOCAL_PREFIX, LOCAL_TOKEN, REGION, local_names

FUNCTION = "ReceiverFunction"
PUBLISHER_FUNCTION = "PublisherFunction"


@dataclass(frozen=True)
class LocalResources:
    table_name: str
    held_table_name: str
    topic_arn: str
    secret_arn: str
    # The stack's optional subscriber queue, as it is with SubscriberQueue=true: raw delivery (each body is
    # the event as Zenoti sent it, the attributes are SQS message attributes), a dead-letter queue.
    subscriber_queue_url: str
    subscriber_dead_letter_queue_url: str
    stream_arn: str  # the events table's stream, which the publisher reads
    publication_failures_queue_url: str  # the stream mapping's on-failure destination
    function_environment: dict[str, str]  # the receiving function's
    publisher_environment: dict[str, str]  # the publisher's


def create_resources(prefix: str = LOCAL_PREFIX, endpoint_url: str | None = None) -> LocalResources:
    """Create everything the functions need; return its names and the functions' environments."""
    template = load_template()
    session = boto3.session.Session(region_name=REGION)
    dynamodb, sns, sqs = (session.client(name, endpoint_url=endpoint_url) for name in ("dynamodb", "sns", "sqs"))
    names = local_names(prefix)
    table = dynamodb.create_table(TableName=names.table_name, **_table_properties(resource(template, "EventsTable")))
    dynamodb.create_table(TableName=names.held_table_name, **_table_properties(resource(template, "HeldBodiesTable")))
    topic_arn = sns.create_topic(Name=names.topic_name)["TopicArn"]
    secrets = session.client("secretsmanager", endpoint_url=endpoint_url)
    secret_arn = secrets.create_secret(Name=names.secret_name, SecretString=json.dumps({"token": LOCAL_TOKEN}))["ARN"]

    def queue(name: str, logical_id: str, arns: dict[str, str] | None = None) -> str:
        attributes = _queue_attributes(resource(template, logical_id), template, arns or {})
        return str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])

    dead_letters_url = queue(names.dead_letter_queue_name, "SubscriberDeadLetterQueue")
    arns = {"SubscriberDeadLetterQueue": _queue_arn(sqs, dead_letters_url)}
    queue_url = queue(names.queue_name, "SubscriberEventsQueue", arns)
    failures_url = queue(names.publication_failures_queue_name, "PublicationFailuresQueue")
    _subscribe(sns, topic_arn, sqs, queue_url)
    references = {
        "AWS::StackName": local_stack_name(prefix),
        "EventsTable": names.table_name,
        "HeldBodiesTable": names.held_table_name,
        "EventsTopic": topic_arn,
        # The secret by name (a valid SecretId): unlike its ARN it is the same on every run.
        "WebhookTokenSecret": names.secret_name,
    }
    return LocalResources(
        table_name=names.table_name,
        held_table_name=names.held_table_name,
        topic_arn=topic_arn,
        secret_arn=secret_arn,
        subscriber_queue_url=queue_url,
        subscriber_dead_letter_queue_url=dead_letters_url,
        stream_arn=table["TableDescription"]["LatestStreamArn"],
        publication_failures_queue_url=failures_url,
        function_environment=_function_environment(template, FUNCTION, references),
        publisher_environment=_function_environment(template, PUBLISHER_FUNCTION, references),
    )


def subscribe_queue(topic_arn: str, queue_name: str) -> str:
    """A new queue on the topic, subscribed as the stack's subscriber queue is (raw delivery); its URL."""
    session = boto3.session.Session(region_name=REGION)
    sqs = session.client("sqs")
    queue_url = str(sqs.create_queue(QueueName=queue_name)["QueueUrl"])
    _subscribe(session.client("sns"), topic_arn, sqs, queue_url)
    return queue_url


def _subscribe(sns: Any, topic_arn: str, sqs: Any, queue_url: str) -> None:
    """Subscribe the queue to the topic as template.yaml's SubscriberSubscription does, raw delivery included."""
    subscription = resource(load_template(), "SubscriberSubscription")["Properties"]
    raw = {"RawMessageDelivery": str(subscription["RawMessageDelivery"]).lower()}
    # No filter policy, as SubscriberEventTypes="" deploys it: locally every type you send is seen (docs/local.md).
    sns.subscribe(
        TopicArn=topic_arn, Protocol=subscription["Protocol"], Endpoint=_queue_arn(sqs, queue_url), Attributes=raw
    )


def take_messages(sqs: Any, queue_url: str, wait_seconds: int = 0) -> list[dict[str, Any]]:
    """What a queue holds (up to 10 messages, as SQS returns them), taken off it."""
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds, MessageAttributeNames=["All"]
    ).get("Messages", [])
    if messages:
        entries = [{"Id": str(number), "ReceiptHandle": m["ReceiptHandle"]} for number, m in enumerate(messages)]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
    return messages


def local_stack_name(prefix: str = LOCAL_PREFIX) -> str:
    """What the local stack stands for where the template names its stack (the metrics' service dimension)."""
    return prefix


def _table_properties(table: dict[str, Any]) -> dict[str, Any]:
    properties = table["Properties"]
    created = {
        key: properties[key]
        for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode", "OnDemandThroughput")
        if key in properties
    }
    if "StreamSpecification" in properties:  # CloudFormation's form leaves StreamEnabled out; the API wants it
        created["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    return created


def _queue_attributes(queue: dict[str, Any], template: dict[str, Any], arns: dict[str, str]) -> dict[str, str]:
    """A queue's attributes from its template properties, as strings (its policy left out: moto enforces none)."""
    properties = queue["Properties"]
    attributes = {
        name: str(properties[name]).lower() if isinstance(properties[name], bool) else str(properties[name])
        for name in ("MessageRetentionPeriod", "VisibilityTimeout", "SqsManagedSseEnabled")
        if name in properties
    }
    if "RedrivePolicy" in properties:
        redrive = properties["RedrivePolicy"]
        target = arns[redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]]
        receives = int(parameter_default(template, redrive["maxReceiveCount"]["Ref"]))
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": receives})
    return attributes


def _queue_arn(sqs: Any, queue_url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def _function_environment(template: dict[str, Any], function: str, names: dict[str, str]) -> dict[str, str]:
    """A function's environment variables from the template (its Globals too), with !Ref resolved locally."""
    variables = {
        **template["Globals"]["Function"]["Environment"]["Variables"],
        **resource(template, function)["Properties"]["Environment"]["Variables"],
    }
    variables.pop("AWS_ENDPOINT_URL", None)  # empty when deployed, for `sam local` to set; the local stack sets its own
    environment = {}
    for name, value in variables.items():
        if isinstance(value, dict) and "Ref" in value:
            target = value["Ref"]
            value = names[target] if target in names else parameter_default(template, target)
        environment[name] = str(value)
    return environment
