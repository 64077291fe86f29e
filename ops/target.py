"""Which table and topic to work on: a deployed stack's outputs, the `make serve` stack, or names given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.exceptions import ClientError

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
    session, endpoint = aws_session(options)
    names: dict[str, str] = {}
    if options.local:
        names = {TABLE_OUTPUT: LOCAL_TABLE, TOPIC_OUTPUT: LOCAL_TOPIC_ARN}
    else:
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


def aws_session(options: TargetOptions) -> tuple[Any, str | None]:
    """A session and the endpoint to call: the emulator with dummy credentials, or AWS with yours over HTTPS."""
    if options.local:
        return local_session(options.region), options.endpoint_url or LOCAL_ENDPOINT
    if options.endpoint_url is not None and urlsplit(options.endpoint_url).scheme != "https":
        # SigV4 never sends the secret key, but it does send the access key id, any session token and
        # requests signed with them: not over plain HTTP, and not to an emulator.
        raise OperatorError(
            f"--endpoint-url {options.endpoint_url} is not https, and your AWS credentials would be sent to it; "
            "for an emulator add --local (dummy credentials)"
        )
    return boto3.session.Session(region_name=options.region), options.endpoint_url


def local_session(region: str | None = None) -> Any:
    """A session for the emulator with dummy credentials, whatever credentials and profile you have.

    The emulator accepts any credentials and is reached over plain HTTP (or whatever --endpoint-url
    says), so your real ones must not travel there. AWS_PROFILE is ignored too: a profile that does
    not exist is no reason to refuse the emulator.
    """
    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    core.set_credentials(FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"], FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    return boto3.session.Session(botocore_session=core, region_name=region or LOCAL_REGION)
