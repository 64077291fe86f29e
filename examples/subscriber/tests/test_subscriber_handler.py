"""The subscriber's handler on SQS events, as Lambda's event source mapping calls it."""

from __future__ import annotations

import json
import time

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from booking_subscriber.settings import SECONDS_PER_DAY, ConfigurationError, Settings
from conftest import (
    Subscriber,
    notification_body,
    payload_with,
    raw_sqs_event,
    sample_payload,
    sample_sqs_event,
    sqs_event,
)

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


def shaped(shape: str, payload: str, *, replay: bool = False) -> dict:
    """An SQS event holding `payload` in one of the two shapes the function reads."""
    if shape == "sns notification":
        return sqs_event(notification_body(payload, replay=replay))
    return raw_sqs_event(payload, replay=replay)


SHAPES = ["sns notification", "raw delivery"]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("event_type", HANDLED)
def test_each_handled_type_in_either_shape_reaches_its_action_once(subscriber: Subscriber, logs, event_type, shape):
    event_id = f"{event_type}-{shape}".replace(" ", "-")
    payload = payload_with(event_id, event_type)

    response = subscriber.invoke(shaped(shape, payload))

    assert response == {"batchItemFailures": []}
    recorded = subscriber.deletions()[event_id]
    assert (recorded["event_type"], recorded["times_recorded"]) == (event_type, "1")
    [line] = [line for line in logs() if line["message"] == "Event handled"]
    assert (line["event_type"], line["shape"], line["replay"]) == (event_type, shape, False)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("event_type", [t for t in EVENT_TYPES if t not in HANDLED])
def test_a_type_without_an_action_fails_alone_and_says_how_to_fix_it(subscriber: Subscriber, logs, event_type, shape):
    # Only if the subscription's filter lets it through: failed (to the dead-letter queue in the end, alarmed),
    # never acknowledged unhandled, and never remembered as handled, so that once its action exists it runs.
    unhandled, handled = payload_with("no-action", event_type), payload_with("has-action")
    event = shaped(shape, unhandled)
    event["Records"] += shaped(shape, handled)["Records"]
    event["Records"][1]["messageId"] = "second-message"

    response = subscriber.invoke(event)

    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert set(subscriber.deletions()) == {"has-action"}
    [warning] = [line for line in logs() if line["level"] == "WARNING"]
    assert warning["message"].startswith(f"Message not handled: no action for {event_type} (event_id no-action)")
    assert "ACTIONS in action.py" in warning["message"]
    assert "filter policy" in warning["message"]
    assert len(subscriber.idempotency_records()) == 1  # the handled one's only


def test_the_same_event_as_a_notification_and_as_a_raw_delivery_is_recorded_once(subscriber: Subscriber):
    payload = payload_with("both-shapes")

    subscriber.invoke(shaped("sns notification", payload))
    response = subscriber.invoke(shaped("raw delivery", payload))

    assert response == {"batchItemFailures": []}
    assert subscriber.deletions()["both-shapes"]["times_recorded"] == "1"


@pytest.mark.parametrize("shape", SHAPES)
def test_a_replay_is_recognised_in_either_shape(subscriber: Subscriber, logs, shape, capsys):
    response = subscriber.invoke(shaped(shape, payload_with(f"replayed-{shape}".replace(" ", "-")), replay=True))

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
        pytest.param(payload_with("bad-center", center_id="not-a-uuid"), id="raw delivery, invalid center_id"),
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


@pytest.mark.parametrize("shape", SHAPES)
def test_a_validation_error_is_logged_by_field_without_the_values_it_was_given(
    subscriber: Subscriber, logs, shape, capsys
):
    bad = payload_with("bad-guest", guest_id=GUEST, center_id=f"{GUEST}-center")

    # A batch where every message fails: Powertools raises, and Lambda logs that error too.
    with pytest.raises(BatchProcessingError) as raised:
        subscriber.invoke(shaped(shape, bad))

    [warning] = [line for line in logs() if line["level"] == "WARNING"]
    prefix = "Message." if shape == "sns notification" else ""
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
    with pytest.raises(ConfigurationError, match="DELETIONS_TABLE_NAME, IDEMPOTENCY_TABLE_NAME"):
        Settings.from_environment({"POWERTOOLS_SERVICE_NAME": "s", "POWERTOOLS_METRICS_NAMESPACE": "n"})


@pytest.mark.parametrize("days", ["0", "-3", "thirty", "1.5"])
def test_idempotency_days_must_be_a_whole_positive_number(days):
    environment = {
        "DELETIONS_TABLE_NAME": "d",
        "IDEMPOTENCY_TABLE_NAME": "i",
        "POWERTOOLS_SERVICE_NAME": "s",
        "POWERTOOLS_METRICS_NAMESPACE": "n",
        "IDEMPOTENCY_DAYS": days,
    }
    with pytest.raises(ConfigurationError, match="IDEMPOTENCY_DAYS"):
        Settings.from_environment(environment)
