"""The real entry point, fed realistic API Gateway events, against the template's resources in moto."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest

from devtools.local_stack.resources import LOCAL_TOKEN, REGION, local_stack_name
from tests.conftest import Stack, load_event, with_body, with_payload
from zenoti_receiver.adapters.event_table import stored_payload
from zenoti_receiver.models.class_booking import EVENT_TYPES

SAMPLE_EVENT_ID = "6239c247a961750e01dda051"
DELETED = "Class.Booking.Deleted"
ACCEPTED = {"status": "accepted", "event_id": SAMPLE_EVENT_ID, "event_type": DELETED}


def other_event(raw_payload: str, event_id: str, **data_changes: Any) -> dict[str, Any]:
    payload = json.loads(raw_payload)
    payload["event_id"] = event_id
    payload["data"].update(data_changes)
    return payload


# --- The happy path -----------------------------------------------------------------------------


def test_sample_event_is_stored_once_with_its_verbatim_payload(invoke, stack: Stack, api_event, raw_payload):
    response = invoke(api_event)

    assert response.status == 200
    assert response.body == ACCEPTED
    assert response.headers["content-type"] == "application/json"
    [item] = stack.items()
    assert item["event_id"] == {"S": SAMPLE_EVENT_ID}
    assert stored_payload(item) == raw_payload
    assert item["request_id"] == {"S": api_event["requestContext"]["requestId"]}
    assert item["received_at"]["S"].endswith("Z")
    assert item["center_id"] == {"S": "e1693623-bda5-4b3e-a2a7-611ea4f1f7ad"}
    assert item["guest_id"] == {"S": "ef44e802-505c-4129-9744-0978c094c8f2"}
    assert item["occurred_at"] == {"S": "2022-03-22T12:34:15.379749Z"}
    # What the publisher sends with it, stored with it: the item is the message.
    assert (item["event_type"], item["event_resource"]) == ({"S": DELETED}, {"S": "Class"})
    # One write and nothing after it: the answer is not waiting on a publication.
    assert not {"published", "sns_message_id"} & item.keys()


def test_subscriber_receives_the_event_exactly_as_zenoti_sent_it(invoke, stack: Stack, api_event, raw_payload, logs):
    invoke(api_event)

    [notification] = stack.messages()  # the table's stream, then the publisher, as Lambda runs them
    assert notification["Message"] == raw_payload
    assert notification["MessageAttributes"] == {
        "event_type": {"Type": "String", "Value": "Class.Booking.Deleted"},
        "event_resource": {"Type": "String", "Value": "Class"},
        "center_id": {"Type": "String", "Value": "e1693623-bda5-4b3e-a2a7-611ea4f1f7ad"},
    }
    # What an operator finds of one event's publication: its message id, in the publisher's log.
    [published] = [line for line in logs() if line["message"] == "Event published"]
    assert (published["event_id"], published["message_id"]) == (SAMPLE_EVENT_ID, notification["MessageId"])


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_every_verb_zenoti_can_be_configured_with_is_accepted(invoke, stack: Stack, api_event, method):
    api_event["requestContext"]["http"]["method"] = method
    api_event["routeKey"] = api_event["requestContext"]["routeKey"] = f"{method} /zenoti/class-booking-deleted"

    assert invoke(api_event).status == 200
    assert len(stack.items()) == 1


def test_other_methods_are_refused_with_405(invoke, stack: Stack, api_event):
    api_event["requestContext"]["http"]["method"] = "GET"

    response = invoke(api_event)

    assert response.status == 405
    assert response.body["reason"] == "method_not_allowed"
    assert stack.items() == []


def test_base64_encoded_body_is_decoded(invoke, stack: Stack, api_event, raw_payload):
    response = invoke(with_body(api_event, raw_payload, base64_encoded=True))

    assert response.status == 200
    [item] = stack.items()
    assert stored_payload(item) == raw_payload
    assert stack.messages()[0]["Message"] == raw_payload


def test_unknown_fields_are_kept_in_the_item_and_the_message(invoke, stack: Stack, api_event, raw_payload):
    payload = json.loads(raw_payload)
    payload["added_by_zenoti_later"] = {"nested": [1, 2]}
    payload["data"]["room_id"] = "R-12"
    body = json.dumps(payload)

    assert invoke(with_body(api_event, body)).status == 200

    assert stored_payload(stack.items()[0]) == body
    assert json.loads(stack.messages()[0]["Message"])["data"]["room_id"] == "R-12"


# --- Authentication ------------------------------------------------------------------------------


def test_wrong_token_sample_is_refused_and_nothing_is_stored(invoke, stack: Stack, log_stream):
    response = invoke(load_event("apigw_wrong_token.json"))

    assert response.status == 401
    assert response.body["status"] == "refused"
    assert response.body["reason"] == "unauthorized"
    assert stack.items() == []
    assert stack.messages() == []
    assert "not-the-token" not in log_stream.getvalue()


def test_token_in_header_is_accepted(invoke, stack: Stack, api_event):
    del api_event["queryStringParameters"]
    api_event["rawQueryString"] = ""
    api_event["headers"]["x-webhook-token"] = LOCAL_TOKEN

    assert invoke(api_event).status == 200
    assert len(stack.items()) == 1


def test_missing_token_is_refused(invoke, stack: Stack, api_event):
    del api_event["queryStringParameters"]

    response = invoke(api_event)

    assert response.status == 401
    assert "missing token" in response.body["message"]
    assert stack.items() == []


def test_query_and_header_tokens_must_agree(invoke, stack: Stack, api_event):
    api_event["headers"]["x-webhook-token"] = "something-else"

    assert invoke(api_event).status == 401
    assert stack.items() == []


def test_previous_token_still_works_during_a_rotation(invoke, stack: Stack, api_event):
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=stack.resources.secret_arn,
        SecretString=json.dumps({"token": "the-new-token", "previous_token": LOCAL_TOKEN}),
    )

    assert invoke(api_event).status == 200  # the old token, from the URL Zenoti still has
    api_event["queryStringParameters"]["token"] = "the-new-token"
    assert invoke(with_payload(api_event, other_event(api_event["body"], "e2"))).status == 200
    assert len(stack.items()) == 2


def test_valid_token_never_reaches_the_logs(invoke, stack: Stack, api_event, log_stream):
    invoke(api_event)
    invoke(api_event)
    invoke(load_event("apigw_invalid_body.json"))
    stack.faults.fail("sns", "Publish")
    invoke(with_payload(api_event, other_event(api_event["body"], "e3")))

    assert "Delivery duplicate" in log_stream.getvalue()  # the function did log
    assert LOCAL_TOKEN not in log_stream.getvalue()


# --- Bad bodies ----------------------------------------------------------------------------------


def test_invalid_body_sample_is_held_with_field_level_errors(invoke, stack: Stack):
    response = invoke(load_event("apigw_invalid_body.json"))

    assert response.status == 202
    assert (response.body["status"], response.body["reason"]) == ("held", "invalid_event")
    fields = {error["field"] for error in response.body["errors"]}
    assert fields == {"data.guest_id", "data.registration_id"}
    assert all(error["message"] for error in response.body["errors"])
    assert stack.items() == []
    assert stack.messages() == []


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ('{"event_id": ', 202, "malformed_body"),
        ("not json at all", 202, "malformed_body"),
        ("[1, 2, 3]", 202, "invalid_event"),
        ('"a string"', 202, "invalid_event"),
        ("{}", 202, "invalid_event"),
    ],
)
def test_bodies_that_are_not_an_event_are_held(invoke, stack: Stack, api_event, body, status, reason):
    response = invoke(with_body(api_event, body))

    assert (response.status, response.body["status"], response.body["reason"]) == (status, "held", reason)
    assert response.body["message"]
    assert stack.items() == []
    assert stack.messages() == []
    assert len(stack.held_bodies()) == 1


def test_body_flagged_base64_that_is_not_base64_is_held(invoke, stack: Stack, api_event):
    api_event["isBase64Encoded"] = True  # the body is plain JSON text

    response = invoke(api_event)

    assert (response.status, response.body["reason"]) == (202, "malformed_body")
    assert "base64" in response.body["message"]
    assert stack.items() == []


def test_body_that_is_not_utf8_is_held(invoke, stack: Stack, api_event, raw_payload):
    response = invoke(with_body(api_event, raw_payload.encode().replace(b"v1", b"v\xff"), base64_encoded=True))

    assert (response.status, response.body["reason"]) == (202, "malformed_body")
    assert "UTF-8" in response.body["message"]


@pytest.mark.parametrize("event_type", [t for t in EVENT_TYPES if t != "Class.Booking.Deleted"])
def test_every_sibling_is_accepted_on_the_same_url(invoke, stack: Stack, api_event, raw_payload, event_type):
    payload = json.loads(raw_payload)
    payload["event_type"] = event_type

    response = invoke(with_payload(api_event, payload))

    assert response.status == 200
    assert response.body["status"] == "accepted"
    assert [item["event_id"]["S"] for item in stack.items()] == [payload["event_id"]]


def test_oversized_body_is_a_413(invoke, stack: Stack, api_event, raw_payload):
    payload = json.loads(raw_payload)
    payload["padding"] = "x" * (256 * 1024)

    response = invoke(with_payload(api_event, payload))

    assert response.status == 413
    assert stack.items() == []


# --- Duplicates and recovery ---------------------------------------------------------------------


def test_redelivery_is_a_duplicate_with_no_second_item_or_message(invoke, stack: Stack, api_event):
    first = invoke(api_event)
    again = copy.deepcopy(api_event)
    again["requestContext"]["requestId"] = "another-request"

    second = invoke(again)

    assert first.body["status"] == "accepted"
    assert second.status == 200
    assert second.body == {"status": "duplicate", "event_id": SAMPLE_EVENT_ID, "event_type": DELETED}
    assert len(stack.items()) == 1
    assert len(stack.messages()) == 1
    assert stack.items()[0]["request_id"] == {"S": api_event["requestContext"]["requestId"]}


def test_event_stored_while_sns_fails_is_accepted_then_published_once_by_the_stream(
    invoke, stack: Stack, api_event, raw_payload
):
    stack.faults.fail("sns", "Publish")

    answered = invoke(api_event)

    # Stored is what Zenoti needs: a 2xx, and no redelivery is needed for the rest.
    assert (answered.status, answered.body) == (200, ACCEPTED)
    attempt = stack.publish()
    assert attempt.failed  # the publisher reported the record: Lambda retries it
    assert stack.messages(publish=False) == []

    stack.faults.clear()
    [notification] = stack.messages()

    assert notification["Message"] == raw_payload
    assert notification["MessageAttributes"]["center_id"]["Value"] == "e1693623-bda5-4b3e-a2a7-611ea4f1f7ad"
    assert invoke(api_event).body["status"] == "duplicate"
    assert stack.messages() == []  # nothing more was sent


# --- AWS failing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["server_error", "throttling", "timeout"])
@pytest.mark.parametrize(
    ("service", "operation"),
    # The secret at a cold start (nothing read yet to trust), and the write that stores the event.
    [("secrets-manager", "GetSecretValue"), ("dynamodb", "PutItem")],
)
def test_a_failure_that_leaves_the_event_unstored_is_a_5xx_and_the_retry_succeeds(
    invoke, stack: Stack, api_event, service, operation, kind
):
    stack.faults.fail(service, operation, kind)

    failed = invoke(api_event)

    assert failed.status == 503
    assert failed.body == {
        "status": "error",
        "reason": "temporarily_unavailable",
        "message": "temporary failure; please send the event again",
    }
    assert stack.items() == []
    assert stack.messages() == []

    stack.faults.clear()
    retried = invoke(api_event)

    assert retried.status == 200
    assert retried.body == ACCEPTED
    assert len(stack.items()) == 1
    assert len(stack.messages()) == 1


@pytest.mark.parametrize("kind", ["server_error", "throttling", "timeout"])
def test_sns_failing_is_never_a_5xx_nor_a_call_before_the_answer(invoke, stack: Stack, api_event, kind):
    stack.faults.fail("sns", "Publish", kind)

    answered = invoke(api_event)

    assert (answered.status, answered.body) == (200, ACCEPTED)
    assert len(stack.items()) == 1
    assert "sns.Publish" not in stack.faults.attempts  # the receiver never called SNS


@pytest.mark.parametrize(
    ("service", "operation", "dependency"),
    [
        ("secrets-manager", "GetSecretValue", "secret"),
        ("dynamodb", "PutItem", "events_table"),
    ],
)
def test_failures_are_counted_by_the_dependency_that_failed(
    invoke, stack: Stack, api_event, capsys, service, operation, dependency
):
    stack.faults.fail(service, operation)

    invoke(api_event)

    failures = [dims for name, dims in emitted_metrics(capsys.readouterr().out) if name == "DependencyFailures"]
    # The service dimension is the stack's name (template.yaml): the local stack's here.
    assert failures == [{"service": local_stack_name(), "dependency": dependency}]


def test_the_publisher_counts_a_failing_topic_as_a_dependency_failure(invoke, stack: Stack, api_event, capsys):
    invoke(api_event)
    capsys.readouterr()
    stack.faults.fail("sns", "Publish")

    stack.publish()

    emitted = emitted_metrics(capsys.readouterr().out)
    failures = [dims for name, dims in emitted if name == "DependencyFailures"]
    assert failures == [{"service": local_stack_name(), "dependency": "topic"}]
    assert "PublicationsRetried" in {name for name, _ in emitted}


def test_botocore_retries_are_bounded(invoke, stack: Stack, api_event):
    stack.faults.fail("dynamodb", "PutItem", "timeout")

    invoke(api_event)

    assert stack.faults.attempts["dynamodb.PutItem"] == 2


# --- Observability -------------------------------------------------------------------------------


def test_logs_carry_the_request_id_as_correlation_id(invoke, api_event, logs):
    invoke(api_event)
    invoke(api_event)

    [duplicate] = [line for line in logs() if line["message"] == "Delivery duplicate"]
    assert duplicate["correlation_id"] == api_event["requestContext"]["requestId"]
    assert duplicate["event_id"] == SAMPLE_EVENT_ID


def test_a_new_event_logs_nothing_at_info_but_its_publication(invoke, stack: Stack, api_event, logs):
    # Every event's log bytes are paid for: the item records the delivery, the publisher's line its message.
    invoke(api_event)
    stack.publish()

    [line] = logs()
    assert (line["message"], line["event_id"]) == ("Event published", SAMPLE_EVENT_ID)
    assert "function_arn" not in line  # no Lambda context on the line: the REPORT line has the request id


def emitted_metrics(output: str) -> list[tuple[str, dict[str, str]]]:
    """(metric name, dimensions) of every series the EMF records printed make in CloudWatch."""
    found = []
    for line in output.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        record = json.loads(line)
        for directive in record["_aws"]["CloudWatchMetrics"]:
            for group in directive["Dimensions"]:  # each dimension set is a series of its own
                dimensions = {name: record[name] for name in group}
                found += [(metric["Name"], dimensions) for metric in directive["Metrics"]]
    return found


def test_metrics_count_each_outcome(invoke, stack: Stack, api_event, capsys):
    invoke(api_event)
    invoke(api_event)
    invoke(load_event("apigw_wrong_token.json"))
    invoke(load_event("apigw_invalid_body.json"))
    stack.faults.fail("dynamodb", "PutItem")
    invoke(with_payload(api_event, other_event(api_event["body"], "another")))

    output = capsys.readouterr().out
    metrics = [(name, tuple(sorted(set(dims) - {"service"})), dims) for name, dims in emitted_metrics(output)]
    names = [(name, tuple(dims[key] for key in keys)) for name, keys, dims in metrics]
    assert names.count(("EventsAccepted", ())) == 1
    assert names.count(("EventsAccepted", (DELETED,))) == 1
    assert names.count(("EventsDuplicate", ())) == 1
    assert names.count(("EventsDuplicate", (DELETED,))) == 1
    assert names.count(("EventsRefused", ())) == 1
    assert names.count(("EventsRefused", ("unauthorized",))) == 1
    assert names.count(("EventsHeld", ())) == 1
    assert names.count(("EventsHeld", ("invalid_event",))) == 1
    assert names.count(("EventsFailed", ())) == 1
    assert [name for name, _ in names].count("ColdStart") == 1
    assert {keys for _, keys, _ in metrics} <= {(), ("event_type",), ("reason",), ("dependency",), ("function_name",)}
    failures = [dims.get("dependency") for name, dims in emitted_metrics(output) if name == "DependencyFailures"]
    assert failures == ["events_table"]


def refusal(api_event: dict[str, Any], raw_payload: str, reason: str) -> dict[str, Any]:
    """A request refused with nothing stored: what anyone who finds the URL can send."""
    if reason == "unauthorized":
        return load_event("apigw_wrong_token.json")
    if reason == "method_not_allowed":
        api_event["requestContext"]["http"]["method"] = "GET"
        return api_event
    return with_payload(api_event, {**json.loads(raw_payload), "padding": "x" * (256 * 1024)})


@pytest.mark.parametrize("reason", ["unauthorized", "method_not_allowed", "payload_too_large"])
def test_a_refusal_writes_one_metric_document_and_no_log_line(
    invoke, stack: Stack, api_event, raw_payload, logs, capsys, reason
):
    invoke(load_event("apigw_wrong_token.json"))  # the cold start's own document (ColdStart) out of the way
    capsys.readouterr()
    logged_before = len(logs())

    response = invoke(refusal(api_event, raw_payload, reason))

    printed = capsys.readouterr()
    assert response.body["reason"] == reason
    # A flood of refusals is billed by the byte: the metric is its record, at LogLevel INFO no line.
    assert logs()[logged_before:] == []
    [document] = printed.out.splitlines()
    assert printed.err == ""
    # One EMF document, two series: the plain count (GatewayRefusalsAlarm) and the reason's (UnauthorizedAlarm).
    assert emitted_metrics(document) == [
        ("EventsRefused", {"service": local_stack_name()}),
        ("EventsRefused", {"service": local_stack_name(), "reason": reason}),
    ]


def test_an_early_year_is_stored_so_that_it_sorts_before_later_ones(invoke, stack: Stack, api_event, raw_payload):
    payload = json.loads(raw_payload)
    payload["event_timestamp"] = "0999-03-22T12:34:15Z"

    assert invoke(with_payload(api_event, payload)).status == 200

    [item] = stack.items()
    assert item["occurred_at"] == {"S": "0999-03-22T12:34:15.000000Z"}  # not "999-...", after "2022-..."
