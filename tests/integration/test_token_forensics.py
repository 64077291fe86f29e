"""Which token stored each event and held each body: recorded, so that after a leak it can be traced."""

from __future__ import annotations

import json

import boto3

from devtools.local_stack.resources import LOCAL_TOKEN, REGION, local_stack_name
from tests.conftest import Stack, load_event, with_body
from tests.integration.test_handler import emitted_metrics
from tests.reliability.test_faults_and_concurrency import event_with_id


def secret_version(stack: Stack) -> str:
    secrets = boto3.client("secretsmanager", region_name=REGION)
    return str(secrets.get_secret_value(SecretId=stack.resources.secret_arn)["VersionId"])


def test_each_event_and_held_body_records_the_token_slot_and_the_secrets_version(invoke, stack: Stack, api_event):
    version = secret_version(stack)

    assert invoke(api_event).status == 200
    assert invoke(load_event("apigw_invalid_body.json")).status == 202

    [item] = stack.items()
    [entry] = stack.held_bodies()
    assert item["token_used"] == {"S": f"current:{version}"}
    assert entry["token_used"] == {"S": f"current:{version}"}


def test_during_a_rotation_the_previous_token_is_recorded_as_such(invoke, stack: Stack, api_event, monkeypatch):
    secrets = boto3.client("secretsmanager", region_name=REGION)
    rotated = secrets.put_secret_value(
        SecretId=stack.resources.secret_arn,
        SecretString=json.dumps({"token": "new-token", "previous_token": LOCAL_TOKEN}),
    )["VersionId"]

    assert invoke(event_with_id(api_event, "old-url")).status == 200  # Zenoti's URL still has the old token
    new_url = event_with_id(api_event, "new-url")
    new_url["queryStringParameters"] = {"token": "new-token"}
    assert invoke(new_url).status == 200

    slots = {item["event_id"]["S"]: item["token_used"]["S"] for item in stack.items()}
    assert slots == {"old-url": f"previous:{rotated}", "new-url": f"current:{rotated}"}


def test_a_conflicting_duplicate_has_its_own_metric(invoke, api_event, capsys):
    invoke(api_event)
    invoke(with_body(api_event, api_event["body"].replace("119986", "119987")))  # another body, the same id
    invoke(api_event)  # a redelivery: no conflict

    emitted = emitted_metrics(capsys.readouterr().out)
    conflicts = [dimensions for name, dimensions in emitted if name == "ConflictingDuplicates"]
    # The series ConflictingDuplicatesAlarm watches, once (the invocation's document also counts it by type).
    assert conflicts.count({"service": local_stack_name()}) == 1
    assert all(dimensions.get("event_type") == "Class.Booking.Deleted" for dimensions in conflicts[1:])
