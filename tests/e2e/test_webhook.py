"""A running stack, end to end: what Zenoti gets back, and what a subscriber receives."""

from __future__ import annotations

import json
import os

import pytest

from tests.e2e.conftest import NO_TARGET, Answer, Event, Inbox, Target

if not os.environ.get("E2E_LOCAL") and not os.environ.get("E2E_STACK_NAME"):
    pytest.skip(NO_TARGET, allow_module_level=True)  # one line in the summary, not one per test

ATTRIBUTES = {"event_type": "Class.Booking.Deleted", "event_resource": "Class"}
TOO_LARGE = 300_000  # bytes: over the receiver's limit (docs/contracts.md), far under API Gateway's 10 MB


def accepted(answer: Answer, event: Event) -> None:
    """Zenoti's answer to a new event: stored; the stack's stream publishes it."""
    assert answer.status == 200, answer
    assert answer.body == {
        "status": "accepted",
        "event_id": event.event_id,
        "event_type": json.loads(event.body)["event_type"],
    }


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])  # Zenoti's customer chooses the verb
def test_an_event_is_accepted_and_its_body_reaches_the_subscriber_verbatim_with_its_attributes(
    target: Target, inbox: Inbox, new_event, method
):
    event = new_event()

    accepted(target.send(event.body, method), event)

    [message] = inbox.messages(event.event_id)
    assert message.body == event.body  # byte for byte: Zenoti's layout, unknown fields and all
    assert message.attributes == {**ATTRIBUTES, "center_id": event.center_id}  # no "replay"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_the_path_stacks_gave_zenoti_before_the_family_still_reaches_the_subscriber(
    target: Target, inbox: Inbox, new_event, method
):
    event = new_event()

    accepted(target.at_earlier_path().send(event.body, method), event)

    [message] = inbox.messages(event.event_id)
    assert message.body == event.body


def test_a_duplicate_is_answered_as_such_and_not_published_again(target: Target, inbox: Inbox, new_event):
    event, later = new_event(), new_event()
    accepted(target.send(event.body), event)
    assert len(inbox.messages(event.event_id)) == 1

    again = target.send(event.body)

    event_type = json.loads(event.body)["event_type"]
    assert again == Answer(200, {"status": "duplicate", "event_id": event.event_id, "event_type": event_type})
    # Absence, without a timed wait: an event sent after the duplicate's answer is received first. SNS
    # does not promise order, so this is a strong sign rather than a proof; the integration tests prove it.
    accepted(target.send(later.body), later)
    assert len(inbox.messages(later.event_id)) == 1
    assert len(inbox.messages(event.event_id)) == 1


@pytest.mark.parametrize("token", ["wrong-token", None], ids=["wrong token", "no token"])
def test_a_wrong_or_missing_token_is_a_401_and_nothing_is_stored(target: Target, new_event, token):
    event = new_event()

    refused = target.send(event.body, token=token)

    assert (refused.status, refused.body["status"], refused.body["reason"]) == (401, "refused", "unauthorized")
    # Nothing was stored: the same event with the right token is new, not a duplicate.
    accepted(target.send(event.body), event)


def test_an_invalid_event_is_held_with_a_202_that_names_each_field(target: Target, new_event):
    event = json.loads(new_event().body)
    event["data"]["guest_id"] = "not-a-uuid"
    event["data"]["registration_id"] = "119986"  # a string, not an integer

    held = target.send(json.dumps(event))

    assert (held.status, held.body["status"], held.body["reason"]) == (202, "held", "invalid_event")
    assert {error["field"] for error in held.body["errors"]} == {"data.guest_id", "data.registration_id"}
    assert all(error["message"] and error["type"] for error in held.body["errors"])


def test_a_body_that_is_not_json_is_held_with_a_202(target: Target):
    held = target.send('{"event_id": ')

    assert (held.status, held.body["status"], held.body["reason"]) == (202, "held", "malformed_body")


def test_a_body_too_large_to_hold_is_refused(target: Target):
    refused = target.send(json.dumps({"padding": "x" * TOO_LARGE}))

    assert (refused.status, refused.body["status"], refused.body["reason"]) == (413, "refused", "payload_too_large")


def test_another_verb_is_api_gateways_404(target: Target):
    answer = target.send(None, method="GET")

    assert answer == Answer(404, {"message": "Not Found"})


def test_a_replay_reaches_the_subscriber_marked_as_a_replay(target: Target, inbox: Inbox, new_event):
    event = new_event()
    accepted(target.send(event.body), event)
    [original] = inbox.messages(event.event_id)

    run = target.replay(event.event_id)

    assert run.returncode == 0, run.stderr
    assert f"published {event.event_id}" in run.stdout
    [first, replayed] = inbox.messages(event.event_id, count=2)
    assert first == original
    assert replayed.body == event.body
    assert replayed.attributes == {**original.attributes, "replay": "true"}
