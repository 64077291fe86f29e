"""The subscriber's handler on SQS events, as Lambda's event source mapping calls it."""

from __future__ import annotations

import io
import json
import logging
import time

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from booking_subscriber.settings import SECONDS_PER_DAY, ConfigurationError, Settings
from conftest import (
    Subscriber,
    _fresh_handler,
    message_attributes,
    notification_body,
    payload_with,
    raw_sqs_event,
    sample_payload,
    sample_sqs_event,
    sqs_event,
)
from subscriber_local.event_source import LambdaContext

from zenoti_receiver.models.class_booking import EVENT_TYPES

HANDLED = ["Class.Booking.Deleted", "Class.Booking.Cancelled"]  # action.py, ACTIONS


def emitted_metrics(stdout: str) -> list[str]:
    """The names of the metrics the function printed (CloudWatch embedded metric format), in order."""
    names = []
    for line in stdout.splitlines():
        if line.startswith('{"_aws"'):
            for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]:
                names += [metric["Name"] for metric in directive["Metrics"]]
    return names


def test_the_sample_event_is_recorded_and_nothing_is_reported_failed(subscriber: Subscriber, capsys):
    response = subscriber.invoke(sample_sqs_event())

    assert response == {"batchItemFailures": []}
    payload = json.loads(sample_payload())
    recorded = subscriber.deletions()[payload["event_id"]]
    assert recorded["center_id"] == payload["data"]["center_id"]
    assert recorded["guest_id"] == payload["data"]["guest_id"]
    assert int(recorded["registration_id"]) == payload["data"]["registration_id"]
    assert recorded["occurred_at"].startswith(payload["event_timestamp"][:19])
    assert recorded["times_recorded"] == "1"
    assert recorded["event_type"] == "Class.Booking.Deleted"
    assert "EventsHandled" in emitted_metrics(capsys.readouterr().out)


SHAPES = ["sns notification", "raw delivery"]
# The template's RawMessageDelivery for each shape: the subscriber fixture is configured with it.
each_shape = pytest.mark.parametrize("raw_message_delivery", ["false", "true"], ids=SHAPES)


def shape_of(subscriber: Subscriber) -> str:
    return SHAPES[subscriber.raw]


@each_shape
@pytest.mark.parametrize("event_type", HANDLED)
def test_each_handled_type_in_either_shape_reaches_its_action_once(subscriber: Subscriber, logs, event_type):
    event_id = f"{event_type}-{shape_of(subscriber)}".replace(" ", "-")
    payload = payload_with(event_id, event_type)

    response = subscriber.invoke(subscriber.shaped(payload))

    assert response == {"batchItemFailures": []}
    recorded = subscriber.deletions()[event_id]
    assert (recorded["event_type"], recorded["times_recorded"]) == (event_type, "1")
    [line] = [line for line in logs() if line["message"] == "Event handled"]
    assert (line["event_type"], line["shape"], line["replay"]) == (event_type, shape_of(subscriber), False)


@each_shape
def test_a_booking_of_the_all_zero_center_is_handled_without_a_center_id_attribute(subscriber: Subscriber, logs):
    # Zenoti writes the all-zero GUID where an id has no value, and the receiver publishes such an event
    # without center_id: its attributes describe it, so it is handled, never refused to the dead-letter queue.
    payload = payload_with("no-center", center_id="00000000-0000-0000-0000-000000000000")
    event = subscriber.shaped(payload)
    if subscriber.raw:
        assert "center_id" not in event["Records"][0]["messageAttributes"]
    else:
        assert "center_id" not in json.loads(event["Records"][0]["body"])["MessageAttributes"]

    response = subscriber.invoke(event)

    assert response == {"batchItemFailures": []}
    assert subscriber.deletions()["no-center"]["center_id"] == "00000000-0000-0000-0000-000000000000"
    assert [line for line in logs() if line["level"] == "WARNING"] == []


@each_shape
@pytest.mark.parametrize("event_type", [t for t in EVENT_TYPES if t not in HANDLED])
def test_a_type_without_an_action_fails_alone_and_says_how_to_fix_it(subscriber: Subscriber, logs, event_type):
    # Only if the subscription's filter lets it through: failed (to the dead-letter queue in the end, alarmed),
    # never acknowledged unhandled, and never remembered as handled, so that once its action exists it runs.
    unhandled, handled = payload_with("no-action", event_type), payload_with("has-action")
    event = subscriber.shaped(unhandled)
    event["Records"] += subscriber.shaped(handled)["Records"]
    event["Records"][1]["messageId"] = "second-message"

    response = subscriber.invoke(event)

    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert set(subscriber.deletions()) == {"has-action"}
    [warning] = [line for line in logs() if line["level"] == "WARNING"]
    assert warning["message"].startswith(f"Message not handled: no action for {event_type} (event_id no-action)")
    assert "ACTIONS in action.py" in warning["message"]
    assert "filter policy" in warning["message"]
    assert len(subscriber.idempotency_records()) == 1  # the handled one's only


@each_shape
def test_a_message_of_the_other_shape_holds_no_event(subscriber: Subscriber, logs):
    # The shape is the subscription's, never guessed: an SNS notification reaching a raw-configured function
    # is a body that is no Class booking event, and a raw body reaching a notification-configured one is no
    # notification. Either fails, to the dead-letter queue in the end, where the misconfiguration shows.
    payload = payload_with("other-shape")
    other = sqs_event(notification_body(payload)) if subscriber.raw else raw_sqs_event(payload)

    with pytest.raises(BatchProcessingError):
        subscriber.invoke(other)

    assert subscriber.deletions() == {}
    [warning] = [line for line in logs() if line["level"] == "WARNING"]
    assert warning["message"].startswith("Message not handled: it holds no valid Class booking event")
    fields = {error["field"] for error in warning["errors"]}
    assert ("event_id" in fields) if subscriber.raw else ({"Type", "TopicArn", "MessageId"} <= fields)


@each_shape
def test_a_replay_is_recognised_in_either_shape(subscriber: Subscriber, logs, capsys):
    payload = payload_with(f"replayed-{shape_of(subscriber)}".replace(" ", "-"))

    response = subscriber.invoke(subscriber.shaped(payload, replay=True))

    assert response == {"batchItemFailures": []}
    assert logs()[-1]["replay"] is True
    assert "ReplaysReceived" in emitted_metrics(capsys.readouterr().out)


def test_the_same_message_delivered_again_is_skipped(subscriber: Subscriber, logs, capsys):
    event = sample_sqs_event()
    subscriber.invoke(event)

    response = subscriber.invoke(event)

    assert response == {"batchItemFailures": []}  # handled: SQS deletes it
    assert subscriber.deletions()[json.loads(sample_payload())["event_id"]]["times_recorded"] == "1"
    assert [line["message"] for line in logs()] == ["Event handled", "Event already handled; skipped"]
    assert emitted_metrics(capsys.readouterr().out).count("DuplicatesSkipped") == 1


def test_the_same_event_twice_in_one_batch_is_recorded_once(subscriber: Subscriber):
    body = notification_body(sample_payload())

    response = subscriber.invoke(sqs_event(body, notification_body(sample_payload(), message_id="another-sns-id")))

    assert response == {"batchItemFailures": []}
    assert subscriber.deletions()[json.loads(sample_payload())["event_id"]]["times_recorded"] == "1"


def test_a_replay_of_an_event_not_handled_before_is_handled(subscriber: Subscriber, logs, capsys):
    payload = payload_with("missed-while-down")

    response = subscriber.invoke(sqs_event(notification_body(payload, replay=True)))

    assert response == {"batchItemFailures": []}
    assert subscriber.deletions()["missed-while-down"]["times_recorded"] == "1"
    assert logs()[-1]["replay"] is True
    assert {"EventsHandled", "ReplaysReceived"} <= set(emitted_metrics(capsys.readouterr().out))


@pytest.mark.parametrize(
    "bad_body",
    [
        pytest.param("not json at all", id="not JSON"),
        pytest.param(notification_body("not json"), id="a notification whose Message is not JSON"),
        pytest.param(json.dumps({"hello": "world"}), id="JSON that is neither shape"),
        pytest.param(
            notification_body(sample_payload().replace("Class.Booking.Deleted", "Class.Booking.Moved")),
            id="a type outside the family",
        ),
        pytest.param(notification_body(payload_with("bad-center", center_id="not-a-uuid")), id="invalid center_id"),
        pytest.param(payload_with("raw-body"), id="a raw body, where the subscription sends notifications"),
    ],
)
def test_a_message_that_holds_no_class_booking_event_alone_is_reported_failed(subscriber: Subscriber, logs, bad_body):
    good = notification_body(payload_with("good-one"))
    event = sqs_event(good, bad_body)

    response = subscriber.invoke(event)

    bad_id = event["Records"][1]["messageId"]
    assert response == {"batchItemFailures": [{"itemIdentifier": bad_id}]}
    assert set(subscriber.deletions()) == {"good-one"}
    [warning] = [line for line in logs() if line["level"] == "WARNING"]
    assert warning["message_id"] == bad_id
    assert warning["message"].startswith("Message not handled")
    assert warning["errors"]  # pydantic's errors, by field


GUEST = "SECRET-GUEST-7f3a"  # a value no log line may repeat


@each_shape
def test_a_validation_error_is_logged_by_field_without_the_values_it_was_given(subscriber: Subscriber, logs, capsys):
    bad = payload_with("bad-guest", guest_id=GUEST, center_id=f"{GUEST}-center")

    # A batch where every message fails: Powertools raises, and Lambda logs that error too.
    with pytest.raises(BatchProcessingError) as raised:
        subscriber.invoke(subscriber.shaped(bad))

    [warning] = [line for line in logs() if line["level"] == "WARNING"]
    prefix = "" if subscriber.raw else "Message."
    assert {error["field"] for error in warning["errors"]} == {f"{prefix}data.guest_id", f"{prefix}data.center_id"}
    assert all(error["type"] and error["message"] for error in warning["errors"])
    printed = capsys.readouterr()
    for text in (json.dumps(logs()), str(raised.value), printed.out, printed.err):
        assert GUEST not in text
    assert "not a valid Class booking event" in str(raised.value)


def test_a_batch_where_every_message_fails_is_an_error_so_lambda_retries_all_of_it(subscriber: Subscriber):
    with pytest.raises(BatchProcessingError):
        subscriber.invoke(sqs_event("not json", "nor this"))

    assert subscriber.deletions() == {}


def test_when_the_action_fails_the_message_comes_back_and_is_then_recorded_once(subscriber: Subscriber, capsys):
    subscriber.outage.active = True
    subscriber.outage.event_ids = {"while-down"}
    event = sqs_event(notification_body(payload_with("while-down")), notification_body(payload_with("fine")))

    first = subscriber.invoke(event)

    assert first == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert set(subscriber.deletions()) == {"fine"}
    assert "MessagesFailed" in emitted_metrics(capsys.readouterr().out)

    subscriber.outage.active = False
    second = subscriber.invoke(sqs_event(notification_body(payload_with("while-down"))))

    assert second == {"batchItemFailures": []}  # the failed attempt left no record that blocks the retry
    assert subscriber.deletions()["while-down"]["times_recorded"] == "1"


def test_a_handled_event_id_is_remembered_for_idempotency_days(subscriber: Subscriber):
    days = int(subscriber.resources.function_environment["IDEMPOTENCY_DAYS"])
    before = int(time.time())
    subscriber.invoke(sample_sqs_event())
    after = int(time.time())

    [record] = subscriber.idempotency_records()

    assert record["status"]["S"] == "COMPLETED"
    assert before + days * SECONDS_PER_DAY <= int(record["expiration"]["N"]) <= after + days * SECONDS_PER_DAY + 1


def test_a_missing_setting_fails_at_cold_start_by_name():
    with pytest.raises(ConfigurationError, match="DELETIONS_TABLE_NAME, IDEMPOTENCY_TABLE_NAME, RAW_MESSAGE_DELIVERY"):
        Settings.from_environment({"POWERTOOLS_SERVICE_NAME": "s", "POWERTOOLS_METRICS_NAMESPACE": "n"})


@pytest.mark.parametrize("days", ["0", "-3", "thirty", "1.5"])
def test_idempotency_days_must_be_a_whole_positive_number(days):
    environment = {
        "DELETIONS_TABLE_NAME": "d",
        "IDEMPOTENCY_TABLE_NAME": "i",
        "RAW_MESSAGE_DELIVERY": "false",
        "POWERTOOLS_SERVICE_NAME": "s",
        "POWERTOOLS_METRICS_NAMESPACE": "n",
        "IDEMPOTENCY_DAYS": days,
    }
    with pytest.raises(ConfigurationError, match="IDEMPOTENCY_DAYS"):
        Settings.from_environment(environment)


@pytest.mark.parametrize("raw", ["", "True", "yes", "1", "raw"])
def test_the_shape_must_be_said_exactly_as_the_subscription_has_it(raw):
    environment = {
        "DELETIONS_TABLE_NAME": "d",
        "IDEMPOTENCY_TABLE_NAME": "i",
        "RAW_MESSAGE_DELIVERY": raw,
        "POWERTOOLS_SERVICE_NAME": "s",
        "POWERTOOLS_METRICS_NAMESPACE": "n",
    }
    with pytest.raises(ConfigurationError, match="RAW_MESSAGE_DELIVERY"):
        Settings.from_environment(environment)


# --- Smuggling: a body that carries SNS's fields, another event in its Message (issue 25) ------------------

INNER_CENTER = "0c4e1e7a-53b9-4f3c-9a52-3f0d3c0c2f11"  # a center no filter chose


def smuggling(outer_id: str = "outer-event") -> tuple[str, str]:
    """A valid event that also carries SNS's notification fields, another event (which claims to be a replay of
    another center) in its Message: what a sender with the token could try. (outer, inner)."""
    inner = payload_with("inner-event", "Class.Booking.Deleted", center_id=INNER_CENTER)
    outer = json.loads(payload_with(outer_id))
    outer.update(
        Type="Notification",
        MessageId="5b8a3f6e-2c1d-4e8f-9a7b-3c2d1e0f9a8b",
        TopicArn="arn:aws:sns:us-east-1:123456789012:zenoti-local-events",
        Message=inner,
        MessageAttributes={
            "event_type": {"Type": "String", "Value": "Class.Booking.Deleted"},
            "center_id": {"Type": "String", "Value": INNER_CENTER},
            "event_resource": {"Type": "String", "Value": "Class"},
            "replay": {"Type": "String", "Value": "true"},
        },
        Timestamp="2022-03-22T12:34:16.120Z",
        SignatureVersion="1",
        Signature="EXAMPLE",
        SigningCertURL="https://sns.us-east-1.amazonaws.com/SimpleNotificationService-example.pem",
        UnsubscribeURL="https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    )
    return json.dumps(outer), inner


@pytest.mark.parametrize("raw_message_delivery", ["true"])
def test_a_raw_body_dressed_as_sns_is_read_as_the_body_never_its_message(subscriber: Subscriber, logs):
    # As a receiver without the hold would have published it: the outer event, with the outer's attributes.
    outer, _ = smuggling()

    response = subscriber.invoke(raw_sqs_event(outer))

    assert response == {"batchItemFailures": []}
    assert set(subscriber.deletions()) == {"outer-event"}  # the stored, filtered event; never the inner one
    [line] = [line for line in logs() if line["message"] == "Event handled"]
    assert (line["event_id"], line["shape"], line["replay"]) == ("outer-event", "raw delivery", False)


@pytest.mark.parametrize("raw_message_delivery", ["true"])
def test_a_raw_body_dressed_as_sns_with_the_inner_events_attributes_is_refused(subscriber: Subscriber, logs):
    outer, inner = smuggling()

    with pytest.raises(BatchProcessingError):
        subscriber.invoke(raw_sqs_event(outer, attributes_of=inner))

    assert subscriber.deletions() == {}
    [warning] = [line for line in logs() if line["level"] == "WARNING"]
    assert warning["message"].startswith(
        "Message not handled: its message attributes do not describe the event it holds "
        "(describing another event: center_id)"
    )


def disagreeing_attributes(payload: str, change: str) -> dict:
    """The attributes the receiver publishes with `payload`, one changed or removed."""
    attributes = {name: value["StringValue"] for name, value in message_attributes(payload).items()}
    if change == "event_type":
        attributes["event_type"] = "Class.Booking.Cancelled"
    elif change == "center_id":
        attributes["center_id"] = INNER_CENTER
    elif change == "event_resource":
        attributes["event_resource"] = "Guest"
    elif change == "center_id in upper case":
        attributes["center_id"] = attributes["center_id"].upper()  # never the receiver's form
    else:
        del attributes[change.removeprefix("no ")]
    return attributes


CHANGES = ["event_type", "center_id", "event_resource", "center_id in upper case", "no event_type", "no center_id"]
CHANGES += ["no event_resource"]


@each_shape
@pytest.mark.parametrize("change", CHANGES)
def test_a_message_whose_attributes_do_not_describe_its_event_is_refused_alone(
    subscriber: Subscriber, logs, capsys, change
):
    bad, good = payload_with("attributes-disagree"), payload_with("attributes-agree")
    attributes = disagreeing_attributes(bad, change)
    event = subscriber.shaped(good)
    event["Records"] += subscriber.shaped(bad)["Records"]
    event["Records"][1]["messageId"] = "bad-message"
    if subscriber.raw:
        event["Records"][1]["messageAttributes"] = {
            name: {"stringValue": value, "stringListValues": [], "binaryListValues": [], "dataType": "String"}
            for name, value in attributes.items()
        }
    else:
        notification = json.loads(event["Records"][1]["body"])
        notification["MessageAttributes"] = {name: {"Type": "String", "Value": v} for name, v in attributes.items()}
        event["Records"][1]["body"] = json.dumps(notification)

    response = subscriber.invoke(event)

    assert response == {"batchItemFailures": [{"itemIdentifier": "bad-message"}]}
    assert set(subscriber.deletions()) == {"attributes-agree"}
    assert len(subscriber.idempotency_records()) == 1  # never remembered as handled
    [warning] = [line for line in logs() if line["level"] == "WARNING"]
    attribute = change.removeprefix("no ").removesuffix(" in upper case")
    said = f"missing: {attribute}" if change.startswith("no ") else f"describing another event: {attribute}"
    assert warning["message"].startswith(
        f"Message not handled: its message attributes do not describe the event it holds ({said})"
    )
    assert (warning["message_id"], warning["event_id"]) == ("bad-message", "attributes-disagree")
    assert "MessagesFailed" in emitted_metrics(capsys.readouterr().out)
    # Names, never values: neither the message's center nor the event's reaches the log.
    center = json.loads(bad)["data"]["center_id"]
    for value in (INNER_CENTER, center, center.upper()):
        assert value not in json.dumps(logs())


def test_the_event_is_never_logged_whatever_the_environment_says(subscriber: Subscriber, monkeypatch, capsys):
    # Powertools logs the whole Lambda event when POWERTOOLS_LOGGER_LOG_EVENT is true, unless the code says no:
    # the event holds guests' ids, and virtual guests' names, e-mails and phone numbers.
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    handler = _fresh_handler(io.StringIO(), subscriber.resources.function_environment["POWERTOOLS_SERVICE_NAME"])
    stream = io.StringIO()
    for log_handler in logging.getLogger(subscriber.resources.function_environment["POWERTOOLS_SERVICE_NAME"]).handlers:
        if isinstance(log_handler, logging.StreamHandler):
            log_handler.setStream(stream)

    handler.lambda_handler(sqs_event(notification_body(payload_with("never-logged"))), LambdaContext())

    printed = capsys.readouterr()
    assert '"message":"Event handled"' in stream.getvalue()  # the log is read here
    guest = json.loads(sample_payload())["data"]["guest_id"]
    for text in (stream.getvalue(), printed.out, printed.err):
        assert guest not in text
