"""Create the example's queues, tables and subscription in an emulator, the way template.yaml declares them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from subscriber_local.template import load_template, properties, resolve

LOCAL_PREFIX = "booking-subscriber-local"
FUNCTION = "SubscriberFunction"
# What `make serve` in the receiver's repository creates (its devtools/local_stack/): moto's default account and region.
REGION = "us-east-1"
LOCAL_TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:zenoti-local-events"


@dataclass(frozen=True)
class SubscriberResources:
    queue_url: str
    queue_arn: str
    dead_letter_queue_url: str
    dead_letter_queue_arn: str
    deletions_table_name: str
    idempotency_table_name: str
    subscription_arn: str  # empty when not subscribed
    max_receive_count: int
    function_environment: dict[str, str]


def create_resources(
    session: Any,
    topic_arn: str,
    *,
    prefix: str = LOCAL_PREFIX,
    endpoint_url: str | None = None,
    parameters: dict[str, Any] | None = None,
    subscribe: bool = True,
) -> SubscriberResources:
    """Create (or find, if they exist) the resources; subscribe the queue to `topic_arn` unless told not to."""
    template = load_template()
    references: dict[str, Any] = {
        name: parameter["Default"] for name, parameter in template["Parameters"].items() if "Default" in parameter
    }
    references.update(parameters or {}, EventsTopicArn=topic_arn)
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    sns = session.client("sns", endpoint_url=endpoint_url)

    dead_letter_url, dead_letter_arn = _queue(sqs, f"{prefix}-dlq", properties(template, "DeadLetterQueue"), references)
    references["DeadLetterQueue.Arn"] = dead_letter_arn
    queue_url, queue_arn = _queue(sqs, prefix, properties(template, "Queue"), references)
    references.update({"Queue": queue_url, "Queue.Arn": queue_arn})
    policy = resolve(properties(template, "QueuePolicy")["PolicyDocument"], references)
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})

    tables = {"DeletionsTable": f"{prefix}-deletions", "IdempotencyTable": f"{prefix}-idempotency"}
    for logical_id, table_name in tables.items():
        _table(dynamodb, table_name, properties(template, logical_id))
    references.update(tables)

    subscription = properties(template, "Subscription")
    attributes = {"RawMessageDelivery": str(resolve(subscription["RawMessageDelivery"], references)).lower()}
    if "FilterPolicy" in subscription:  # the types the function handles: SNS (moto) filters on them
        attributes["FilterPolicy"] = json.dumps(resolve(subscription["FilterPolicy"], references))
    subscription_arn = ""
    if subscribe:
        subscription_arn = sns.subscribe(
            TopicArn=topic_arn,
            Protocol=subscription["Protocol"],
            Endpoint=queue_arn,
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]

    variables = properties(template, FUNCTION)["Environment"]["Variables"]
    return SubscriberResources(
        queue_url=queue_url,
        queue_arn=queue_arn,
        dead_letter_queue_url=dead_letter_url,
        dead_letter_queue_arn=dead_letter_arn,
        deletions_table_name=tables["DeletionsTable"],
        idempotency_table_name=tables["IdempotencyTable"],
        subscription_arn=subscription_arn,
        max_receive_count=int(references["MaxReceiveCount"]),
        # AWS_ENDPOINT_URL is empty in the template (so that `sam local` may set it): the local run sets its own.
        function_environment={
            name: str(resolve(value, references)) for name, value in variables.items() if name != "AWS_ENDPOINT_URL"
        },
    )


def _queue(sqs: Any, name: str, queue: dict[str, Any], references: dict[str, Any]) -> tuple[str, str]:
    attributes: dict[str, str] = {}
    for key in ("MessageRetentionPeriod", "VisibilityTimeout", "SqsManagedSseEnabled"):
        if key in queue:
            attributes[key] = str(queue[key]).lower()
    if "RedrivePolicy" in queue:
        attributes["RedrivePolicy"] = json.dumps(resolve(queue["RedrivePolicy"], references))
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _table(dynamodb: Any, name: str, table: dict[str, Any]) -> None:
    try:
        dynamodb.create_table(
            TableName=name, **{key: table[key] for key in ("AttributeDefinitions", "KeySchema", "BillingMode")}
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceInUseException":  # created by an earlier run
            return
        raise
    if "TimeToLiveSpecification" in table:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=table["TimeToLiveSpecification"])
