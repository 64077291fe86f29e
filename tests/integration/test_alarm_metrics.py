"""Every custom metric an alarm watches is one the functions really emit, with the same dimensions."""

from __future__ import annotations

from local_stack.template import load_template
from tests.conftest import Stack, load_event, with_payload
from tests.integration.test_handler import emitted_metrics, other_event
from tests.unit.test_template_observability import watched_metrics


def test_alarms_watch_metrics_the_functions_emit(invoke, publish_pending, stack: Stack, api_event, capsys):
    stack.faults.fail("secrets-manager", "GetSecretValue", times=2)  # both attempts of a cold start's read
    invoke(api_event)  # DependencyFailures secret
    invoke(api_event)  # EventsAccepted
    invoke(load_event("apigw_wrong_token.json"))  # EventsRejected reason=unauthorized
    invoke(load_event("apigw_invalid_body.json"))  # EventsHeld
    stack.faults.fail("sns", "Publish")
    invoke(with_payload(api_event, other_event(api_event["body"], "fails-to-publish")))  # DependencyFailures topic
    publish_pending()  # OldestPendingAge
    emitted = {
        (name, tuple(sorted(dimensions.items()))) for name, dimensions in emitted_metrics(capsys.readouterr().out)
    }

    watched = [
        (metric["MetricName"], {d["Name"]: d["Value"] for d in metric["Dimensions"]})
        for alarm in load_template()["Resources"].values()
        if alarm["Type"] == "AWS::CloudWatch::Alarm"
        for metric in watched_metrics(alarm["Properties"])
        if metric["Namespace"] == "ZenotiWebhooks"
    ]
    assert len(watched) == 9  # EventsRejected twice: GatewayRefusalsAlarm, FrontDoorRefusalsAlarm
    for name, dimensions in watched:
        assert (name, tuple(sorted(dimensions.items()))) in emitted, name
