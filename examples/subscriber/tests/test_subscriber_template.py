"""The example's template.yaml: the promises the code relies on and a linter cannot see."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from booking_subscriber.settings import Settings
from conftest import EXAMPLE
from subscriber_local.function_code import FUNCTION_CODE
from subscriber_local.template import load_template, properties


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def test_the_queue_subscribes_to_the_topic_given_as_a_parameter_and_gets_the_sns_envelope(template):
    subscription = properties(template, "Subscription")

    assert subscription["TopicArn"] == {"Ref": "EventsTopicArn"}
    assert subscription["Endpoint"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert subscription["Protocol"] == "sqs"
    # The handler parses an SNS notification (messages.py); raw delivery would hand it Zenoti's body alone.
    assert subscription["RawMessageDelivery"] is False
    assert "Default" not in template["Parameters"]["EventsTopicArn"]  # deploying asks for it


def test_only_the_receivers_topic_may_send_to_the_queue(template):
    policy = properties(template, "QueuePolicy")
    [statement] = policy["PolicyDocument"]["Statement"]

    assert policy["Queues"] == [{"Ref": "Queue"}]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "EventsTopicArn"}}}


def test_failing_messages_move_to_the_dead_letter_queue_which_keeps_them_longer(template):
    queue, dead_letters = properties(template, "Queue"), properties(template, "DeadLetterQueue")

    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "MaxReceiveCount"},
    }
    # A moved message keeps its first enqueue time: the dead-letter queue must outlast the queue.
    assert dead_letters["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]
    assert queue["SqsManagedSseEnabled"] is dead_letters["SqsManagedSseEnabled"] is True


def test_a_message_is_not_delivered_again_while_the_function_may_still_run(template):
    timeout = template["Globals"]["Function"]["Timeout"]

    # AWS's advice for SQS event sources: a visibility timeout of at least 6 times the function's timeout.
    assert properties(template, "Queue")["VisibilityTimeout"] >= 6 * timeout


def test_the_function_reports_failed_messages_one_by_one(template):
    function = properties(template, "SubscriberFunction")
    [source] = function["Events"].values()

    assert source["Type"] == "SQS"
    assert source["Properties"]["Queue"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_function_is_python_313_on_arm64_and_its_handler_exists(template):
    function = properties(template, "SubscriberFunction")
    module, _, name = function["Handler"].rpartition(".")

    assert template["Globals"]["Function"]["Runtime"] == "python3.13"
    assert template["Globals"]["Function"]["Architectures"] == ["arm64"]
    assert function["CodeUri"] == "src/"
    spec = importlib.util.find_spec(module)
    assert spec is not None
    assert spec.origin is not None
    assert spec.origin.startswith(str(FUNCTION_CODE))
    assert f"def {name}(" in Path(spec.origin).read_text(encoding="utf-8")


def test_the_template_sets_every_variable_the_function_requires(template):
    variables = properties(template, "SubscriberFunction")["Environment"]["Variables"]
    parameters = template["Parameters"]
    # Each value as deployed with the defaults: a parameter's default, anything else (a table name) "x".
    deployed = {
        name: str(parameters[value["Ref"]]["Default"])
        if isinstance(value, dict) and value.get("Ref") in parameters
        else "x"
        for name, value in variables.items()
    }

    Settings.from_environment(deployed)  # raises, naming what is missing or invalid
    assert variables["IDEMPOTENCY_DAYS"] == {"Ref": "IdempotencyDays"}


def test_permissions_are_scoped_to_the_two_tables(template):
    policies = properties(template, "SubscriberFunction")["Policies"]

    assert policies[0] == {"DynamoDBWritePolicy": {"TableName": {"Ref": "DeletionsTable"}}}
    [statement] = policies[1]["Statement"]
    assert statement["Resource"] == {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}
    # What Powertools' DynamoDB persistence layer calls, and nothing more.
    assert sorted(statement["Action"]) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]


def test_idempotency_records_expire_through_dynamodbs_ttl(template):
    table = properties(template, "IdempotencyTable")

    # Powertools' DynamoDBPersistenceLayer defaults: key "id", expiry timestamp in "expiration".
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_the_functions_logs_are_kept_for_the_retention_parameter(template):
    logs = properties(template, "SubscriberLogs")

    assert logs["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${SubscriberFunction}"}
    assert logs["RetentionInDays"] == {"Ref": "LogRetentionInDays"}


def alarm(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return properties(template, logical_id)


def test_a_message_in_the_dead_letter_queue_raises_an_alarm(template):
    dead_letters = alarm(template, "DeadLettersAlarm")

    assert (dead_letters["Namespace"], dead_letters["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert dead_letters["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}
    ]
    assert (dead_letters["Threshold"], dead_letters["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")


def test_a_message_waiting_too_long_raises_an_alarm(template):
    backlog = alarm(template, "BacklogAlarm")

    assert (backlog["Namespace"], backlog["MetricName"]) == ("AWS/SQS", "ApproximateAgeOfOldestMessage")
    assert backlog["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["Queue", "QueueName"]}}]
    assert backlog["Threshold"] == {"Ref": "OldestMessageAlarmSeconds"}


@pytest.mark.parametrize("logical_id", ["DeadLettersAlarm", "BacklogAlarm"])
def test_alarms_go_to_the_own_topic_and_to_an_existing_one_if_given(template, logical_id):
    actions = alarm(template, logical_id)["AlarmActions"]

    assert actions == {
        "Fn::If": [
            "HasExistingAlarmTopic",
            [{"Ref": "AlarmTopic"}, {"Ref": "ExistingAlarmTopicArn"}],
            [{"Ref": "AlarmTopic"}],
        ]
    }
    assert template["Parameters"]["ExistingAlarmTopicArn"]["Default"] == ""
    assert template["Resources"]["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"


def test_outputs_give_the_exact_redrive_command(template):
    command = template["Outputs"]["RedriveCommand"]["Value"]["Fn::Sub"]

    assert command.startswith("aws sqs start-message-move-task ")
    assert "--source-arn ${DeadLetterQueue.Arn}" in command


def test_the_sam_local_env_file_names_what_make_local_creates(subscriber):
    environment = json.loads((EXAMPLE / "events" / "sam-local-env.json").read_text(encoding="utf-8"))
    [(function, variables)] = environment.items()

    assert function == "SubscriberFunction"
    for name in ("DELETIONS_TABLE_NAME", "IDEMPOTENCY_TABLE_NAME"):
        assert variables[name] == subscriber.resources.function_environment[name], name
    assert variables["AWS_ENDPOINT_URL"].endswith(":5000")  # `make serve`'s emulator port


def test_the_local_run_keeps_its_own_endpoint_over_the_templates_empty_one(subscriber):
    # The template declares AWS_ENDPOINT_URL empty for sam local; copied into `make local`'s environment, it
    # would send the function's calls to AWS instead of the emulator.
    assert "AWS_ENDPOINT_URL" not in subscriber.resources.function_environment
