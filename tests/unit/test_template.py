"""template.yaml promises that matter at run time, checked where a linter cannot see them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local_stack.template import load_template, resource
from zenoti_receiver.logic.receiving import CLAIM_SECONDS

ZENOTI_TIMEOUT_SECONDS = 10
ZENOTI_SHORTEST_RETRY_GAP_SECONDS = 30


@pytest.fixture(scope="module")
def template():
    return load_template()


def function(template):
    return resource(template, "ReceiverFunction")["Properties"]


def test_function_answers_within_zenotis_wait_and_the_claim_covers_it(template):
    timeout = function(template)["Timeout"]

    assert timeout < ZENOTI_TIMEOUT_SECONDS
    assert timeout < CLAIM_SECONDS < ZENOTI_SHORTEST_RETRY_GAP_SECONDS


def test_runtime_and_architecture(template):
    assert template["Globals"]["Function"]["Runtime"] == "python3.13"
    assert template["Globals"]["Function"]["Architectures"] == ["arm64"]


def test_post_put_and_patch_reach_the_function_on_one_path(template):
    events = function(template)["Events"].values()

    assert sorted(event["Properties"]["Method"] for event in events) == ["PATCH", "POST", "PUT"]
    assert {event["Properties"]["Path"] for event in events} == {"/zenoti/class-booking-deleted"}
    assert all(event["Type"] == "HttpApi" for event in events)


def granted(template: dict[str, Any], logical_id: str) -> dict[str, set[str]]:
    """What a function may do, by resource: its policy statements, which must be all it has."""
    policies = resource(template, logical_id)["Properties"]["Policies"]
    assert [list(policy) for policy in policies] == [["Statement"]]  # no SAM policy template, no managed policy
    actions: dict[str, set[str]] = {}
    for statement in policies[0]["Statement"]:
        assert statement["Effect"] == "Allow"
        listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        actions.setdefault(json.dumps(statement["Resource"], sort_keys=True), set()).update(listed)
    return actions


def test_the_receiver_may_make_only_the_calls_its_code_makes(template):
    assert granted(template, "ReceiverFunction") == {
        json.dumps({"Fn::GetAtt": ["EventsTable", "Arn"]}): {"dynamodb:PutItem", "dynamodb:UpdateItem"},
        json.dumps({"Fn::GetAtt": ["QuarantineTable", "Arn"]}): {"dynamodb:UpdateItem"},
        json.dumps({"Ref": "EventsTopic"}): {"sns:Publish"},
        json.dumps({"Ref": "WebhookTokenSecret"}): {"secretsmanager:GetSecretValue"},
    }


def test_the_publisher_of_pending_events_may_only_read_the_pending_index_claim_record_and_publish(template):
    assert granted(template, "PendingPublisherFunction") == {
        json.dumps({"Fn::Sub": "${EventsTable.Arn}/index/pending"}): {"dynamodb:Query"},
        json.dumps({"Fn::GetAtt": ["EventsTable", "Arn"]}): {"dynamodb:UpdateItem"},
        json.dumps({"Ref": "EventsTopic"}): {"sns:Publish"},
    }


def test_the_publisher_of_pending_events_runs_every_minute_one_at_a_time(template):
    publisher = resource(template, "PendingPublisherFunction")["Properties"]
    [schedule] = publisher["Events"].values()

    assert (schedule["Type"], schedule["Properties"]["ScheduleExpression"]) == ("ScheduleV2", "rate(1 minute)")
    assert schedule["Properties"]["RetryPolicy"] == {"MaximumRetryAttempts": 0}
    assert publisher["ReservedConcurrentExecutions"] == 1
    assert publisher["EventInvokeConfig"]["MaximumRetryAttempts"] == 0
    assert publisher["Handler"] == "zenoti_receiver.pending_handler.lambda_handler"
    # A run stops taking batches SECONDS_PER_BATCH before its timeout.
    assert publisher["Timeout"] >= 60


def test_access_log_format_cannot_leak_the_token(template):
    api = resource(template, "WebhookApi")["Properties"]
    log_format = api["AccessLogSettings"]["Format"]

    assert "queryString" not in log_format
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}


@pytest.mark.parametrize("logical_id", ["EventsTable", "QuarantineTable"])
def test_tables_are_kept_encrypted_and_recoverable(template, logical_id):
    table = resource(template, logical_id)
    properties = table["Properties"]

    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_events_table_indexes_list_deletions_in_time_order(template):
    properties = resource(template, "EventsTable")["Properties"]
    indexes = {index["IndexName"]: index["KeySchema"] for index in properties["GlobalSecondaryIndexes"]}
    assert indexes == {
        "by_center": [
            {"AttributeName": "center_id", "KeyType": "HASH"},
            {"AttributeName": "occurred_at", "KeyType": "RANGE"},
        ],
        "by_guest": [
            {"AttributeName": "guest_id", "KeyType": "HASH"},
            {"AttributeName": "occurred_at", "KeyType": "RANGE"},
        ],
        "pending": [
            {"AttributeName": "pending_shard", "KeyType": "HASH"},
            {"AttributeName": "received_at", "KeyType": "RANGE"},
        ],
    }
    # Keys only: recording a publication then rewrites no index entry but the pending one it removes.
    assert {index["Projection"]["ProjectionType"] for index in properties["GlobalSecondaryIndexes"]} == {"KEYS_ONLY"}


def test_topic_is_encrypted_and_refuses_publishing_without_tls(template):
    assert resource(template, "EventsTopic")["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"
    [statement] = resource(template, "EventsTopicPolicy")["Properties"]["PolicyDocument"]["Statement"]

    assert statement["Effect"] == "Deny"
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_secret_is_generated_as_url_safe_json_token(template):
    generated = resource(template, "WebhookTokenSecret")["Properties"]["GenerateSecretString"]

    assert generated["SecretStringTemplate"] == "{}"
    assert generated["GenerateStringKey"] == "token"
    assert generated["ExcludePunctuation"] is True
    assert generated["PasswordLength"] >= 32


def test_outputs_give_the_user_everything_to_configure_zenoti(template):
    outputs = template["Outputs"]

    assert set(outputs) >= {
        "WebhookUrl",
        "EventsTableName",
        "QuarantineTableName",
        "EventsTopicArn",
        "WebhookTokenSecretArn",
        "PrintTokenCommand",
    }
    assert "aws secretsmanager get-secret-value" in outputs["PrintTokenCommand"]["Value"]["Fn::Sub"]
