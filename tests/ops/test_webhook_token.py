"""python -m ops token: rotating the webhook token without losing events, against the receiver in moto."""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from devtools.local_stack.resources import LOCAL_TOKEN, REGION
from ops import webhook_token
from ops.cli import main
from ops.errors import OperatorError
from tests.conftest import Stack
from tests.ops.test_target import deploy

WEBHOOK_URL = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/zenoti/webhook"
PRINT_TOKEN_COMMAND = "aws secretsmanager get-secret-value --secret-id the-secret ..."


def secret_value(stack: Stack) -> dict[str, Any]:
    secrets = boto3.client("secretsmanager", region_name=REGION)
    return json.loads(secrets.get_secret_value(SecretId=stack.resources.secret_arn)["SecretString"])


@pytest.fixture
def deployed(stack: Stack) -> None:
    deploy(
        "zenoti-webhooks",
        {
            "EventsTableName": stack.resources.table_name,
            "WebhookUrl": WEBHOOK_URL,
            "WebhookTokenSecretArn": stack.resources.secret_arn,
            "PrintTokenCommand": PRINT_TOKEN_COMMAND,
        },
    )


@pytest.fixture
def no_token_cache(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_CACHE_SECONDS", "0")  # the receiver reads every change at once


def delivery(api_event: dict[str, Any], token: str, event_id: str) -> dict[str, Any]:
    event = copy.deepcopy(api_event)
    payload = json.loads(event["body"])
    payload["event_id"] = event_id
    event["body"] = json.dumps(payload)
    event["requestContext"]["requestId"] = event_id
    event["queryStringParameters"] = {"token": token}
    return event


def test_a_rotation_keeps_zenotis_url_working_until_the_previous_token_is_dropped(
    run, deployed, no_token_cache, stack: Stack, invoke, api_event
):
    rotated = run("token", "rotate")

    assert rotated.code == 0, rotated.err
    new = secret_value(stack)["token"]
    assert secret_value(stack) == {"token": new, "previous_token": LOCAL_TOKEN}
    assert len(new) == 48
    assert new not in rotated.out + rotated.err  # printed only when asked
    assert PRINT_TOKEN_COMMAND in rotated.out  # how to read it
    assert f"{WEBHOOK_URL}?token=<the new token>" in rotated.out
    assert invoke(delivery(api_event, LOCAL_TOKEN, "old-url")).status == 200  # Zenoti's URL as it is
    assert invoke(delivery(api_event, new, "new-url")).status == 200

    dropped = run("token", "drop-previous")

    assert dropped.code == 0, dropped.err
    assert secret_value(stack) == {"token": new}
    assert invoke(delivery(api_event, LOCAL_TOKEN, "old-url-later")).status == 401
    assert invoke(delivery(api_event, new, "new-url-later")).status == 200


def test_the_next_steps_name_the_stack_or_secret_that_was_rotated(run, deployed, stack: Stack):
    # Pasted as printed, the last step must finish this rotation, not one of the default stack.
    by_stack = run("token", "rotate", "--stack-name", "zenoti-webhooks", "--region", REGION)
    assert by_stack.code == 0, by_stack.err
    assert f"python -m ops token drop-previous --stack-name zenoti-webhooks --region {REGION}\n" in by_stack.out
    assert run("token", "drop-previous").code == 0

    by_secret = run("token", "rotate", "--secret-id", stack.resources.secret_arn, "--region", REGION)
    assert by_secret.code == 0, by_secret.err
    assert f"ops token drop-previous --secret-id {stack.resources.secret_arn} --region {REGION}\n" in by_secret.out


def test_the_new_url_is_printed_when_asked(run, deployed, stack: Stack):
    rotated = run("token", "rotate", "--print-url")

    assert rotated.code == 0, rotated.err
    assert rotated.out.splitlines()[-1] == f"{WEBHOOK_URL}?token={secret_value(stack)['token']}"


def test_each_rotation_generates_a_new_url_safe_token(run, stack: Stack):
    tokens = set()
    for _ in range(3):
        assert run("token", "rotate", "--secret-id", stack.resources.secret_arn, "--region", REGION).code == 0
        tokens.add(secret_value(stack)["token"])
        assert run("token", "drop-previous", "--secret-id", stack.resources.secret_arn, "--region", REGION).code == 0

    assert len(tokens) == 3
    assert all(token.replace("-", "").replace("_", "").isalnum() for token in tokens)


def test_a_second_rotation_before_the_first_is_finished_is_refused(run, deployed, stack: Stack):
    assert run("token", "rotate").code == 0
    during = secret_value(stack)

    again = run("token", "rotate")

    assert again.code == 2
    assert again.err.startswith("error: a rotation is under way")
    assert len(again.err.splitlines()) == 1
    assert secret_value(stack) == during  # Zenoti's token (previous_token) is still accepted


def test_force_rotates_even_then_keeping_the_token_in_force(run, deployed, stack: Stack):
    assert run("token", "rotate").code == 0
    in_force = secret_value(stack)["token"]

    forced = run("token", "rotate", "--force")

    assert forced.code == 0, forced.err
    assert secret_value(stack)["previous_token"] == in_force


def test_a_malformed_secret_is_never_shown_and_replaced_only_with_force(run, deployed, stack: Stack):
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=stack.resources.secret_arn, SecretString="bare-token-written-by-hand"
    )

    refused = run("token", "rotate")
    forced = run("token", "rotate", "--force")

    assert refused.code == 2
    assert "bare-token-written-by-hand" not in refused.err + forced.out + forced.err
    assert forced.code == 0, forced.err
    assert list(secret_value(stack)) == ["token"]


def test_dropping_without_a_rotation_changes_nothing(run, deployed, stack: Stack):
    def versions() -> list[tuple[str, list[str]]]:
        # Ids and stages: what a write changes (moto's dates move with the clock between two reads).
        listed = boto3.client("secretsmanager", region_name=REGION).list_secret_version_ids(
            SecretId=stack.resources.secret_arn
        )
        return [(version["VersionId"], version["VersionStages"]) for version in listed["Versions"]]

    before = versions()

    result = run("token", "drop-previous")

    assert result.code == 0
    assert "holds no previous_token" in result.out
    assert versions() == before


def test_the_token_is_never_taken_on_the_command_line():
    with pytest.raises(SystemExit) as refused:
        main(["token", "rotate", "--token", "chosen-by-hand"])

    assert refused.value.code == 2  # argparse: no such option


def test_a_stack_without_the_secret_output_is_a_one_line_error(run, stack: Stack):
    deploy("zenoti-webhooks", {"EventsTableName": stack.resources.table_name})

    result = run("token", "rotate")

    assert result.code == 2
    assert result.err == (
        "error: stack zenoti-webhooks in us-east-1 (CREATE_COMPLETE) has no output WebhookTokenSecretArn; "
        "is it this project's stack, fully deployed? Or pass --secret-id\n"
    )


def test_a_secret_that_refuses_the_change_says_who_may_make_it(stack: Stack):
    # What the secret's resource policy answers a principal that is not one of TokenAdminPrincipalArns
    # (moto enforces no resource policy: the refusal replaces the call, as Secrets Manager answers it).
    def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Code": "AccessDeniedException", "Message": "explicit deny in a resource-based policy"}
        return AWSResponse("https://aws.invalid", 400, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    secretsmanager = boto3.client("secretsmanager", region_name=REGION)
    secretsmanager.meta.events.register_first("before-call.secrets-manager.PutSecretValue", refuse)
    target = webhook_token.TokenTarget(stack.resources.secret_arn, secretsmanager, WEBHOOK_URL, PRINT_TOKEN_COMMAND)
    before = secret_value(stack)

    with pytest.raises(OperatorError) as refused:
        webhook_token.rotate(target, io.StringIO())

    assert "only those principals change the token: run this as one of them" in str(refused.value)
    assert str(refused.value).endswith("Nothing was changed")
    assert secret_value(stack) == before
