"""Which table and topic to work on: a deployed stack's outputs, the `make serve` stack, or names given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from local_stack.receiver import FAKE_CREDENTIALS
from local_stack.resources import REGION, local_names
from ops.errors import OperatorError

DEFAULT_STACK_NAME = "zenoti-booking-deleted"  # samconfig.toml's stack_name
TABLE_OUTPUT = "EventsTableName"
TOPIC_OUTPUT = "EventsTopicArn"

# What `make serve` creates, on the emulator's default port.
LOCAL_ENDPOINT = "http://127.0.0.1:5000"
LOCAL_REGION = REGION
LOCAL_TABLE = local_names().table_name
LOCAL_TOPIC_ARN = local_names().topic_arn


@dataclass(frozen=True)
class TargetOptions:
    """The command-line options that choose the target."""

    stack_name: str = DEFAULT_STACK_NAME
    region: str | None = None
    local: bool = False
    endpoint_url: str | None = None
    table: str | None = None
    topic_arn: str | None = None


@dataclass(frozen=True)
class Target:
    table_name: str
    topic_arn: str | None  # None when the command does not publish
    dynamodb: Any
    sns: Any


def resolve_target(options: TargetOptions, *, needs_topic: bool) -> Target:
    """The table (and topic) to use and clients for them; stack outputs are read only if a name is missing."""
    endpoint: str | None
    names: dict[str, str] = {}
    if options.local:
        endpoint = options.endpoint_url or LOCAL_ENDPOINT
        session = local_session(options.region)
        names = {TABLE_OUTPUT: LOCAL_TABLE, TOPIC_OUTPUT: LOCAL_TOPIC_ARN}
    else:
        endpoint = options.endpoint_url
        session = boto3.session.Session(region_name=options.region)
        if options.table is None or (needs_topic and options.topic_arn is None):
            names = stack_outputs(session.client("cloudformation", endpoint_url=endpoint), options.stack_name)
    table = options.table or names[TABLE_OUTPUT]  # stack_outputs refuses a stack without it
    topic = options.topic_arn or names.get(TOPIC_OUTPUT)
    if needs_topic and topic is None:
        raise OperatorError(f"stack {options.stack_name} has no output {TOPIC_OUTPUT}; pass --topic-arn")
    return Target(
        table_name=table,
        topic_arn=topic if needs_topic else None,
        dynamodb=session.client("dynamodb", endpoint_url=endpoint),
        sns=session.client("sns", endpoint_url=endpoint),
    )


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """The stack's outputs by key; refuses a stack that lacks the table's."""
    region = cloudformation.meta.region_name
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        # CloudFormation says "does not exist" with the generic ValidationError code.
        if "does not exist" in str(error):
            raise OperatorError(
                f"stack {stack_name} not found in {region}; pass --stack-name, --region, or --local"
            ) from None
        raise
    stack = stacks[0]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    if TABLE_OUTPUT not in outputs:
        raise OperatorError(
            f"stack {stack_name} in {region} ({stack['StackStatus']}) has no output {TABLE_OUTPUT}; "
            "is it this project's stack, fully deployed? Or pass --table"
        )
    return outputs


def local_session(region: str | None = None) -> Any:
    """A session for the emulator: your credentials if you have any, dummy ones otherwise."""
    region = region or LOCAL_REGION
    session = boto3.session.Session(region_name=region)
    try:
        credentials = session.get_credentials()
    except BotoCoreError:  # a broken profile is no reason to refuse the emulator, which accepts anything
        credentials = None
    if credentials is not None:
        return session
    return boto3.session.Session(
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
