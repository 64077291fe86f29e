"""Listing the quarantine and re-driving a kept body through the webhook once the cause is fixed."""

from __future__ import annotations

import hashlib
import json
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import boto3

from local_stack.resources import LOCAL_TOKEN, REGION, local_names
from tests.conftest import Stack, load_event, stored_payload, with_body
from tests.ops.test_target import deploy

INVALID = load_event("apigw_invalid_body.json")


def test_list_shows_each_body_once_with_its_delivery_count(run, stack: Stack, invoke, api_event):
    invoke(INVALID)
    invoke(INVALID)
    invoke(with_body(api_event, "{not json"))
    table = ["--table", stack.resources.quarantine_table_name]

    listed = run("quarantine", "list", *table)
    as_json = run("quarantine", "list", *table, "--format", "jsonl")

    assert listed.code == 0, listed.err
    header, *rows, count = listed.out.splitlines()
    assert header.split() == ["body_sha256", "state", "reason", "deliveries", "first_seen", "last_seen", "body_bytes"]
    assert count == "(2 quarantined bodies)"
    by_reason = {row.split()[2]: row.split() for row in rows}
    assert by_reason["invalid_event"][3] == "2"
    assert by_reason["malformed_body"][3] == "1"
    entries = {entry["reason"]: entry for entry in map(json.loads, as_json.out.splitlines())}
    assert entries["invalid_event"]["body"] == INVALID["body"]
    assert {error["field"] for error in entries["invalid_event"]["errors"]} == {"data.guest_id", "data.registration_id"}
    assert entries["malformed_body"]["body"] == "{not json"


def test_the_quarantine_table_comes_from_the_stack_outputs(run, stack: Stack, invoke):
    invoke(INVALID)
    deploy(
        "zenoti-booking-deleted",
        {
            "EventsTableName": stack.resources.table_name,
            "QuarantineTableName": stack.resources.quarantine_table_name,
            "EventsTopicArn": stack.resources.topic_arn,
        },
    )

    listed = run("quarantine", "list")

    assert listed.code == 0, listed.err
    assert listed.out.splitlines()[-1] == "(1 quarantined body)"


def test_redriving_an_unknown_body_is_a_one_line_error(run, stack: Stack):
    result = run("quarantine", "redrive", "0" * 64, "--local", "--endpoint-url", "http://127.0.0.1:1")

    assert result.code == 2
    assert result.err.startswith("error: ")
    assert len(result.err.splitlines()) == 1


def post(url: str, body: bytes) -> int:
    request = Request(f"{url}?token={LOCAL_TOKEN}", data=body, method="POST")
    try:
        with urlopen(request, timeout=10) as response:
            return int(response.status)
    except HTTPError as error:
        return error.code


def test_redrive_through_the_local_webhook(run, served, raw_payload):
    webhook, emulator = served
    local = ["--local", "--endpoint-url", emulator]
    through = [*local, "--webhook-url", webhook]
    client_options = {"endpoint_url": emulator, "region_name": REGION}
    credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    dynamodb = boto3.client("dynamodb", **client_options, **credentials)
    quarantine_table = local_names().quarantine_table_name

    # Zenoti sends a body the receiver refuses: it is kept.
    refused = INVALID["body"].encode()
    assert post(webhook, refused) == 422
    refused_key = hashlib.sha256(refused).hexdigest()
    assert refused_key in run("quarantine", "list", *local).out

    # Re-driving it before the cause is fixed: refused again, still kept, counted.
    again = run("quarantine", "redrive", refused_key, *through)
    assert again.code == 1
    assert "HTTP 422" in again.out
    entry = dynamodb.get_item(TableName=quarantine_table, Key={"body_sha256": {"S": refused_key}})["Item"]
    assert (entry["state"]["S"], entry["deliveries"]["N"]) == ("quarantined", "2")

    # A body an older model refused and the current one accepts (the cause was fixed).
    fixed = raw_payload.encode()
    fixed_key = hashlib.sha256(fixed).hexdigest()
    dynamodb.put_item(
        TableName=quarantine_table,
        Item={"body_sha256": {"S": fixed_key}, "body": {"B": fixed}, "state": {"S": "quarantined"}},
    )

    redriven = run("quarantine", "redrive", fixed_key, *through)

    assert redriven.code == 0, redriven.err
    assert '"status": "accepted"' in redriven.out
    entry = dynamodb.get_item(TableName=quarantine_table, Key={"body_sha256": {"S": fixed_key}})["Item"]
    assert entry["state"] == {"S": "redriven"}
    stored = dynamodb.get_item(
        TableName=local_names().table_name, Key={"event_id": {"S": json.loads(fixed)["event_id"]}}
    )
    assert stored_payload(stored["Item"]) == raw_payload
