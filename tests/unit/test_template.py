"""template.yaml promises that matter at run time, checked where a linter cannot see them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devtools.local_stack import api_gateway
from devtools.local_stack.stream import MappingSettings
from devtools.local_stack.template import load_template, resource
from zenoti_receiver.timing import (
    AWS_ATTEMPTS,
    AWS_CALL_WORST_SECONDS,
    AWS_CONNECT_SECONDS,
    AWS_READ_SECONDS,
    PUBLISHER_TIMEOUT_SECONDS,
    RECEIVER_TIMEOUT_SECONDS,
    ZENOTI_WAITS_SECONDS,
)


@pytest.fixture(scope="module")
def template():
    return load_template()


def function(template):
    return resource(template, "ReceiverFunction")["Properties"]


def test_the_template_timeouts_are_timing_py_s(template):
    timeout = function(template)["Timeout"]

    assert timeout == RECEIVER_TIMEOUT_SECONDS  # src/zenoti_receiver/timing.py and template.yaml agree
    assert timeout < ZENOTI_WAITS_SECONDS
    # A new event's calls (the secret, when its cache has expired, and the one write), each at its worst, fit.
    # (A conflicting duplicate's third call may not: then Zenoti retries it and it is held on the retry.)
    assert timeout > 2 * AWS_CALL_WORST_SECONDS
    publisher = resource(template, "PublisherFunction")["Properties"]
    assert publisher["Timeout"] == PUBLISHER_TIMEOUT_SECONDS
    # The publisher starts a publish only with one call at its worst left (publisher_handler.py).
    assert publisher["Timeout"] > AWS_CALL_WORST_SECONDS + 1


def test_the_clients_are_bounded_as_timing_py_says():
    from zenoti_receiver.adapters import aws

    config = aws.BOUNDED
    assert (config.connect_timeout, config.read_timeout) == (AWS_CONNECT_SECONDS, AWS_READ_SECONDS)
    assert config.retries == {"mode": "standard", "total_max_attempts": AWS_ATTEMPTS}


def test_runtime_and_architecture(template):
    assert template["Globals"]["Function"]["Runtime"] == "python3.13"
    assert template["Globals"]["Function"]["Architectures"] == ["arm64"]


WEBHOOK_PATH = "/zenoti/webhook"  # the one URL of the Class booking family
EARLIER_PATH = "/zenoti/class-booking-deleted"  # what stacks before the family gave Zenoti


def routes(template) -> dict[tuple[str, str], str]:
    """(path, verb) -> the logical id of the event that routes it to the receiver."""
    found = {}
    for logical_id, event in function(template)["Events"].items():
        assert (event["Type"], event["Properties"]["ApiId"]) == ("HttpApi", {"Ref": "WebhookApi"}), logical_id
        found[(event["Properties"]["Path"], event["Properties"]["Method"])] = logical_id
    return found


def test_post_put_and_patch_reach_the_function_on_the_webhook_path_and_the_earlier_one(template):
    assert set(routes(template)) == {
        (path, verb) for path in (WEBHOOK_PATH, EARLIER_PATH) for verb in ("POST", "PUT", "PATCH")
    }


def test_an_upgrade_keeps_the_earlier_paths_routes_as_deployed_and_gives_zenoti_the_new_one(template):
    # Deployed stacks have the earlier path under the events Post, Put and Patch: the same logical ids,
    # so an upgrade changes none of those routes or their permissions, and a webhook in Zenoti that uses
    # the earlier URL is answered throughout (docs/operations.md, "Upgrading").
    found = routes(template)
    assert {verb: found[(EARLIER_PATH, verb)] for verb in ("POST", "PUT", "PATCH")} == {
        "POST": "Post",
        "PUT": "Put",
        "PATCH": "Patch",
    }
    direct = template["Outputs"]["WebhookUrl"]["Value"]["Fn::If"][2]["Fn::Sub"]
    assert direct == "https://${WebhookApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}" + WEBHOOK_PATH
    # The API itself is the one deployed stacks have: its id, so the host of every URL, stays.
    assert resource(template, "WebhookApi")["Type"] == "AWS::Serverless::HttpApi"


def test_make_serve_routes_what_the_template_routes(template):
    served = {(path, verb) for path in api_gateway.ROUTE_PATHS for verb in api_gateway.ROUTE_METHODS}

    assert set(routes(template)) == served
    assert api_gateway.WEBHOOK_PATH == WEBHOOK_PATH  # the URL serve prints, and `ops held redrive --local` uses


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
    # One write of an event, never an update of one: what is stored is what was received.
    assert granted(template, "ReceiverFunction") == {
        json.dumps({"Fn::GetAtt": ["EventsTable", "Arn"]}): {"dynamodb:PutItem"},
        json.dumps({"Fn::GetAtt": ["HeldBodiesTable", "Arn"]}): {"dynamodb:UpdateItem"},
        json.dumps({"Ref": "WebhookTokenSecret"}): {"secretsmanager:GetSecretValue"},
    }


def test_the_publisher_may_only_publish_read_its_own_stream_and_record_what_is_given_up(template):
    assert granted(template, "PublisherFunction") == {
        json.dumps({"Ref": "EventsTopic"}): {"sns:Publish"},
        json.dumps({"Fn::GetAtt": ["EventsTable", "StreamArn"]}): {
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
        },
        json.dumps({"Fn::Sub": "${EventsTable.Arn}/stream/*"}): {"dynamodb:ListStreams"},
        json.dumps({"Fn::GetAtt": ["PublicationFailuresQueue", "Arn"]}): {"sqs:SendMessage"},
    }
    # No SAM event: SAM would add a managed policy reading every stream of the account.
    assert "Events" not in resource(template, "PublisherFunction")["Properties"]


def test_the_stream_brings_only_new_items_in_order_and_retries_for_as_long_as_it_keeps_them(template):
    mapping = resource(template, "PublisherStream")["Properties"]
    table = resource(template, "EventsTable")["Properties"]

    assert table["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}  # the whole item: the message
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["EventsTable", "StreamArn"]}
    assert mapping["FunctionName"] == {"Ref": "PublisherFunction"}
    settings = MappingSettings.from_template()  # what the local stack emulates
    assert settings.event_names == {"INSERT"}  # not a TTL deletion (REMOVE), not an update
    assert settings.max_retries is None  # -1: until the record leaves the stream
    assert settings.max_record_age_seconds == 24 * 3600
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.get("ParallelizationFactor", 1) == 1  # one batch of a shard at a time: in order
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["PublicationFailuresQueue", "Arn"]
    }


def test_access_log_format_cannot_leak_the_token(template):
    api = resource(template, "WebhookApi")["Properties"]
    log_format = api["AccessLogSettings"]["Format"]

    assert "queryString" not in log_format
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}


@pytest.mark.parametrize("logical_id", ["EventsTable", "HeldBodiesTable"])
def test_tables_are_kept_encrypted_and_recoverable(template, logical_id):
    table = resource(template, logical_id)
    properties = table["Properties"]

    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert properties["DeletionProtectionEnabled"] is True
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # What expires is chosen by the code (expires_at on events with a retention, on held bodies).
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_events_expire_after_a_subscriber_could_have_missed_them_and_held_bodies_expire(template):
    parameters = template["Parameters"]

    # Bodies hold personal data: kept by default only as long as `ops replay` may need them, which is beyond
    # the longest a subscriber queue (its dead-letter queue included) keeps a message (docs/families.md).
    days = parameters["EventRetentionDays"]["Default"]
    longest_in_a_queue = max(
        resource(template, queue)["Properties"]["MessageRetentionPeriod"]
        for queue in ("SubscriberEventsQueue", "SubscriberDeadLetterQueue")
    )
    assert longest_in_a_queue + 14 * 86_400 <= days * 86_400 <= 90 * 86_400
    assert parameters["HeldRetentionDays"]["Default"] == 30
    variables = function(template)["Environment"]["Variables"]
    assert variables["EVENT_RETENTION_DAYS"] == {"Ref": "EventRetentionDays"}
    # An event outlives the stream's 24 hours, so that what the publisher gave up on can be republished.
    [assertion] = template["Rules"]["EventsOutliveTheStream"]["Assertions"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "EventRetentionDays"}, "1"]}]}
    assert variables["HELD_RETENTION_DAYS"] == {"Ref": "HeldRetentionDays"}


def statements(template: dict[str, Any], logical_id: str) -> dict[str, dict[str, Any]]:
    properties = resource(template, logical_id)["Properties"]
    document = properties.get("PolicyDocument") or properties["ResourcePolicy"]
    return {statement["Sid"]: statement for statement in document["Statement"]}


def test_only_the_stacks_publisher_and_named_replayers_may_publish_events(template):
    publish = statements(template, "EventsTopicPolicy")["PublishOnlyFromTheStack"]

    assert (publish["Effect"], publish["Action"]) == ("Deny", "sns:Publish")
    condition, with_replayers, without = publish["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]["Fn::If"]
    roles = [{"Fn::GetAtt": ["PublisherFunctionRole", "Arn"]}]
    assert (condition, without) == ("HasReplayPrincipals", roles)
    assert json.dumps(roles[0]) in json.dumps(with_replayers)
    assert json.dumps({"Ref": "ReplayPrincipalArns"}) in json.dumps(with_replayers)


def test_events_never_leave_by_plain_http_or_sms(template):
    subscribe = statements(template, "EventsTopicPolicy")["SubscribeOnlyOverEncryptedProtocols"]

    allowed = subscribe["Condition"]["StringNotEquals"]["sns:Protocol"]
    assert subscribe["Effect"] == "Deny"
    assert "http" not in allowed
    assert "sms" not in allowed
    assert {"sqs", "lambda", "https"} <= set(allowed)


def test_the_token_is_readable_only_by_the_receiver_named_readers_or_the_account(template):
    policy = resource(template, "WebhookTokenSecretPolicy")["Properties"]
    read = statements(template, "WebhookTokenSecretPolicy")["ReadOnlyByTheReceiverAndNamedReaders"]

    assert policy["BlockPublicPolicy"] is True
    assert (read["Effect"], read["Action"]) == ("Deny", "secretsmanager:GetSecretValue")
    condition, named, account_only = read["Condition"]["Fn::If"]
    assert condition == "HasTokenReaders"
    assert json.dumps({"Fn::GetAtt": ["ReceiverFunctionRole", "Arn"]}) in json.dumps(named)
    assert account_only == {"StringNotEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}}


def test_waf_limits_each_source_and_admits_only_listed_ones_when_given(template):
    rules = resource(template, "FrontDoorWebAcl")["Properties"]["Rules"]
    allow_list, per_source = rules

    condition, listed, absent = allow_list["Fn::If"]
    assert (condition, absent) == ("HasWafAllowList", {"Ref": "AWS::NoValue"})
    assert listed["Action"] == {"Block": {}}
    assert "NotStatement" in listed["Statement"]
    rate = per_source["Statement"]["RateBasedStatement"]
    assert (rate["AggregateKeyType"], rate["Limit"]) == ("IP", {"Ref": "WafRequestsPerSourcePer5Minutes"})
    association = resource(template, "FrontDoorWebAclAssociation")["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["FrontDoorWebAcl", "Arn"]}
    logging = resource(template, "FrontDoorWafLogging")["Properties"]
    assert {"QueryString": {}} in logging["RedactedFields"]  # the token never reaches WAF's logs


def test_events_table_indexes_list_each_centers_guests_and_employees_events_in_time_order(template):
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
        "by_employee": [
            {"AttributeName": "employee_id", "KeyType": "HASH"},
            {"AttributeName": "occurred_at", "KeyType": "RANGE"},
        ],
    }
    # Keys only: an index entry costs one write unit, whatever the size of the body.
    assert {index["Projection"]["ProjectionType"] for index in properties["GlobalSecondaryIndexes"]} == {"KEYS_ONLY"}


def test_topic_is_encrypted_and_refuses_publishing_without_tls(template):
    assert resource(template, "EventsTopic")["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"
    statement = statements(template, "EventsTopicPolicy")["DenyPublishWithoutTls"]

    assert statement["Effect"] == "Deny"
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_secret_is_generated_as_url_safe_json_token(template):
    generated = resource(template, "WebhookTokenSecret")["Properties"]["GenerateSecretString"]

    assert generated["SecretStringTemplate"] == "{}"
    assert generated["GenerateStringKey"] == "token"
    assert generated["ExcludePunctuation"] is True
    assert generated["PasswordLength"] >= 32


@pytest.mark.parametrize("logical_id", ["WebhookTokenSecret", "WebhookTokenSecretPolicy"])
def test_the_token_outlives_the_stack_and_a_replacement_with_its_policy(template, logical_id):
    # A new secret is a new token: the URL Zenoti holds would be refused (and the kept secret is no
    # easier to read than it was).
    kept = resource(template, logical_id)

    assert kept["DeletionPolicy"] == kept["UpdateReplacePolicy"] == "Retain"


def test_the_token_is_generated_as_it_always_was(template):
    # CloudFormation generates a new value when GenerateSecretString changes: a deploy would then
    # replace the token Zenoti holds. Rotation is `python -m ops token rotate`, not a template change.
    generated = resource(template, "WebhookTokenSecret")["Properties"]["GenerateSecretString"]

    assert generated == {
        "SecretStringTemplate": "{}",
        "GenerateStringKey": "token",
        "PasswordLength": 48,
        "ExcludePunctuation": True,
    }


def test_outputs_give_the_user_everything_to_configure_zenoti(template):
    outputs = template["Outputs"]

    assert set(outputs) >= {
        "WebhookUrl",
        "EventsTableName",
        "HeldBodiesTableName",
        "EventsTopicArn",
        "WebhookTokenSecretArn",
        "PrintTokenCommand",
    }
    assert "aws secretsmanager get-secret-value" in outputs["PrintTokenCommand"]["Value"]["Fn::Sub"]


def test_a_burst_of_500_deliveries_in_one_second_is_not_throttled(template):
    """API Gateway's token bucket: `burst` requests at once, refilled at `rate` a second.

    A class cancelled with many registrations, or a bulk deletion, arrives as one burst, and every
    429 counts toward Zenoti's deactivation. The receiver has no reserved concurrency to cap it.
    """
    parameters = template["Parameters"]
    burst, rate = parameters["ThrottlingBurstLimit"]["Default"], parameters["ThrottlingRateLimit"]["Default"]
    arrivals = [index / 500 for index in range(500)]  # 500 in one second, evenly

    tokens, last, throttled = float(burst), 0.0, 0
    for moment in arrivals:
        tokens = min(burst, tokens + (moment - last) * rate)
        last = moment
        if tokens < 1:
            throttled += 1
        else:
            tokens -= 1

    assert throttled == 0
    assert "ReservedConcurrentExecutions" not in function(template)


def test_every_parameter_is_in_exactly_one_group_in_the_order_the_template_declares_them(template):
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [name for group in groups for name in group["Parameters"]]

    # The console and `sam deploy --guided` ask in this order: none left out, none asked twice.
    assert grouped == list(template["Parameters"])
    assert [group["Label"]["default"] for group in groups][-2:] == [
        "Optional: a subscriber queue",
        "Optional: the WAF front door",
    ]


def test_the_core_reads_first_and_each_optional_part_follows_it_in_one_piece(template):
    def part(logical_id: str, properties: dict[str, Any]) -> str:
        condition = properties.get("Condition", "")
        if logical_id.startswith("FrontDoor") or condition.startswith("HasWaf"):
            return "front door"
        if logical_id.startswith("Subscriber") and condition.startswith("HasSubscriber"):
            return "subscriber queue"
        return "core"

    parts = [part(logical_id, resource) for logical_id, resource in template["Resources"].items()]
    runs = [name for index, name in enumerate(parts) if index == 0 or parts[index - 1] != name]

    assert runs == ["core", "subscriber queue", "front door"]
