"""Where the commands work: a deployed stack's outputs, the `make serve` stack, or names given; and AWS alone: one
reading of the stack, one rule for what the command line may give instead, one check of where clients go."""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import product
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

from ops.errors import OperatorError
from ops.local import FAKE_CREDENTIALS, LOCAL_ACCOUNT, LOCAL_ENDPOINT, LOCAL_PARAMETERS, REGION, local_names

DEFAULT_STACK_NAME = "zenoti-webhooks"  # samconfig.toml's stack_name

# The stack's outputs (template.yaml) the commands read.
TABLE_OUTPUT = "EventsTableName"
TOPIC_OUTPUT = "EventsTopicArn"
HELD_OUTPUT = "HeldBodiesTableName"
SECRET_OUTPUT = "WebhookTokenSecretArn"  # noqa: S105 - an output's name
WEBHOOK_OUTPUT = "WebhookUrl"
FAILURES_QUEUE_OUTPUT = "PublicationFailuresQueueUrl"
PRINT_TOKEN_OUTPUT = "PrintTokenCommand"  # noqa: S105 - an output's name
# The option that names the same thing instead of the output.
GIVEN_BY = {
    TABLE_OUTPUT: "--table", HELD_OUTPUT: "--table", TOPIC_OUTPUT: "--topic-arn", SECRET_OUTPUT: "--secret-id",
    FAILURES_QUEUE_OUTPUT: "--failures-queue-url",
}  # fmt: skip
# The resources a stack's WebhookUrl may point at: its HTTP API, or its WAF front door's REST API.
API_TYPES = frozenset({"AWS::ApiGatewayV2::Api", "AWS::ApiGateway::RestApi"})

# What `make serve` creates.
LOCAL_TABLE = local_names().table_name
LOCAL_TOPIC_ARN = f"arn:aws:sns:{REGION}:{LOCAL_ACCOUNT}:{local_names().topic_name}"
LOCAL_OUTPUTS = {
    TABLE_OUTPUT: LOCAL_TABLE,
    TOPIC_OUTPUT: LOCAL_TOPIC_ARN,
    HELD_OUTPUT: local_names().held_table_name,
    # moto's server names a queue's URL after the endpoint it was asked on, and its one account.
    FAILURES_QUEUE_OUTPUT: f"{LOCAL_ENDPOINT}/{LOCAL_ACCOUNT}/{local_names().publication_failures_queue_name}",
}


@dataclass(frozen=True)
class TargetOptions:
    """The command-line options that choose the target."""

    stack_name: str = DEFAULT_STACK_NAME
    region: str | None = None
    local: bool = False
    endpoint_url: str | None = None
    table: str | None = None


@dataclass(frozen=True)
class Deployment:
    """What a command works on: its names by output key, and clients of the emulator (--local) or of AWS alone."""

    options: TargetOptions
    session: Any = field(repr=False)
    names: Mapping[str, str] = field(default_factory=dict)  # given, `make serve`'s, or the deployed stack's outputs
    outputs: Mapping[str, str] = field(default_factory=dict)  # every output of the stack, when it was read
    parameters: Mapping[str, str] = field(default_factory=dict)  # the stack's, when it was read; `make serve`'s

    def client(self, service: str) -> Any:
        """A client of `service`; outside --local, refused unless the endpoint it will call is AWS's own."""
        endpoint = self.options.endpoint_url or (LOCAL_ENDPOINT if self.options.local else None)
        made = self.session.client(service, endpoint_url=endpoint)
        if not self.options.local:
            _require_aws(made, self.options.endpoint_url is not None)
        return made

    def webhook_hosts(self) -> frozenset[str]:
        """The execute-api hosts of the stack's own APIs, in its region: where its WebhookUrl may point."""
        cloudformation = self.client("cloudformation")
        region = cloudformation.meta.region_name
        api_ids = self._physical_ids(cloudformation, API_TYPES).values()
        return frozenset(f"{api_id.lower()}.execute-api.{region}.{dns_suffix(region)}" for api_id in api_ids)

    def alarm_names(self) -> dict[str, str]:
        """The stack's CloudWatch alarms: logical id -> alarm name (what SetAlarmState takes)."""
        return self._physical_ids(self.client("cloudformation"), frozenset({"AWS::CloudWatch::Alarm"}))

    def _physical_ids(self, cloudformation: Any, types: frozenset[str]) -> dict[str, str]:
        """The stack's resources of these types that exist: logical id -> physical id."""
        return {
            resource["LogicalResourceId"]: resource["PhysicalResourceId"]
            for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=self.options.stack_name)
            for resource in page["StackResourceSummaries"]
            if resource.get("ResourceType") in types and resource.get("PhysicalResourceId")
        }


def resolve_deployment(options: TargetOptions, given: Mapping[str, str | None]) -> Deployment:
    """The names a command needs, by output key: each one given (not None), `make serve`'s, or the stack's outputs
    (read once, if a name is missing; a stack without one is refused, saying which option gives it instead)."""
    deployment = connect(options)
    names = {key: value for key, value in given.items() if value is not None}
    missing = [key for key in given if key not in names]
    if options.local:
        unknown = [key for key in missing if key not in LOCAL_OUTPUTS]
        if unknown:
            raise OperatorError(f"the local stack has no {unknown[0]}; pass {GIVEN_BY.get(unknown[0], 'it')}")
        names |= {key: LOCAL_OUTPUTS[key] for key in missing}
        return replace(deployment, names=names, parameters=LOCAL_PARAMETERS)
    if not missing:
        return replace(deployment, names=names)
    cloudformation = deployment.client("cloudformation")
    try:
        [stack] = cloudformation.describe_stacks(StackName=options.stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" not in str(error):  # said with the generic ValidationError code
            raise
        where = f"{options.stack_name} not found in {cloudformation.meta.region_name}"
        raise OperatorError(f"stack {where}; pass --stack-name, --region, or --local") from None
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    for key in missing:
        if key not in outputs:
            instead = f" Or pass {GIVEN_BY[key]}" if key in GIVEN_BY else ""
            raise OperatorError(
                f"stack {options.stack_name} in {cloudformation.meta.region_name} ({stack['StackStatus']}) has no "
                f"output {key}; is it this project's stack, fully deployed?{instead}"
            )
        names[key] = outputs[key]
    parameters = {parameter["ParameterKey"]: parameter["ParameterValue"] for parameter in stack.get("Parameters", [])}
    return replace(deployment, names=names, outputs=outputs, parameters=parameters)


def connect(options: TargetOptions) -> Deployment:
    """Where the clients go, before any name is known."""
    session = local_session(options.region) if options.local else boto3.session.Session(region_name=options.region)
    return Deployment(options, session)


def _require_aws(made: Any, given: bool) -> None:
    """Refuse an endpoint botocore itself does not resolve for the service in the client's region: SigV4 sends it your
    key id and signed requests, and its answers decide where `held redrive` sends the token (a host under
    amazonaws.com is not enough: anyone can own one)."""
    endpoint_url, service_id = made.meta.endpoint_url, made.meta.service_model.service_id
    if _plain(endpoint_url) in aws_endpoints(made.meta.service_model.service_name, made.meta.region_name):
        return
    variable = f"AWS_ENDPOINT_URL_{service_id.upper().replace(' ', '_')}"
    source = "--endpoint-url" if given else f"{variable}, AWS_ENDPOINT_URL or your AWS profile's endpoint_url"
    raise OperatorError(
        f"{source} sends {service_id} calls to {endpoint_url}, which is not AWS's own {service_id} endpoint "
        f"in {made.meta.region_name} over https, and your AWS credentials would be sent there; "
        "for an emulator add --local (dummy credentials)"
    )


@cache
def aws_endpoints(service: str, region: str) -> frozenset[tuple[str, str, int, str]]:
    """The endpoints botocore itself resolves for `service` in `region` (no profile, no configured endpoint URL): the
    standard one and its FIPS and dual-stack variants (AWS_USE_FIPS_ENDPOINT, ...), each (https, host, port, path)."""
    session, found = local_session(region), set()
    for fips, dual_stack in product((False, True), repeat=2):
        config = Config(ignore_configured_endpoint_urls=True, use_fips_endpoint=fips, use_dualstack_endpoint=dual_stack)
        with suppress(Exception):  # a variant this partition does not have is simply not one
            found.add(_plain(session.client(service, config=config).meta.endpoint_url))
    return frozenset(found)


def _plain(url: str) -> tuple[str, str, int, str]:
    """What decides where a request goes and who can read it; a URL with user info matches nothing."""
    parts = urlsplit(url)
    with suppress(ValueError):  # a port that is not a number
        if parts.username is None:  # a password comes with a username, if only an empty one
            return (parts.scheme.lower(), (parts.hostname or "").rstrip("."), parts.port or 443, parts.path.rstrip("/"))
    return ("", "", 0, "")


@cache
def dns_suffix(region: str) -> str:
    """The DNS suffix of the region's partition (amazonaws.com, amazonaws.com.cn, ...), as botocore knows it."""
    for partition in botocore.loaders.create_loader().load_data("partitions")["partitions"]:
        # A region newer than this botocore: by its partition's pattern.
        if region in partition["regions"] or re.fullmatch(partition["regionRegex"], region):
            return str(partition["outputs"]["dnsSuffix"])
    raise OperatorError(f"region {region} is in no partition botocore knows")


def local_session(region: str | None = None) -> Any:
    """A session for the emulator with dummy credentials, never yours (it is plain HTTP, or any --endpoint-url),
    and no profile: an AWS_PROFILE that does not exist is no reason to refuse the emulator."""
    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    core.set_credentials(FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"], FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    return boto3.session.Session(botocore_session=core, region_name=region or REGION)
