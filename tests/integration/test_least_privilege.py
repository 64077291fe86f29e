"""Each function is granted exactly the AWS calls its code makes: none missing, none to spare.

moto enforces no IAM, so the calls are recorded as the real handlers make them (a new event, a
duplicate, a held body; the publisher, and Lambda's mapping of the stream with the publisher's role,
reading, publishing and giving up) and set against template.yaml.
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from devtools.local_stack.template import load_template
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
        resources.stream_arn: {"Fn::GetAtt": ["EventsTable", "StreamArn"]},
        f"{resources.table_name}/stream/*": {"Fn::Sub": "${EventsTable.Arn}/stream/*"},
        resources.publication_failures_queue_url: {"Fn::GetAtt": ["PublicationFailuresQueue", "Arn"]},
        resources.held_table_name: {"Fn::GetAtt": ["HeldBodiesTable", "Arn"]},
        resources.topic_arn: {"Ref": "EventsTopic"},
        "zenoti-local-webhook-token": {"Ref": "WebhookTokenSecret"},
    }
    made: dict[str, Any] = {"now": None}

    def record(params: dict[str, Any], event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".")
        target = (
            params.get("StreamArn")
            or params.get("TableName")
            or params.get("TopicArn")
            or params.get("SecretId")
            or params.get("QueueUrl")
        )
        if "IndexName" in params:
            target = f"{target}/index/{params['IndexName']}"
        if "ShardIterator" in params:  # an iterator of the table's one stream
            target = resources.stream_arn
        if operation == "ListStreams":  # IAM names the table's streams, whichever
            target = f"{target}/stream/*"
        action = {
            "dynamodb": "dynamodb",
            "dynamodb-streams": "dynamodb",  # IAM's prefix for the streams' API too
            "sns": "sns",
            "secrets-manager": "secretsmanager",
            "sqs": "sqs",
        }[service]
        iam = IAM_ACTION.get(f"{action}:{operation}", f"{action}:{operation}")
        made.setdefault(made["now"], set()).add((iam, json.dumps(names[target])))

    boto3.DEFAULT_SESSION.events.register("before-parameter-build", record)
    return made


def as_grants(made: set[tuple[str, str]]) -> dict[str, set[str]]:
    grants: dict[str, set[str]] = {}
    for action, target in made:
        grants.setdefault(target, set()).add(action)
    return grants


def test_each_function_is_granted_exactly_what_it_calls(calls, invoke, stack: Stack, api_event):
    calls["now"] = "ReceiverFunction"
    invoke(api_event)  # the secret, the put
    invoke(api_event)  # a duplicate
    invoke(load_event("apigw_invalid_body.json"))  # a held body
    calls["now"] = "PublisherFunction"  # its code, and Lambda's mapping of the stream, with its role
    stack.publish()  # the stream read, the publish
    stack.faults.fail("sns", "Publish")
    calls["now"] = "ReceiverFunction"
    invoke(event_with_id(api_event, "never-published"))
    calls["now"] = "PublisherFunction"
    stack.publish()
    stack.stream.clock = lambda: time.time() + 25 * 3600
    stack.publish()  # older than the stream keeps: Lambda gives it up, to the failure queue

    template = load_template()
    for function in ("ReceiverFunction", "PublisherFunction"):
        assert as_grants(calls[function]) == granted(template, function), function
