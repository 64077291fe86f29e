"""The alarms and dashboard in template.yaml: they exist, watch the right metric of the right
resource, with thresholds that fire well before Zenoti's 20 consecutive failures."""

from __future__ import annotations

import json
import re
from typing import Any, get_args

import pytest

from devtools.local_stack.template import load_template, resource
from ops.held import ALARM_OF_REASON
from tests.conftest import ROOT
from tests.unit.test_docs import anchors  # the headings GitHub turns into anchors
from tests.unit.test_template_front_door import deployed  # the resources CloudFormation creates for parameters
from zenoti_receiver.errors import HeldReason


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


STACK = "zenoti-webhooks"  # samconfig.toml's stack name: the production stack's


def service(template: dict[str, Any], stack_name: str = STACK) -> str:
    """The service dimension the functions of the stack `stack_name` give their metrics (Powertools)."""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    named: str = for_stack(variables["POWERTOOLS_SERVICE_NAME"], stack_name)
    return named


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: body["Properties"]
        for logical_id, body in template["Resources"].items()
        if body["Type"] == "AWS::CloudWatch::Alarm"
    }


def dimensions(alarm: dict[str, Any]) -> dict[str, Any]:
    return {dimension["Name"]: dimension["Value"] for dimension in alarm["Dimensions"]}


def watched_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm reads: its own, or each one its metric math starts from."""
    if "Metrics" not in alarm:
        return [alarm]
    return [query["MetricStat"]["Metric"] for query in alarm["Metrics"] if "MetricStat" in query]


def test_every_alarm_notifies_the_alarm_topic_and_says_what_to_do(template):
    found = alarms(template)

    assert set(found) == {
        "ServerErrorsAlarm",
        "UnauthorizedAlarm",
        "FunctionErrorsAlarm",
        "FunctionThrottlesAlarm",
        "UnexpectedErrorsAlarm",
        "HeldBodiesAlarm",
        "HeldMalformedBodiesAlarm",
        "HeldUndeliverableBodiesAlarm",
        "ConflictingDuplicatesAlarm",
        "HeldBodiesThrottledAlarm",
        "HeldBodiesGrowthAlarm",
        "GatewayRefusalsAlarm",
        "FrontDoorBlockedAlarm",  # these three only with WafFrontDoor=true
        "FrontDoorServerErrorsAlarm",
        "FrontDoorRefusalsAlarm",
        "PublicationDelayAlarm",
        "PublicationFailuresAlarm",
        "PublisherErrorsAlarm",
        "TokenSecretAlarm",
        "SubscriberDeliveryFailuresAlarm",
        "NoEventsAlarm",
        "SubscriberDeadLettersAlarm",  # these two only with SubscriberQueue=true (test_template_subscriber.py)
        "SubscriberBacklogAlarm",
    }
    for logical_id, alarm in found.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], logical_id
        description = alarm["AlarmDescription"]
        text = description if isinstance(description, str) else description["Fn::Sub"]
        assert len(text) > 60, logical_id  # what it means and what to do


def test_5xx_alarm_fires_after_three_consecutive_minutes_on_this_api(template):
    alarm = alarms(template)["ServerErrorsAlarm"]

    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/ApiGateway", "5xx")
    assert dimensions(alarm) == {"ApiId": {"Ref": "WebhookApi"}, "Stage": "$default"}
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (60, 3, 3)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    # Zenoti retries 30 s to 10 min apart: three minutes of 5xx is a handful of failed deliveries, not 20.
    assert alarm["Period"] * alarm["EvaluationPeriods"] <= 5 * 60


@pytest.mark.parametrize(
    ("logical_id", "metric"), [("FunctionErrorsAlarm", "Errors"), ("FunctionThrottlesAlarm", "Throttles")]
)
def test_function_alarms_watch_the_receiver_function(template, logical_id, metric):
    alarm = alarms(template)[logical_id]

    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", metric)
    assert dimensions(alarm) == {"FunctionName": {"Ref": "ReceiverFunction"}}
    assert alarm["Threshold"] == 1


def test_subscriber_delivery_alarm_watches_the_events_topic(template):
    alarm = alarms(template)["SubscriberDeliveryFailuresAlarm"]

    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SNS", "NumberOfNotificationsFailed")
    assert dimensions(alarm) == {"TopicName": {"Fn::GetAtt": ["EventsTopic", "TopicName"]}}


def test_a_silent_webhook_alarms_by_default_after_two_days_and_counts_whole_hours(template):
    # Deactivation is never silent: without this alarm nothing says Zenoti stopped sending. 48 hours, not 24,
    # so that a business closed one day a week (a spa on Sundays) does not page every Monday morning.
    alarm = alarms(template)["NoEventsAlarm"]
    parameter = template["Parameters"]["NoEventAlarmHours"]

    assert template["Resources"]["NoEventsAlarm"]["Condition"] == "HasNoEventAlarm"
    assert template["Conditions"]["HasNoEventAlarm"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "NoEventAlarmHours"}, 0]}]}
    assert "NoEventsAlarm" in deployed(template)  # with every parameter at its default
    assert parameter["Default"] == 48
    assert "NoEventsAlarm" not in deployed(template, NoEventAlarmHours="0")  # still possible to turn off
    assert alarm["Period"] == 3600
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == {"Ref": "NoEventAlarmHours"}
    # CloudWatch evaluates at most 7 days of periods.
    assert parameter["MaxValue"] * alarm["Period"] <= 7 * 24 * 3600
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 1)
    assert alarm["TreatMissingData"] == "breaching"  # no data at all is exactly the case to catch


def test_publication_delay_alarm_watches_how_late_the_publisher_reads_the_stream(template):
    alarm = alarms(template)["PublicationDelayAlarm"]

    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", "IteratorAge", "Maximum")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "PublisherFunction"}}]
    # IteratorAge is in milliseconds; the parameter in seconds.
    assert alarm["Threshold"] == {"Fn::Sub": "${PublicationDelayAlarmSeconds}000"}
    # Well before the stream's 24 hours run out and Lambda gives up.
    assert template["Parameters"]["PublicationDelayAlarmSeconds"]["Default"] < 24 * 3600
    assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}]


def test_what_lambda_gives_up_publishing_raises_an_alarm(template):
    alarm = alarms(template)["PublicationFailuresAlarm"]

    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["PublicationFailuresQueue", "QueueName"]}}
    ]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert "ops republish" in alarm["AlarmDescription"]


def test_custom_metric_alarms_use_the_functions_namespace_and_service(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    for logical_id, alarm in alarms(template).items():
        for metric in watched_metrics(alarm):
            if metric["Namespace"].startswith("AWS/"):
                continue
            assert metric["Namespace"] == variables["POWERTOOLS_METRICS_NAMESPACE"], logical_id
            assert dimensions(metric)["service"] == variables["POWERTOOLS_SERVICE_NAME"], logical_id


def test_unexpected_errors_alarm_fires_on_any_bug_and_says_which_log_line_to_read(template):
    alarm = alarms(template)["UnexpectedErrorsAlarm"]

    assert (alarm["MetricName"], alarm["Statistic"]) == ("UnexpectedErrors", "Sum")
    assert dimensions(alarm) == {"service": {"Ref": "AWS::StackName"}}
    assert (alarm["Period"], alarm["EvaluationPeriods"]) == (300, 1)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"
    # The line handler.py logs with the traceback, as an operator would search for it.
    assert '"Unexpected error (a bug in the receiver)"' in alarm["AlarmDescription"]


def metric_identities(template: dict[str, Any], stack_name: str) -> set[tuple[str, str, frozenset[tuple[str, str]]]]:
    """Every series of our own namespace that the stack `stack_name`'s alarms and dashboard read."""
    found = set()
    for logical_id, alarm in alarms(for_stack(template, stack_name)).items():
        for metric in watched_metrics(alarm):
            if not metric["Namespace"].startswith("AWS/"):
                named = frozenset(dimensions(metric).items())
                found.add((metric["Namespace"], metric["MetricName"], named))
                assert all(isinstance(value, str) for _, value in named), logical_id
    for each in dashboard_widgets(template, subscriber_queue=True, stack_name=stack_name):
        for row in metric_rows(each):
            if not row[0].startswith("AWS/"):
                found.add((row[0], row[1], frozenset(zip(row[2::2], row[3::2], strict=True))))
        for expression in search_expressions(each):
            # SEARCH('{namespace,dimensions...} MetricName="..." service="..."', ...): the series it may find.
            match = re.fullmatch(
                r"SEARCH\('\{([^,}]+),[^}]*\} MetricName=\"(\w+)\" service=\"([^\"]+)\"', .*\)", expression
            )
            assert match, expression
            found.add((match[1], match[2], frozenset({("service", match[3])})))
    return found


def search_expressions(widget: dict[str, Any]) -> list[str]:
    return [
        part["expression"]
        for row in widget["properties"]["metrics"]
        for part in row
        if isinstance(part, dict) and "expression" in part
    ]


def test_two_stacks_in_one_account_never_read_each_others_series(template):
    # Production, and a pull-request stack of the deploy workflow beside it in the same account and region.
    production = metric_identities(template, STACK)
    pull_request = metric_identities(template, "zenoti-pr-42")

    assert len(production) >= 10
    assert not production & pull_request
    # Each reads its own functions' series: the service dimension the functions of that stack emit.
    for stack_name, identities in ((STACK, production), ("zenoti-pr-42", pull_request)):
        for namespace, name, named in identities:
            assert dict(named)["service"] == service(template, stack_name) == stack_name, (stack_name, name)
            assert (
                namespace == template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
            )


def test_gateway_refusals_are_the_apis_4xx_beyond_the_functions_own(template):
    alarm = alarms(template)["GatewayRefusalsAlarm"]
    queries = {query["Id"]: query for query in alarm["Metrics"]}

    api = queries["answered4xx"]["MetricStat"]["Metric"]
    assert (api["Namespace"], api["MetricName"]) == ("AWS/ApiGateway", "4xx")
    assert dimensions(api) == {"ApiId": {"Ref": "WebhookApi"}, "Stage": "$default"}
    assert queries["refusedByFunction"]["MetricStat"]["Metric"]["MetricName"] == "EventsRefused"
    assert queries["refusedByGateway"]["Expression"] == "FILL(answered4xx, 0) - FILL(refusedByFunction, 0)"
    assert [query["Id"] for query in alarm["Metrics"] if query["ReturnData"]] == ["refusedByGateway"]
    assert alarm["Threshold"] == {"Ref": "GatewayRefusalsAlarmThreshold"}


def test_alarm_email_is_optional(template):
    subscription = template["Resources"]["AlarmEmailSubscription"]

    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""


def test_only_cloudwatch_of_this_account_may_publish_alarms(template):
    statements = resource(template, "AlarmTopicPolicy")["Properties"]["PolicyDocument"]["Statement"]
    allow = next(statement for statement in statements if statement["Effect"] == "Allow")

    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


@pytest.mark.parametrize("logical_id", ["ApiAccessLogs", "ReceiverLogs", "PublisherLogs"])
def test_log_groups_keep_logs_for_the_retention_parameter(template, logical_id):
    assert resource(template, logical_id)["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}


def for_stack(value: Any, stack_name: str) -> Any:
    """A part of the template as CloudFormation resolves it in the stack `stack_name`: wherever it names its stack."""
    if value == {"Ref": "AWS::StackName"}:
        return stack_name
    if isinstance(value, dict):
        return {key: for_stack(item, stack_name) for key, item in value.items()}
    if isinstance(value, list):
        return [for_stack(item, stack_name) for item in value]
    if isinstance(value, str):  # in an Fn::Sub: the only place ${...} is read
        return value.replace("${AWS::StackName}", stack_name)
    return value


def dashboard_body(template: dict[str, Any], *, subscriber_queue: bool, stack_name: str = STACK) -> str:
    """The dashboard's body as CloudFormation joins it in `stack_name`, with SubscriberQueue on or off; other ${...}
    unresolved."""
    text = ""
    body = for_stack(resource(template, "Dashboard")["Properties"]["DashboardBody"], stack_name)
    for piece in body["Fn::Join"][1]:
        if isinstance(piece, dict) and "Fn::If" in piece:
            condition, when_on, when_off = piece["Fn::If"]
            assert condition == "HasSubscriberQueue"
            piece = when_on if subscriber_queue else when_off
        text += piece["Fn::Sub"] if isinstance(piece, dict) else piece
    return text


def dashboard_widgets(
    template: dict[str, Any], *, subscriber_queue: bool = False, stack_name: str = STACK
) -> list[dict[str, Any]]:
    body = dashboard_body(template, subscriber_queue=subscriber_queue, stack_name=stack_name)
    references = set(re.findall(r"\$\{([^}]+)\}", body))
    allowed = {
        "AWS::Region",
        "WebhookApi",
        "ReceiverFunction",
        "PublisherFunction",
        "EventsTopic.TopicName",
        "PublicationDelayAlarmSeconds",
    }
    subscriber = {
        "SubscriberEventsQueue.QueueName",
        "SubscriberDeadLetterQueue.QueueName",
        "SubscriberOldestMessageAlarmSeconds",
    }
    # The subscriber queue's resources exist only with SubscriberQueue=true: named only then.
    assert references <= (allowed | subscriber if subscriber_queue else allowed)
    # A parameter stands for its default (a number where the body leaves it unquoted); a resource for its name.
    parameters = template["Parameters"]

    def resolve(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(parameters[name]["Default"]) if name in parameters else f"<{name}>"

    resolved = re.sub(r"\$\{([^}]+)\}", resolve, body)
    return json.loads(resolved)["widgets"]  # type: ignore[no-any-return]


def test_dashboard_shows_the_subscriber_queue_only_when_there_is_one(template):
    without = dashboard_widgets(template, subscriber_queue=False)
    with_queue = dashboard_widgets(template, subscriber_queue=True)

    added = with_queue[len(without) :]
    assert [widget["properties"]["title"] for widget in added] == [
        "Subscriber queue: messages waiting, and in its dead-letter queue",
        "Subscriber queue: oldest message (s)",
    ]
    names = {name for widget in added for row in widget["properties"]["metrics"] for name in row}
    assert {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"} <= names
    assert {"<SubscriberEventsQueue.QueueName>", "<SubscriberDeadLetterQueue.QueueName>"} <= names


def test_dashboard_shows_status_outcomes_latency_cold_starts_and_held_bodies(template):
    widgets = dashboard_widgets(template)
    titles = [widget["properties"]["title"] for widget in widgets]
    names = {
        name for widget in widgets for row in widget["properties"]["metrics"] for name in row if isinstance(name, str)
    }

    assert titles == [
        "Requests by status",
        "Events: accepted, duplicate, held, refused, failed",
        "Latency (ms)",
        "Cold starts",
        "Held bodies, per hour (not published)",
        "Publication: messages the topic published, records Lambda retries",
        "Publication delay: the stream's iterator age (ms)",
        "Accepted events by type",
        "Unexpected errors: bugs of ours, answered 500",
    ]
    assert {"Count", "4xx", "5xx", "EventsAccepted", "EventsDuplicate", "EventsRefused", "EventsFailed"} <= names
    assert {"Latency", "Duration", "ColdStart", "EventsHeld", "UnexpectedErrors"} <= names
    assert {"<WebhookApi>", "<ReceiverFunction>", "<PublisherFunction>"} <= names
    assert {"NumberOfMessagesPublished", "PublicationsRetried", "IteratorAge"} <= names


def metric_rows(widget: dict[str, Any]) -> list[list[Any]]:
    """A widget's metrics as CloudWatch reads them: "." repeats the value above; options (a dict) dropped."""
    rows: list[list[Any]] = []
    for row in widget["properties"]["metrics"]:
        names = [part for part in row if not isinstance(part, dict)]
        if not names:  # an expression (search_expressions)
            continue
        if names[0] == "...":  # every value of the row above, then these
            names = rows[-1] + names[1:]
        rows.append([rows[-1][i] if part == "." else part for i, part in enumerate(names)])
    return rows


def widget(template: dict[str, Any], title: str) -> dict[str, Any]:
    [found] = [widget for widget in dashboard_widgets(template) if widget["properties"]["title"] == title]
    return found


def test_dashboard_shows_the_events_accepted_of_every_type_that_arrived(template):
    namespace = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]

    [[row]] = widget(template, "Accepted events by type")["properties"]["metrics"]

    # Thirty-odd types in ten families: one line for each type that arrived, found by CloudWatch's SEARCH on what
    # the handler emits per type (EventsAccepted with the service and event_type dimensions), not a fixed list.
    assert row["expression"] == (
        f'SEARCH(\'{{{namespace},event_type,service}} MetricName="EventsAccepted" service="{service(template)}"\','
        " 'Sum', 300)"
    )
    assert widget(template, "Accepted events by type")["properties"]["stat"] == "Sum"


def test_dashboard_shows_the_held_bodies_beside_the_other_outcomes(template):
    namespace = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    held = [namespace, "EventsHeld", "service", service(template)]

    assert held in metric_rows(widget(template, "Events: accepted, duplicate, held, refused, failed"))
    assert metric_rows(widget(template, "Held bodies, per hour (not published)")) == [held]


def test_dashboard_widgets_do_not_overlap(template):
    taken: set[tuple[int, int]] = set()
    for each in dashboard_widgets(template, subscriber_queue=True):
        cells = {
            (x, y)
            for x in range(each["x"], each["x"] + each["width"])
            for y in range(each["y"], each["y"] + each["height"])
        }
        assert not cells & taken, each["properties"]["title"]
        assert each["x"] + each["width"] <= 24  # the dashboard's grid is 24 wide
        taken |= cells


# The alarm of each reason a body is held (ops/held.py dismisses by it): one kind of body, a flood of junk
# included, keeps only its own alarm in ALARM, so a new reason still notifies.
HELD_ALARMS = {
    "HeldBodiesAlarm": ("EventsHeld", "invalid_event"),
    "HeldMalformedBodiesAlarm": ("EventsHeld", "malformed_body"),
    "HeldUndeliverableBodiesAlarm": ("EventsHeld", "undeliverable"),
    "ConflictingDuplicatesAlarm": ("ConflictingDuplicates", None),
}


@pytest.mark.parametrize("logical_id", [*HELD_ALARMS, "HeldBodiesGrowthAlarm"])
def test_held_body_alarms_watch_what_the_handler_counts_and_point_to_a_runbook_that_exists(template, logical_id):
    alarm = alarms(template)[logical_id]
    metric, reason = HELD_ALARMS.get(logical_id, ("EventsHeld", None))

    assert (alarm["Namespace"], alarm["MetricName"]) == ("ZenotiWebhooks", metric)
    assert dimensions(alarm) == {"service": {"Ref": "AWS::StackName"}, **({"reason": reason} if reason else {})}
    # The operator paged reads where to go: a section of the docs that is there.
    pointed = re.findall(r"docs/operations\.md#([\w-]+)", alarm["AlarmDescription"])
    assert set(pointed) <= anchors(ROOT / "docs" / "operations.md")
    pointed_security = re.findall(r"docs/security\.md#([\w-]+)", alarm["AlarmDescription"])
    assert set(pointed_security) <= anchors(ROOT / "docs" / "security.md")
    assert pointed or pointed_security


def test_each_held_reason_has_its_own_alarm_which_says_when_it_is_ok_again(template):
    found = alarms(template)
    reasons = {reason for _, reason in HELD_ALARMS.values() if reason} | {"conflicting_duplicate"}

    assert reasons == set(get_args(HeldReason))
    assert set(HELD_ALARMS) == set(ALARM_OF_REASON.values())
    for logical_id in HELD_ALARMS:
        assert found[logical_id]["OKActions"] == [{"Ref": "AlarmTopic"}], logical_id
        assert found[logical_id]["TreatMissingData"] == "notBreaching", logical_id


def test_the_held_bodies_table_has_a_write_ceiling_and_an_alarm_when_it_throttles(template):
    table = resource(template, "HeldBodiesTable")["Properties"]
    alarm = alarms(template)["HeldBodiesThrottledAlarm"]

    ceiling = table["OnDemandThroughput"]["MaxWriteRequestUnits"]
    # Room for Zenoti's own held bodies (about one unit each), and a bounded bill if the token leaks:
    # at $0.625 per million write units, a month at the ceiling is under $100.
    assert 10 <= ceiling <= 100
    assert ceiling * 86_400 * 30 * 0.625 / 1e6 < 100
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/DynamoDB", "WriteThrottleEvents")
    assert dimensions(alarm) == {"TableName": {"Ref": "HeldBodiesTable"}}
    assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}]
    # The events table has no ceiling: a flood of held bodies never keeps an event from being stored.
    assert "OnDemandThroughput" not in resource(template, "EventsTable")["Properties"]


def test_the_budget_is_off_by_default_and_counts_only_this_stacks_cost(template):
    budget = resource(template, "MonthlyBudget")
    data = budget["Properties"]["Budget"]

    assert template["Parameters"]["MonthlyBudgetUsd"]["Default"] == 0
    assert budget["Condition"] == "HasBudget"
    assert template["Conditions"]["HasBudget"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "MonthlyBudgetUsd"}, 0]}]}
    assert (data["BudgetType"], data["TimeUnit"]) == ("COST", "MONTHLY")
    assert data["BudgetLimit"] == {"Amount": {"Ref": "MonthlyBudgetUsd"}, "Unit": "USD"}
    # The tag CloudFormation puts on every resource of the stack: another stack's cost is not counted.
    assert data["FilterExpression"] == {
        "Tags": {
            "Key": "aws:cloudformation:stack-name",
            "Values": [{"Ref": "AWS::StackName"}],
            "MatchOptions": ["EQUALS"],
        }
    }
    notifications = budget["Properties"]["NotificationsWithSubscribers"]
    assert {each["Notification"]["NotificationType"] for each in notifications} == {"ACTUAL", "FORECASTED"}
    for each in notifications:
        assert each["Subscribers"] == [{"SubscriptionType": "SNS", "Address": {"Ref": "AlarmTopic"}}]


def test_only_this_stacks_budget_may_publish_to_the_alarm_topic_besides_cloudwatch(template):
    statements = resource(template, "AlarmTopicPolicy")["Properties"]["PolicyDocument"]["Statement"]
    [budgets] = [statement["Fn::If"] for statement in statements if "Fn::If" in statement]

    condition, allow, otherwise = budgets
    assert (condition, otherwise) == ("HasBudget", {"Ref": "AWS::NoValue"})
    assert allow["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source = for_stack(allow["Condition"]["ArnLike"]["aws:SourceArn"], STACK)
    assert source == {"Fn::Sub": "arn:${AWS::Partition}:budgets::${AWS::AccountId}:budget/zenoti-webhooks-monthly"}
    named = for_stack(resource(template, "MonthlyBudget")["Properties"]["Budget"]["BudgetName"], STACK)
    assert named == {"Fn::Sub": "zenoti-webhooks-monthly"}


def test_the_receiver_traces_no_request_unless_one_upstream_asked(template):
    # Active would trace X-Ray's fixed sample of every flood of refusals too (docs/security.md).
    assert resource(template, "ReceiverFunction")["Properties"]["Tracing"] == "PassThrough"
