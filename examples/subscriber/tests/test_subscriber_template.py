"""The example's template.yaml: the promises the code relies on and a linter cannot see."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
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
    # By default the notification, which carries the receiver's attributes beside the body.
    assert subscription["RawMessageDelivery"] == {"Ref": "RawMessageDelivery"}
    assert template["Parameters"]["RawMessageDelivery"]["Default"] == "false"
    assert "Default" not in template["Parameters"]["EventsTopicArn"]  # deploying asks for it


def test_the_function_is_told_the_shape_its_subscription_delivers_from_the_same_parameter(template):
    # Never guessed from a message's content: a raw body can look like SNS's envelope (issue 25).
    variables = properties(template, "SubscriberFunction")["Environment"]["Variables"]
    parameter = template["Parameters"]["RawMessageDelivery"]

    assert variables["RAW_MESSAGE_DELIVERY"] == properties(template, "Subscription")["RawMessageDelivery"]
    assert sorted(parameter["AllowedValues"]) == ["false", "true"]  # what Settings reads, nothing else
    for value in parameter["AllowedValues"]:
        environment = {name: "x" for name in ("DELETIONS_TABLE_NAME", "IDEMPOTENCY_TABLE_NAME")}
        environment.update(POWERTOOLS_SERVICE_NAME="s", POWERTOOLS_METRICS_NAMESPACE="n", RAW_MESSAGE_DELIVERY=value)
        assert Settings.from_environment(environment).raw_message_delivery is (value == "true")


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


def role_statements(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The function's role's statements, by Sid."""
    [policy] = properties(template, "SubscriberRole")["Policies"]
    return {statement["Sid"]: statement for statement in policy["PolicyDocument"]["Statement"]}


def test_the_role_grants_each_call_the_function_makes_on_its_one_resource(template):
    function = properties(template, "SubscriberFunction")

    assert function["Role"] == {"Fn::GetAtt": ["SubscriberRole", "Arn"]}
    assert "Policies" not in function  # SAM ignores them beside a Role; everything is in the role
    granted = {
        sid: (sorted(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]), resource)
        for sid, statement in role_statements(template).items()
        for resource in [statement["Resource"]]
    }
    assert granted == {
        # What Lambda's event source mapping calls on the queue for the function (AWS Lambda developer guide).
        "ReadTheQueue": (
            ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
            {"Fn::GetAtt": ["Queue", "Arn"]},
        ),
        "WriteItsLog": (["logs:CreateLogStream", "logs:PutLogEvents"], {"Fn::GetAtt": ["SubscriberLogs", "Arn"]}),
        # deletions_table.py makes one call.
        "RecordFreedSeats": (["dynamodb:UpdateItem"], {"Fn::GetAtt": ["DeletionsTable", "Arn"]}),
        # What Powertools' DynamoDB persistence layer calls, and nothing more.
        "RememberHandledEvents": (
            ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            {"Fn::GetAtt": ["IdempotencyTable", "Arn"]},
        ),
        # X-Ray's calls take no resource.
        "SendTraces": (["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*"),
    }
    assert all(statement["Effect"] == "Allow" for statement in role_statements(template).values())
    # The log group the role names is the one the function writes to.
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "SubscriberLogs"}}


SAM_PYTHON = EXAMPLE.parent.parent / ".venv-sam" / "bin" / "python"


@pytest.mark.skipif(not SAM_PYTHON.exists(), reason="needs the SAM CLI in the receiver's .venv-sam (make validate)")
def test_as_sam_transforms_it_the_only_role_is_ours_with_no_managed_policy():
    # SAM gives an SQS event source's generated role AWSLambdaSQSQueueExecutionRole: receive and delete on every
    # queue of the account. Translated by SAM's own code, the template must create no such role.
    shell = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    run = subprocess.run(
        [str(SAM_PYTHON), str(EXAMPLE / "tests" / "sam_translate.py"), str(EXAMPLE / "template.yaml")],
        env={**shell, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    resources = json.loads(run.stdout)["Resources"]

    roles = {logical_id: body for logical_id, body in resources.items() if body["Type"] == "AWS::IAM::Role"}
    assert list(roles) == ["SubscriberRole"]
    role = roles["SubscriberRole"]["Properties"]
    assert "ManagedPolicyArns" not in role
    assert not [body for body in resources.values() if body["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}]
    statements = [statement for policy in role["Policies"] for statement in policy["PolicyDocument"]["Statement"]]
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any("*" in action for action in actions), statement
        if statement["Resource"] == "*":
            assert set(actions) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, statement
        else:
            assert set(statement["Resource"]) <= {"Fn::GetAtt"}, statement  # one resource of this stack
    [function] = [body for body in resources.values() if body["Type"] == "AWS::Lambda::Function"]
    assert function["Properties"]["Role"] == {"Fn::GetAtt": ["SubscriberRole", "Arn"]}
    [mapping] = [body for body in resources.values() if body["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert mapping["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["Queue", "Arn"]}


def test_the_subscription_filters_on_exactly_the_types_the_function_has_actions_for(template, subscriber):
    from booking_subscriber.action import ACTIONS  # after the fixture: the module reads its settings at import

    policy = properties(template, "Subscription")["FilterPolicy"]

    # Any other type would fail every delivery and end in the dead-letter queue: filtered out by SNS instead.
    assert policy == {"event_type": list(ACTIONS)}


def test_idempotency_records_expire_through_dynamodbs_ttl(template):
    table = properties(template, "IdempotencyTable")

    # Powertools' DynamoDBPersistenceLayer defaults: key "id", expiry timestamp in "expiration".
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_the_functions_logs_are_kept_for_the_retention_parameter(template):
    logs = properties(template, "SubscriberLogs")

    assert logs["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${AWS::StackName}-subscriber"}
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


def test_a_copy_of_the_example_with_the_files_its_readme_vendors_reads_its_template(tmp_path):
    # README.md, "In your own repository": the folder copied, three files of the receiver vendored beside it.
    copy = tmp_path / "subscriber"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".venv*", ".aws-sam", "__pycache__"))
    receiver = EXAMPLE.parent.parent
    for vendored in ("src/zenoti_receiver/models/class_booking.py", "src/zenoti_receiver/models/envelope.py"):
        (copy / vendored).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(receiver / vendored, copy / vendored)
    (copy / "devtools" / "local_stack").mkdir(parents=True)
    shutil.copy(receiver / "devtools" / "local_stack" / "template.py", copy / "devtools" / "local_stack")
    # -E: no PYTHONPATH of the receiver's; -c puts the copy (the working directory) first on the path.
    read = "from subscriber_local.resources import create_resources; import devtools; print(list(devtools.__path__))"
    result = subprocess.run([sys.executable, "-E", "-c", read], cwd=copy, capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stderr
    assert str(copy / "devtools") in result.stdout  # the vendored reader, not the receiver's
