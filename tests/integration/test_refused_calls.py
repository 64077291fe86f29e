"""AWS refusing a call of ours (access denied) is our bug, answered 500 and alarmed as one, not an outage.

moto enforces no IAM: the refusal replaces the call, as DynamoDB answers it, before moto sees it.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from devtools.local_stack.resources import local_stack_name
from tests.conftest import Stack, load_event
from tests.integration.test_handler import emitted_metrics


@pytest.fixture
def access_denied(stack: Stack) -> Any:
    """Make one call of the function's answer AccessDeniedException, as IAM refuses it: `deny("dynamodb.PutItem")`."""
    denied: set[str] = set()

    def refuse(event_name: str, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if event_name.split(".", 1)[1] not in denied:
            return None
        error = {
            "Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform this action"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://aws.invalid", 400, {}, None), error

    # On the session the function's clients are created from (the handler is imported after this).
    boto3.DEFAULT_SESSION.events.register_first("before-call", refuse)
    return denied.add


@pytest.mark.parametrize(
    ("operation", "event"),
    [("dynamodb.PutItem", "apigw_booking_deleted.json"), ("dynamodb.UpdateItem", "apigw_invalid_body.json")],
    ids=["storing the event", "holding the body"],
)
def test_a_call_aws_refuses_is_a_500_and_an_unexpected_error(
    access_denied, invoke, stack: Stack, capsys, logs, operation, event
):
    access_denied(operation)

    answered = invoke(load_event(event))

    assert answered.status == 500
    assert answered.body["reason"] == "temporarily_unavailable"  # Zenoti retries it, as any 5xx
    metrics = [name for name, _ in emitted_metrics(capsys.readouterr().out)]
    assert "UnexpectedErrors" in metrics  # UnexpectedErrorsAlarm, whose runbook says: a bug of ours
    assert "DependencyFailures" not in metrics  # not ServerErrorsAlarm's "AWS is failing"
    [line] = [line for line in logs() if line["level"] == "ERROR"]
    assert line["message"] == "Unexpected error (a bug in the receiver); Zenoti will retry"
    assert "AccessDeniedException" in line["exception"]
    assert stack.items() == []
    assert stack.messages() == []


def test_a_revoked_token_secret_stays_a_503(access_denied, invoke, stack: Stack, capsys):
    # Denying the secret is how an operator revokes the token (docs/security.md): an answer of "not stored,
    # send it again" once it is restored, counted against the secret, not a bug of ours.
    access_denied("secrets-manager.GetSecretValue")

    answered = invoke(load_event("apigw_booking_deleted.json"))

    assert answered.status == 503
    failures = [dims for name, dims in emitted_metrics(capsys.readouterr().out) if name == "DependencyFailures"]
    assert failures == [{"service": local_stack_name(), "dependency": "secret"}]
