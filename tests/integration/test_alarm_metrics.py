"""Every custom metric an alarm watches is one the functions really emit, with the same dimensions."""

from __future__ import annotations

import json

from devtools.local_stack.resources import local_stack_name
from devtools.local_stack.template import load_template
from tests.conftest import Stack, load_event, with_body, with_payload
from tests.integration.test_handler import emitted_metrics, other_event
from tests.unit.test_template_observability import for_stack, watched_metrics


def test_alarms_watch_metrics_the_functions_emit(invoke, handler, stack: Stack, api_event, capsys, monkeypatch):
    stack.faults.fail("secrets-manager", "GetSecretValue", times=2)  # both attempts of a cold start's read
    invoke(api_event)  # DependencyFailures secret
    invoke(api_event)  # EventsAccepted
    invoke(load_event("apigw_wrong_token.json"))  # EventsRefused, plain and reason=unauthorized
    invoke(load_event("apigw_invalid_body.json"))  # EventsHeld, plain and reason=invalid_event
    invoke(with_body(api_event, "{not json"))  # EventsHeld reason=malformed_body
    dressed = json.loads(api_event["body"]) | {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t"}
    invoke(with_payload(api_event, dressed))  # EventsHeld reason=undeliverable
    invoke(api_event)  # stored by now (the secret's faults are spent), or a redelivery
    conflict = invoke(with_body(api_event, api_event["body"].replace("119986", "119987")))
    assert conflict.body.get("reason") == "conflicting_duplicate", conflict.body  # ConflictingDuplicates
    stack.faults.fail("sns", "Publish")
    invoke(with_payload(api_event, other_event(api_event["body"], "fails-to-publish")))
    stack.publish()  # the publisher: DependencyFailures topic
    with monkeypatch.context() as bug:
        bug.setattr(handler.receiver, "receive", lambda delivery: {}["a bug of ours"])
        assert invoke(api_event).status == 500  # UnexpectedErrors
    emitted = {
        (name, tuple(sorted(dimensions.items()))) for name, dimensions in emitted_metrics(capsys.readouterr().out)
    }

    # The template as CloudFormation resolves it in the stack these functions belong to (the local stack).
    template = for_stack(load_template(), local_stack_name())
    watched = [
        (metric["MetricName"], {d["Name"]: d["Value"] for d in metric["Dimensions"]})
        for alarm in template["Resources"].values()
        if alarm["Type"] == "AWS::CloudWatch::Alarm"
        for metric in watched_metrics(alarm["Properties"])
        if metric["Namespace"] == "ZenotiWebhooks"
    ]
    # EventsRefused twice (GatewayRefusalsAlarm, FrontDoorRefusalsAlarm); EventsHeld plain (HeldBodiesGrowthAlarm)
    # and by each reason (HeldBodiesAlarm, HeldMalformedBodiesAlarm, HeldUndeliverableBodiesAlarm);
    # ConflictingDuplicates (ConflictingDuplicatesAlarm).
    assert len(watched) == 11
    assert ("UnexpectedErrors", {"service": local_stack_name()}) in watched
    for name, dimensions in watched:
        assert (name, tuple(sorted(dimensions.items()))) in emitted, name
