"""Each function is granted exactly the AWS calls its code makes: none missing, none to spare.

moto enforces no IAM, so the calls are recorded as the real handlers make them (a new event, a
duplicate, a refused body, a failed publish, the stack publishing it) and set against template.yaml.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from local_stack.template import load_template
from tests.conftest import Stack, load_event
from tests.reliability.test_faults_and_concurrency import event_with_id
from tests.unit.test_template import granted

# IAM's name for each call where it differs from the API's.
IAM_ACTION = {"sns:PublishBatch": "sns:Publish"}


@pytest.fixture
def calls(stack: Stack) -> dict[str, set[tuple[str, str]]]:
    """(IAM action, template resource) of every call, by the function making it: set `calls["now"]` first."""
    resources = stack.resources
    names = {
        resources.table_name: {"Fn::GetAtt": ["EventsTable", "Arn"]},
        f"{resources.table_name}/index/pending": {"Fn::Sub": "${EventsTable.Arn}/index/pending"},
        resources.quarantine_table_name: {"Fn::GetAtt": ["QuarantineTable", "Arn"]},
        resources.topic_arn: {"Ref": "EventsTopic"},
        "zenoti-local-webhook-token": {"Ref": "WebhookTokenSecret"},
    }
    made: dict[str, Any] = {"now": None}

    def record(params: dict[str, Any], event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".")
        target = params.get("TableName") or params.get("TopicArn") or params.get("SecretId")
        if "IndexName" in params:
            target = f"{target}/index/{params['IndexName']}"
        action = {"dynamodb": "dynamodb", "sns": "sns", "secrets-manager": "secretsmanager"}[service]
        iam = IAM_ACTION.get(f"{action}:{operation}", f"{action}:{operation}")
        made.setdefault(made["now"], set()).add((iam, json.dumps(names[target])))

    boto3.DEFAULT_SESSION.events.register("before-parameter-build", record)
    return made


def as_grants(made: set[tuple[str, str]]) -> dict[str, set[str]]:
    grants: dict[str, set[str]] = {}
    for action, target in made:
        grants.setdefault(target, set()).add(action)
    return grants


def test_each_function_is_granted_exactly_what_it_calls(
    calls, invoke, publish_pending: Callable[..., Any], stack: Stack, api_event
):
    calls["now"] = "ReceiverFunction"
    invoke(api_event)  # the secret, the put, the publish, the record
    invoke(api_event)  # a duplicate
    invoke(load_event("apigw_invalid_body.json"))  # the quarantine
    stack.faults.fail("sns", "Publish")
    invoke(event_with_id(api_event, "pending"))
    stack.faults.clear()
    calls["now"] = "PendingPublisherFunction"
    publish_pending()  # the pending index, the claim, the batch, the record

    template = load_template()
    for function in ("ReceiverFunction", "PendingPublisherFunction"):
        assert as_grants(calls[function]) == granted(template, function), function
