"""The optional subscriber queue in template.yaml: off unless asked for, filtered by type and center as told,
reachable only from our topic, and alarmed on.

The conditions are evaluated here with the parameters a user would deploy with, so these tests say what
CloudFormation creates, not only what the YAML spells.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from devtools.local_stack.template import load_template, resource
from zenoti_receiver.models import catalog
from zenoti_receiver.models.catalog import FAMILIES
from zenoti_receiver.models.class_booking import BOOKING_DELETED, EVENT_TYPES

BLOCK = {
    "SubscriberDeadLetterQueue",
    "SubscriberEventsQueue",
    "SubscriberEventsQueuePolicy",
    "SubscriberSubscription",
    "SubscriberDeadLettersAlarm",
    "SubscriberBacklogAlarm",
}
CENTER_A = "e1693623-bda5-4b3e-a2a7-611ea4f1f7ad"
CENTER_B = "5a0c4b3e-6d2f-4c1e-9b8a-7f6e5d4c3b2a"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


class Deployment:
    """The template's conditions and Fn::If evaluated for some parameter values (the rest at their defaults)."""

    def __init__(self, template: dict[str, Any], **overrides: str) -> None:
        self.template = template
        self.parameters: dict[str, Any] = {}
        for name, parameter in template["Parameters"].items():
            value = overrides.get(name, parameter.get("Default"))
            if parameter["Type"] == "CommaDelimitedList":
                value = str(value).split(",")  # what !Ref of a CommaDelimitedList gives, [""] when empty
            self.parameters[name] = value

    def condition(self, name: str) -> bool:
        return bool(self.evaluate(self.template["Conditions"][name]))

    def creates(self, logical_id: str) -> bool:
        condition = self.template["Resources"][logical_id].get("Condition")
        return condition is None or self.condition(condition)

    def evaluate(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.evaluate(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"} and value["Ref"] in self.parameters:
            return self.parameters[value["Ref"]]
        if set(value) in ({"Condition"}, {"Fn::Condition"}):  # the long form, and the loader's name for !Condition
            return self.condition(next(iter(value.values())))
        if set(value) == {"Fn::Equals"}:
            left, right = self.evaluate(value["Fn::Equals"])
            return str(left) == str(right)
        if set(value) == {"Fn::Not"}:
            return not self.evaluate(value["Fn::Not"][0])
        if set(value) == {"Fn::And"}:
            return all(self.evaluate(value["Fn::And"]))
        if set(value) == {"Fn::Join"}:
            separator, items = value["Fn::Join"]
            return separator.join(self.evaluate(items))
        if set(value) == {"Fn::Split"}:
            separator, text = value["Fn::Split"]
            return str(self.evaluate(text)).split(separator)
        if set(value) == {"Fn::If"}:
            condition, when_true, when_false = value["Fn::If"]
            return self.evaluate(when_true if self.condition(condition) else when_false)
        if set(value) & {"Fn::Or", "Fn::FindInMap", "Fn::Select"}:
            raise NotImplementedError(f"this test cannot evaluate {value}")  # never guess a condition
        return {key: self.evaluate(item) for key, item in value.items()}

    def properties(self, logical_id: str) -> dict[str, Any]:
        evaluated = self.evaluate(resource(self.template, logical_id)["Properties"])
        return {key: item for key, item in evaluated.items() if item != {"Ref": "AWS::NoValue"}}


def filter_policy(subscription: dict[str, Any]) -> dict[str, Any] | None:
    """The subscription's filter policy as SNS reads it: JSON text (a family's prefix is an object) or an object."""
    policy = subscription.get("FilterPolicy")
    return json.loads(policy) if isinstance(policy, str) else policy


def types_taken(policy: dict[str, Any] | None) -> set[str]:
    """The catalog's types whose event_type attribute the policy lets through, as SNS matches strings."""
    if policy is None or "event_type" not in policy:
        return set(catalog.EVENT_TYPES)

    def matches(event_type: str, value: str | dict[str, str]) -> bool:
        if isinstance(value, str):
            return event_type == value
        [(operator, operand)] = value.items()
        assert operator == "prefix", value
        return event_type.startswith(operand)

    return {each for each in catalog.EVENT_TYPES if any(matches(each, value) for value in policy["event_type"])}


def test_the_block_is_exactly_these_resources_all_behind_the_switch(template):
    conditional = {
        logical_id
        for logical_id, body in template["Resources"].items()
        if body.get("Condition") in {"HasSubscriberQueue", "HasSubscriberCenterFilter", "HasSubscriberTypeFilter"}
    }

    assert conditional == BLOCK
    assert all(template["Resources"][logical_id]["Condition"] == "HasSubscriberQueue" for logical_id in BLOCK)


def test_off_by_default_nothing_is_created(template):
    deployed = Deployment(template)

    assert template["Parameters"]["SubscriberQueue"]["Default"] == "false"
    assert not any(deployed.creates(logical_id) for logical_id in BLOCK)
    outputs = [name for name, output in template["Outputs"].items() if output.get("Condition") == "HasSubscriberQueue"]
    assert sorted(outputs) == ["SubscriberDeadLetterQueueArn", "SubscriberQueueArn", "SubscriberQueueUrl"]


def test_turned_on_with_the_defaults_the_queue_receives_every_centers_deletions_only(template):
    deployed = Deployment(template, SubscriberQueue="true")

    assert all(deployed.creates(logical_id) for logical_id in BLOCK)
    subscription = deployed.properties("SubscriberSubscription")
    # What a queue deployed before the families were typed received, so an upgrade brings its consumer no new type.
    policy = filter_policy(subscription)
    assert types_taken(policy) == {BOOKING_DELETED}
    assert policy is not None
    assert "center_id" not in policy
    assert subscription["RawMessageDelivery"] is True  # the body is Zenoti's JSON, the attributes SQS attributes
    assert subscription["TopicArn"] == {"Ref": "EventsTopic"}
    assert subscription["Endpoint"] == {"Fn::GetAtt": ["SubscriberEventsQueue", "Arn"]}


TYPES = "Class.Booking.Deleted,Class.Booking.Cancelled"


CLASS_BOOKING = set(EVENT_TYPES)
EMPLOYEE = {"Employee.Created", "Employee.Updated", "Employee.Deleted"}


@pytest.mark.parametrize(
    ("types", "centers", "taken", "center_filter"),
    [
        pytest.param("", "", set(catalog.EVENT_TYPES), None, id="every type, every center: no filter"),
        pytest.param("", CENTER_A, set(catalog.EVENT_TYPES), [CENTER_A], id="every type of one center"),
        pytest.param(
            "", f"{CENTER_A},{CENTER_B}", set(catalog.EVENT_TYPES), [CENTER_A, CENTER_B], id="every type of two centers"
        ),
        pytest.param(TYPES, "", set(TYPES.split(",")), None, id="two types of every center"),
        pytest.param(
            TYPES, f"{CENTER_A},{CENTER_B}", set(TYPES.split(",")), [CENTER_A, CENTER_B], id="two types of two centers"
        ),
        pytest.param("Class.Booking.*", "", CLASS_BOOKING, None, id="one family"),
        pytest.param(
            "Employee.*,Class.Booking.Deleted",
            CENTER_A,
            EMPLOYEE | {BOOKING_DELETED},
            [CENTER_A],
            id="a family and a type",
        ),
        pytest.param(
            "Guest.Membership.*", "", set(catalog.GUEST_MEMBERSHIP.event_types), None, id="Guest.Membership alone"
        ),
        # Guest.* is a prefix of Guest.Membership.* too (docs/families.md says to list Guest's types to take it alone).
        pytest.param(
            "Guest.*",
            "",
            set(catalog.GUEST.event_types) | set(catalog.GUEST_MEMBERSHIP.event_types),
            None,
            id="Guest.* takes memberships too",
        ),
    ],
)
def test_each_filter_applies_when_given_and_both_together_when_both_are(template, types, centers, taken, center_filter):
    deployed = Deployment(template, SubscriberQueue="true", SubscriberEventTypes=types, SubscriberCenterIds=centers)

    # The attributes the receiver publishes (ReceivedEvent.attributes) and `ops replay` repeats. SNS requires
    # every key of a filter policy to match (tests/integration/test_subscriber_filter.py shows it in moto).
    policy = filter_policy(deployed.properties("SubscriberSubscription"))
    assert types_taken(policy) == taken
    assert (policy or {}).get("center_id") == center_filter
    assert policy is None or set(policy) <= {"event_type", "center_id"}


def test_the_type_filter_accepts_exactly_the_family_as_the_receiver_spells_it(template):
    parameter = template["Parameters"]["SubscriberEventTypes"]
    # CloudFormation matches a CommaDelimitedList's AllowedPattern against each of its values.
    pattern = re.compile(parameter["AllowedPattern"])

    assert parameter["Type"] == "CommaDelimitedList"
    families = [f"{family.prefix}*" for family in FAMILIES]
    assert all(pattern.fullmatch(event_type) for event_type in [*catalog.EVENT_TYPES, *families, ""])
    # A misspelt type would filter every event away, silently: refused when the stack is deployed instead.
    for typo in [
        "Class.Booking.Canceled",
        "class.booking.deleted",
        "Class.Booking.Deleted ",
        "Class.*",
        "*",
        "Class.Booking.Deleted*",
        "Guestpass.Redeemed",
        'Class.Booking.Deleted"',
    ]:
        assert not pattern.fullmatch(typo), typo


def test_the_center_filter_accepts_only_center_ids_as_they_are_published(template):
    pattern = re.compile(template["Parameters"]["SubscriberCenterIds"]["AllowedPattern"])

    assert pattern.fullmatch(CENTER_A)
    assert pattern.fullmatch("")
    # Published in lower case: an upper-case one would match nothing; a quote would break the policy's JSON.
    assert not pattern.fullmatch(CENTER_A.upper())
    assert not pattern.fullmatch(f'{CENTER_A}"')


def test_filters_without_the_queue_create_nothing(template):
    deployed = Deployment(template, SubscriberCenterIds=CENTER_A, SubscriberEventTypes=TYPES)

    assert not deployed.condition("HasSubscriberCenterFilter")
    assert not deployed.condition("HasSubscriberTypeFilter")
    assert not any(deployed.creates(logical_id) for logical_id in BLOCK)


def test_only_our_events_topic_may_send_to_the_queue(template):
    policy = resource(template, "SubscriberEventsQueuePolicy")["Properties"]
    [statement] = policy["PolicyDocument"]["Statement"]

    assert policy["Queues"] == [{"Ref": "SubscriberEventsQueue"}]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == {"Fn::GetAtt": ["SubscriberEventsQueue", "Arn"]}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "EventsTopic"}}}
    # The subscription waits for the policy, so the first events are not refused.
    assert resource(template, "SubscriberSubscription")["DependsOn"] == "SubscriberEventsQueuePolicy"


def test_failing_messages_move_to_an_encrypted_dead_letter_queue_that_keeps_them_longer(template):
    queue = resource(template, "SubscriberEventsQueue")["Properties"]
    dead_letters = resource(template, "SubscriberDeadLetterQueue")["Properties"]

    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["SubscriberDeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "SubscriberMaxReceiveCount"},
    }
    # A moved message keeps its first enqueue time: the dead-letter queue must outlast the queue.
    assert dead_letters["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]
    assert queue["SqsManagedSseEnabled"] is dead_letters["SqsManagedSseEnabled"] is True


@pytest.mark.parametrize(
    ("logical_id", "metric", "queue", "threshold"),
    [
        ("SubscriberDeadLettersAlarm", "ApproximateNumberOfMessagesVisible", "SubscriberDeadLetterQueue", 1),
        (
            "SubscriberBacklogAlarm",
            "ApproximateAgeOfOldestMessage",
            "SubscriberEventsQueue",
            {"Ref": "SubscriberOldestMessageAlarmSeconds"},
        ),
    ],
)
def test_alarms_watch_the_queues_and_notify_the_alarm_topic(template, logical_id, metric, queue, threshold):
    alarm = resource(template, logical_id)["Properties"]

    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", metric)
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    assert alarm["Threshold"] == threshold
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopic"}]
    description = alarm["AlarmDescription"]
    assert len(description if isinstance(description, str) else description["Fn::Sub"]) > 60  # says what to do


def test_the_dead_letter_alarm_gives_the_redrive_command(template):
    description = resource(template, "SubscriberDeadLettersAlarm")["Properties"]["AlarmDescription"]

    assert "aws sqs start-message-move-task --source-arn <SubscriberDeadLetterQueueArn>" in description
