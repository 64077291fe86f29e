"""Where the tools find the table and topic: a deployed stack's outputs, or the stack `make serve` runs."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import boto3
import pytest

from devtools.local_stack.resources import LOCAL_TOKEN, REGION
from devtools.local_stack.template import load_template, parameter_default
from ops.errors import OperatorError
from ops.local import LOCAL_PARAMETERS
from ops.target import (
    DEFAULT_STACK_NAME,
    LOCAL_TABLE,
    LOCAL_TOPIC_ARN,
    SECRET_OUTPUT,
    TargetOptions,
    connect,
    resolve_deployment,
)
from tests.conftest import ROOT, Stack
from tests.ops.conftest import (
    CENTER_A,
    OPERATOR_KEY_ID,
    OPERATOR_SECRET,
    OPERATOR_SESSION_TOKEN,
    SAMPLE_ID,
    Recorder,
    Stored,
    drain,
)


def deploy(
    name: str,
    outputs: dict[str, Any],
    resources: dict[str, Any] | None = None,
    parameters: dict[str, str] | None = None,
) -> None:
    """A CloudFormation stack in moto with these outputs (values or intrinsics) and parameters, standing in for
    `sam deploy`."""
    template = {
        "Parameters": {key: {"Type": "String", "Default": value} for key, value in (parameters or {}).items()},
        "Resources": resources or {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(StackName=name, TemplateBody=json.dumps(template))


def test_table_and_topic_come_from_the_stack_outputs(run, stack: Stack, stored: Stored):
    outputs = {"EventsTableName": stack.resources.table_name, "EventsTopicArn": stack.resources.topic_arn}
    deploy(DEFAULT_STACK_NAME, outputs)
    deploy("zenoti-staging", outputs)

    looked_up = run("lookup", "--center", CENTER_A, "--format", "jsonl")  # the default stack name
    replayed = run("replay", "--stack-name", "zenoti-staging", "--region", REGION, "--event-id", SAMPLE_ID)

    assert looked_up.code == 0, looked_up.err
    assert [json.loads(line)["event_id"] for line in looked_up.out.splitlines()] == ["a-early", SAMPLE_ID, "a-late"]
    assert replayed.code == 0, replayed.err
    [notification] = drain(stack)
    assert notification["Message"] == stored.bodies[SAMPLE_ID]
    assert notification["MessageAttributes"]["replay"]["Value"] == "true"


def test_a_stack_that_does_not_exist_is_a_one_line_error(run, stack: Stack):
    result = run("lookup", "--stack-name", "not-deployed", "--center", CENTER_A)

    assert result.code == 2
    assert result.err == ("error: stack not-deployed not found in us-east-1; pass --stack-name, --region, or --local\n")


def test_a_stack_without_the_outputs_is_a_one_line_error(run, stack: Stack):
    deploy("other-project", {"SomethingElse": "x"})
    deploy("half-ours", {"EventsTableName": stack.resources.table_name})

    no_table = run("lookup", "--stack-name", "other-project", "--center", CENTER_A)
    no_topic = run("replay", "--stack-name", "half-ours", "--center", CENTER_A)

    assert no_table.code == no_topic.code == 2
    assert no_table.err == (
        "error: stack other-project in us-east-1 (CREATE_COMPLETE) has no output EventsTableName; "
        "is it this project's stack, fully deployed? Or pass --table\n"
    )
    assert no_topic.err == (
        "error: stack half-ours in us-east-1 (CREATE_COMPLETE) has no output EventsTopicArn; "
        "is it this project's stack, fully deployed? Or pass --topic-arn\n"
    )


def test_no_region_is_a_one_line_error(run, monkeypatch, tmp_path):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))

    result = run("lookup", "--center", CENTER_A)

    assert result.code == 2
    assert result.err == "error: no AWS region: pass --region, set AWS_DEFAULT_REGION, or use --local\n"


def test_local_names_are_those_make_serve_creates(stack: Stack):
    assert (stack.resources.table_name, stack.resources.topic_arn) == (LOCAL_TABLE, LOCAL_TOPIC_ARN)


def test_help_says_a_window_alone_scans_the_table():
    result = subprocess.run(
        [sys.executable, "-m", "ops", "replay", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0
    assert "Scan of the whole table" in " ".join(result.stdout.split())


# --- Against `make serve` ---------------------------------------------------------------------------


def test_local_stack_without_credentials(run, served, raw_payload):
    webhook, emulator = served
    request = Request(
        f"{webhook}?token={LOCAL_TOKEN}",
        data=raw_payload.encode(),
        method="POST",
        headers={"content-type": "application/json"},
    )
    with urlopen(request, timeout=60) as response:  # a hang guard: the first request imports the function
        assert json.loads(response.read())["status"] == "accepted"

    looked_up = run("lookup", "--local", "--endpoint-url", emulator, "--center", CENTER_A)
    replayed = run("replay", "--local", "--endpoint-url", emulator, "--event-id", SAMPLE_ID)

    assert looked_up.code == 0, looked_up.err
    assert looked_up.out.splitlines()[1].split()[:2] == ["2022-03-22T12:34:15.379749Z", SAMPLE_ID]
    assert replayed.code == 0, replayed.err
    sqs = boto3.client(
        "sqs", endpoint_url=emulator, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    queue = sqs.get_queue_url(QueueName="zenoti-local-subscriber")["QueueUrl"]
    # The stack's subscriber queue holds the delivery's message and the replay's; raw delivery: the body is
    # the event, the attributes are SQS's.
    messages = sqs.receive_message(
        QueueUrl=queue, WaitTimeSeconds=1, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    [message] = [message for message in messages if "replay" in message.get("MessageAttributes", {})]
    assert message["Body"] == raw_payload
    assert message["MessageAttributes"]["replay"] == {"StringValue": "true", "DataType": "String"}


# --- Credentials: the emulator gets dummy ones, a plain-HTTP endpoint gets none ------------------

LOCAL_COMMANDS = {
    "lookup": ["lookup", "--center", CENTER_A],
    "replay": ["replay", "--event-id", SAMPLE_ID],
    "held list": ["held", "list"],
    "held redrive": ["held", "redrive", "0" * 64],
}


@pytest.mark.parametrize("command", list(LOCAL_COMMANDS))
def test_local_commands_sign_with_dummy_credentials_never_the_operators(
    run, recorder: Recorder, operator_credentials, command
):
    result = run(*LOCAL_COMMANDS[command], "--local", "--endpoint-url", recorder.url)

    assert result.code == 2  # the stand-in emulator refuses every call
    assert recorder.requests, result.err
    for request in recorder.requests:
        assert "Credential=local/" in request.headers["authorization"]
        assert "x-amz-security-token" not in request.headers
        sent = f"{request.headers} {request.body!r}"
        assert OPERATOR_KEY_ID not in sent
        assert OPERATOR_SESSION_TOKEN not in sent
        assert OPERATOR_SECRET not in sent


def test_a_profile_that_does_not_exist_does_not_stop_a_local_command(run, recorder: Recorder, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_PROFILE", "deleted-last-week")

    result = run("lookup", "--local", "--endpoint-url", recorder.url, "--center", CENTER_A)

    assert [request.headers["x-amz-target"] for request in recorder.requests] == ["DynamoDB_20120810.Query"]
    assert "ResourceNotFoundException" in result.err


@pytest.mark.parametrize("scheme", ["http", "HTTP", "ftp"])
def test_your_credentials_never_go_to_an_endpoint_that_is_not_https(
    run, recorder: Recorder, operator_credentials, scheme
):
    endpoint = recorder.url.replace("http", scheme, 1)

    result = run("lookup", "--endpoint-url", endpoint, "--region", REGION, "--table", "t", "--center", CENTER_A)

    assert result.code == 2
    assert result.err == (
        f"error: --endpoint-url sends DynamoDB calls to {endpoint}, which is not AWS's own DynamoDB endpoint in "
        "us-east-1 over https, and your AWS credentials would be sent there; for an emulator add --local "
        "(dummy credentials)\n"
    )
    assert recorder.requests == []


def configure_endpoint(source: str, url: str, monkeypatch: pytest.MonkeyPatch, config: Path) -> None:
    """Point DynamoDB's calls at url the way an operator's shell or profile may, unknowingly."""
    if source.startswith("AWS_ENDPOINT_URL"):
        monkeypatch.setenv(source, url)
        return
    setting, services = f"endpoint_url = {url}\n", ""
    if source == "profile services":  # a section of per-service settings the profile names
        setting, services = "services = redirected\n", f"\n[services redirected]\ndynamodb =\n  endpoint_url = {url}\n"
    # The default profile (credentials in the environment) and the named one (AWS_PROFILE=prod) alike.
    config.write_text(f"[default]\n{setting}\n[profile prod]\nregion = {REGION}\n{setting}{services}")


@pytest.mark.parametrize("source", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "profile", "profile services"])
@pytest.mark.parametrize("plain", [True, False], ids=["plain-http", "https-not-aws"])
def test_no_setting_sends_your_credentials_anywhere_but_aws_over_https(
    run, recorder: Recorder, operator_credentials, monkeypatch, tmp_path, source, plain
):
    endpoint = recorder.url if plain else recorder.url.replace("http", "https", 1)
    configure_endpoint(source, endpoint, monkeypatch, tmp_path / "config")

    result = run("lookup", "--region", REGION, "--table", "t", "--center", CENTER_A)

    assert result.code == 2
    assert result.err.startswith(
        "error: AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL or your AWS profile's endpoint_url sends DynamoDB calls "
        f"to {endpoint}, which is not AWS's own DynamoDB endpoint in us-east-1 over https"
    )
    assert recorder.requests == []


def test_a_redirected_cloudformation_cannot_choose_the_table(
    run, recorder: Recorder, operator_credentials, monkeypatch
):
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", recorder.url)  # would answer forged stack outputs

    result = run("lookup", "--region", REGION, "--center", CENTER_A)

    assert result.code == 2
    assert f"sends CloudFormation calls to {recorder.url}, which is not AWS's own CloudFormation endpoint" in result.err
    assert recorder.requests == []


# Hosts under amazonaws.com that anyone can own, answering whatever they like; and AWS's own, but elsewhere.
NOT_THE_SERVICE = {
    "an API Gateway API of anyone's": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
    "a bucket of anyone's": "https://forged-outputs.s3.us-east-1.amazonaws.com",
    "a VPC endpoint service of anyone's": "https://vpce-0a1b2c3d-abcdefgh.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com",
    "the service in another region": "https://cloudformation.eu-west-1.amazonaws.com",
    "another service": "https://sts.us-east-1.amazonaws.com",
    "the service with user info": "https://user@cloudformation.us-east-1.amazonaws.com",
    "the service on another port": "https://cloudformation.us-east-1.amazonaws.com:8443",
}


@pytest.mark.parametrize("endpoint", NOT_THE_SERVICE.values(), ids=NOT_THE_SERVICE.keys())
def test_an_endpoint_under_amazonaws_com_is_not_enough(run, operator_credentials, monkeypatch, endpoint):
    # An execute-api host answering DescribeStacks would choose the tables, the topic, and where
    # `held redrive` sends the token.
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", endpoint)

    result = run("held", "redrive", "0" * 64, "--region", REGION)

    assert result.code == 2
    assert result.err == (
        "error: AWS_ENDPOINT_URL_CLOUDFORMATION, AWS_ENDPOINT_URL or your AWS profile's endpoint_url sends "
        f"CloudFormation calls to {endpoint}, which is not AWS's own CloudFormation endpoint in us-east-1 over https, "
        "and your AWS credentials would be sent there; for an emulator add --local (dummy credentials)\n"
    )


@pytest.mark.parametrize(
    ("region", "endpoint"),
    [
        (REGION, "https://dynamodb.us-east-1.amazonaws.com"),
        (REGION, "https://dynamodb.us-east-1.amazonaws.com/"),
        (REGION, "https://dynamodb-fips.us-east-1.amazonaws.com"),
        (REGION, "https://dynamodb.us-east-1.api.aws"),  # dual-stack (IPv6)
        ("us-gov-west-1", "https://dynamodb.us-gov-west-1.amazonaws.com"),
        ("cn-north-1", "https://dynamodb.cn-north-1.amazonaws.com.cn"),
    ],
)
def test_an_endpoint_botocore_resolves_for_the_region_is_accepted(region, endpoint):
    options = TargetOptions(region=region, endpoint_url=endpoint)

    client = connect(options).client("dynamodb")

    assert client.meta.endpoint_url == endpoint


def test_aws_endpoint_variables_of_aws_itself_are_accepted(operator_credentials, monkeypatch):
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true")  # a FIPS shop: botocore's own choice, and so ours
    monkeypatch.setenv("AWS_ENDPOINT_URL_SNS", "https://sns.us-east-1.amazonaws.com")

    aws = connect(TargetOptions(region=REGION))

    assert aws.client("dynamodb").meta.endpoint_url == "https://dynamodb-fips.us-east-1.amazonaws.com"
    assert aws.client("sns").meta.endpoint_url == "https://sns.us-east-1.amazonaws.com"


# --- A network that does not reach AWS ------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["lookup", "--table", "t", "--center", CENTER_A],
        ["held", "list"],  # its first call: CloudFormation, for the table's name
        ["token", "rotate", "--secret-id", "arn:aws:secretsmanager:us-east-1:123456789012:secret:t"],  # no --local
    ],
    ids=["lookup", "held list", "token rotate"],
)
def test_no_route_to_aws_is_said_to_be_the_network(run, operator_credentials, monkeypatch, command):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # one failed connection is enough to say it

    def no_dns(*_: object, **__: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)

    result = run(*command, "--region", REGION)

    assert result.code == 2
    assert result.err.startswith(
        "error: AWS cannot be reached: the network (connection, DNS, proxy or firewall), not your credentials: "
        'Could not connect to the endpoint URL: "https://'
    )
    assert len(result.err.splitlines()) == 1


def test_a_name_the_local_stack_does_not_have_is_a_one_line_error():
    with pytest.raises(OperatorError) as refused:
        resolve_deployment(TargetOptions(local=True), {SECRET_OUTPUT: None})

    assert str(refused.value) == "the local stack has no WebhookTokenSecretArn; pass --secret-id"


def test_the_local_stacks_parameters_are_the_templates_defaults():
    template = load_template()

    assert {name: str(parameter_default(template, name)) for name in LOCAL_PARAMETERS} == LOCAL_PARAMETERS
