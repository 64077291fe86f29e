"""Which table and topic to work on: a deployed stack's outputs, the `make serve` stack, or names given."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.loaders
import botocore.session
from botocore.exceptions import ClientError

from ops.errors import OperatorError
from ops.local import FAKE_CREDENTIALS, LOCAL_ENDPOINT, REGION, local_names

DEFAULT_STACK_NAME = "zenoti-booking-deleted"  # samconfig.toml's stack_name
TABLE_OUTPUT = "EventsTableName"
TOPIC_OUTPUT = "EventsTopicArn"
FAILURES_QUEUE_OUTPUT = "PublicationFailuresQueueUrl"

# What `make serve` creates.
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
    sqs: Any = None
    publication_failures_queue_url: str = ""  # with needs_failures_queue


def resolve_target(options: TargetOptions, *, needs_topic: bool, needs_failures_queue: bool = False) -> Target:
    """The table (and topic) to use and clients for them; stack outputs are read only if a name is missing."""
    aws = connect(options)
    names: dict[str, str] = {}
    if options.local:
        names = {TABLE_OUTPUT: LOCAL_TABLE, TOPIC_OUTPUT: LOCAL_TOPIC_ARN}
        if needs_failures_queue:
            queue = local_names().publication_failures_queue_name
            names[FAILURES_QUEUE_OUTPUT] = aws.client("sqs").get_queue_url(QueueName=queue)["QueueUrl"]
    else:
        if options.table is None or (needs_topic and options.topic_arn is None) or needs_failures_queue:
            names = stack_outputs(aws.client("cloudformation"), options.stack_name)
    table = options.table or names[TABLE_OUTPUT]  # stack_outputs refuses a stack without it
    topic = options.topic_arn or names.get(TOPIC_OUTPUT)
    if needs_topic and topic is None:
        raise OperatorError(f"stack {options.stack_name} has no output {TOPIC_OUTPUT}; pass --topic-arn")
    if needs_failures_queue and FAILURES_QUEUE_OUTPUT not in names:
        raise OperatorError(f"stack {options.stack_name} has no output {FAILURES_QUEUE_OUTPUT}: is it deployed?")
    return Target(
        table_name=table,
        topic_arn=topic if needs_topic else None,
        dynamodb=aws.client("dynamodb"),
        sns=aws.client("sns"),
        sqs=aws.client("sqs") if needs_failures_queue else None,
        publication_failures_queue_url=names.get(FAILURES_QUEUE_OUTPUT, ""),
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


@dataclass(frozen=True)
class Aws:
    """Where the commands' clients go: the emulator with dummy credentials, or AWS over https with yours."""

    session: Any
    endpoint_url: str | None  # --endpoint-url; None: what botocore resolves (AWS, or your configured endpoints)
    local: bool

    def client(self, service: str) -> Any:
        """A client of `service`; outside --local, refused unless the endpoint it will call is AWS's, over https."""
        made = self.session.client(service, endpoint_url=self.endpoint_url)
        if not self.local:
            _require_aws(made.meta.endpoint_url, made.meta.service_model.service_id, self.endpoint_url is not None)
        return made


def connect(options: TargetOptions) -> Aws:
    if options.local:
        return Aws(local_session(options.region), options.endpoint_url or LOCAL_ENDPOINT, local=True)
    return Aws(boto3.session.Session(region_name=options.region), options.endpoint_url, local=False)


def _require_aws(endpoint_url: str, service_id: str, given: bool) -> None:
    """Refuse an endpoint that is not AWS over https, whichever setting chose it: the one botocore will call.

    SigV4 never sends the secret key, but it does send the access key id, any session token and requests
    signed with them; and what an endpoint answers decides where `quarantine redrive` sends the token.
    """
    parts = urlsplit(endpoint_url)
    if parts.scheme == "https" and parts.username is None and is_aws_host(parts.hostname or ""):
        return
    variable = f"AWS_ENDPOINT_URL_{service_id.upper().replace(' ', '_')}"
    source = "--endpoint-url" if given else f"{variable}, AWS_ENDPOINT_URL or your AWS profile's endpoint_url"
    raise OperatorError(
        f"{source} sends {service_id} calls to {endpoint_url}, which is not AWS over https, and your AWS "
        "credentials would be sent there; for an emulator add --local (dummy credentials)"
    )


def is_aws_host(host: str) -> bool:
    """A name under one of AWS's DNS suffixes (amazonaws.com, api.aws, ... of every partition botocore knows)."""
    host = host.lower().rstrip(".")
    return any(host.endswith(f".{suffix}") for suffix in _aws_dns_suffixes())


@cache
def _aws_dns_suffixes() -> frozenset[str]:
    partitions = botocore.loaders.create_loader().load_data("partitions")["partitions"]
    return frozenset(
        partition["outputs"][name]
        for partition in partitions
        for name in ("dnsSuffix", "dualStackDnsSuffix")
        if name in partition["outputs"]
    )


def local_session(region: str | None = None) -> Any:
    """A session for the emulator with dummy credentials, whatever credentials and profile you have.

    The emulator accepts any credentials and is reached over plain HTTP (or whatever --endpoint-url
    says), so your real ones must not travel there. AWS_PROFILE is ignored too: a profile that does
    not exist is no reason to refuse the emulator.
    """
    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    core.set_credentials(FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"], FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    return boto3.session.Session(botocore_session=core, region_name=region or REGION)
