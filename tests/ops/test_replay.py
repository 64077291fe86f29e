"""`python -m ops replay`: stored events published again, exactly as the function published them."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import boto3
import pytest

from devtools.local_stack.resources import REGION
from tests.conftest import Stack
from tests.ops.conftest import CENTER_A, CENTER_B, SAMPLE_ID, Stored, drain

REPLAY = {"replay": {"Type": "String", "Value": "true"}}


def replayed(stack: Stack) -> dict[str, dict[str, Any]]:
    """The notifications the subscriber received, by event_id (each exactly once)."""
    messages = drain(stack)
    by_id = {json.loads(message["Message"])["event_id"]: message for message in messages}
    assert len(by_id) == len(messages), "an event was published twice"
    return by_id


def published_lines(output: str) -> list[str]:
    """The event ids of the "published ID ..." or "would publish ID ..." lines, in the order printed."""
    return [match[1] for match in re.finditer(r"^(?:published|would publish) (\S+)", output, re.MULTILINE)]


def test_replay_by_id_sends_the_stored_body_verbatim_with_the_functions_attributes(
    run, stack: Stack, stored: Stored, table_and_topic
):
    result = run("replay", *table_and_topic, "--event-id", SAMPLE_ID, "--event-id", "b-afternoon")

    assert result.code == 0, result.err
    received = replayed(stack)
    assert received.keys() == {SAMPLE_ID, "b-afternoon"}
    for event_id, notification in received.items():
        assert notification["Message"] == stored.bodies[event_id]  # byte for byte, the sample's indentation too
        assert notification["MessageAttributes"] == {**stored.attributes[event_id], **REPLAY}
    assert received["b-afternoon"]["MessageAttributes"]["center_id"]["Value"] == CENTER_B
    assert published_lines(result.out) == [SAMPLE_ID, "b-afternoon"]  # in time order
    assert result.out.splitlines()[-1] == f"Published 2 events to {stack.resources.topic_arn}."


def test_an_event_id_given_twice_is_replayed_once(run, stack: Stack, stored: Stored, table_and_topic):
    result = run("replay", *table_and_topic, "--event-id", SAMPLE_ID, "--event-id", SAMPLE_ID)

    assert result.code == 0, result.err
    assert replayed(stack).keys() == {SAMPLE_ID}
    assert published_lines(result.out) == [SAMPLE_ID]


def test_replay_of_a_center_in_a_window_publishes_only_those(run, stack: Stack, stored: Stored, table_and_topic):
    result = run("replay", *table_and_topic, "--center", CENTER_A, "--since", "2022-03-22T05:00Z")

    assert result.code == 0, result.err
    assert replayed(stack).keys() == {SAMPLE_ID, "a-late"}  # not a-early (before), not b-afternoon (center B)
    assert published_lines(result.out) == [SAMPLE_ID, "a-late"]


def test_replay_of_a_whole_center(run, stack: Stack, stored: Stored, table_and_topic):
    result = run("replay", *table_and_topic, "--center", CENTER_A)

    assert result.code == 0, result.err
    assert replayed(stack).keys() == {"a-early", SAMPLE_ID, "a-late"}


def test_replay_of_a_center_written_in_upper_case(run, stack: Stack, stored: Stored, table_and_topic):
    result = run("replay", *table_and_topic, "--center", CENTER_A.upper())

    assert result.code == 0, result.err
    assert replayed(stack).keys() == {"a-early", SAMPLE_ID, "a-late"}


def test_replay_of_a_window_alone_scans_every_center(run, stack: Stack, stored: Stored, table_and_topic):
    result = run("replay", *table_and_topic, "--since", "2022-03-22T12:00:00Z", "--until", "2022-03-23")

    assert result.code == 0, result.err
    received = replayed(stack)
    assert received.keys() == {SAMPLE_ID, "b-afternoon"}
    assert all(notification["MessageAttributes"]["replay"]["Value"] == "true" for notification in received.values())
    assert published_lines(result.out) == [SAMPLE_ID, "b-afternoon"]


def test_dry_run_prints_what_would_be_sent_and_sends_nothing(run, stack: Stack, stored: Stored, table_and_topic):
    result = run("replay", *table_and_topic, "--center", CENTER_A, "--dry-run")

    assert result.code == 0, result.err
    assert drain(stack) == []
    assert published_lines(result.out) == ["a-early", SAMPLE_ID, "a-late"]
    first = result.out.splitlines()[0]
    assert "occurred_at 2022-03-22T04:59:59.999999Z" in first
    attributes = json.loads(first.split("attributes ", 1)[1].split("  body", 1)[0])
    assert attributes == {
        "event_type": "Class.Booking.Deleted",
        "event_resource": "Class",
        "center_id": CENTER_A,
        "replay": "true",
    }
    assert f"body {len(stored.bodies['a-early'].encode())} bytes" in first
    assert result.out.splitlines()[-1] == (
        f"Dry run: would publish 3 events to {stack.resources.topic_arn}; nothing was sent."
    )


def test_an_unknown_event_id_refuses_the_whole_replay(run, stack: Stack, stored: Stored, table_and_topic):
    result = run("replay", *table_and_topic, "--event-id", SAMPLE_ID, "--event-id", "no-such-event")

    assert result.code == 2
    assert result.err == "error: no stored event with event_id no-such-event in table zenoti-local-events\n"
    assert drain(stack) == []  # not even the one that exists


def test_an_item_the_receiver_did_not_write_is_a_one_line_error_and_nothing_is_sent(
    run, stack: Stack, stored: Stored, table_and_topic
):
    # Written by hand, without the body: there is nothing to publish.
    boto3.client("dynamodb", region_name=REGION).update_item(
        TableName=stack.resources.table_name,
        Key={"event_id": {"S": SAMPLE_ID}},
        UpdateExpression="REMOVE payload_zlib",
    )

    result = run("replay", *table_and_topic, "--event-id", SAMPLE_ID)

    assert result.code == 2
    assert result.err.startswith(f"error: no stored event with event_id {SAMPLE_ID}")
    assert "Traceback" not in result.err
    assert drain(stack) == []


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        ([], "choose the events to replay"),
        (["--event-id", SAMPLE_ID, "--center", CENTER_A], "either by --event-id or by --center"),
    ],
)
def test_no_choice_or_an_ambiguous_one_is_a_one_line_error(
    run, stack: Stack, stored: Stored, table_and_topic, selection, message
):
    result = run("replay", *table_and_topic, *selection)

    assert result.code == 2
    assert message in result.err
    assert len(result.err.splitlines()) == 1
    assert drain(stack) == []


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        (["--center", CENTER_B, "--since", "2030-01-01"], f"no stored events of center {CENTER_B} since 2030-01-01"),
        (["--since", "2030-01-01"], "no stored events of any center since 2030-01-01"),
    ],
)
def test_a_window_with_nothing_in_it_is_nothing_to_replay_not_a_failure(
    run, stack: Stack, stored: Stored, table_and_topic, selection, message
):
    result = run("replay", *table_and_topic, *selection)

    assert result.code == 0
    assert result.out.startswith(f"Nothing to replay: {message}")
    assert drain(stack) == []


def test_a_topic_that_does_not_exist_is_a_one_line_error(run, stack: Stack, stored: Stored):
    missing_topic = stack.resources.topic_arn + "-gone"

    result = run("replay", "--table", stack.resources.table_name, "--topic-arn", missing_topic, "--center", CENTER_A)

    assert result.code == 2
    assert result.err.startswith("error: publishing a-early failed after 0 of 3 were published: ")
    assert len(result.err.splitlines()) == 1


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def screen_of(written: str) -> list[str]:
    """What a terminal shows after `written`: a carriage return goes back to the line's start, and what
    follows overwrites it; trailing blanks are not seen."""
    lines = [""]
    column = 0
    for text in re.split(r"(\r|\n)", written):
        if text == "\r":
            column = 0
        elif text == "\n":
            lines.append("")
            column = 0
        else:
            line = lines[-1]
            lines[-1] = line[:column] + text + line[column + len(text) :]
            column += len(text)
    return [line.rstrip() for line in lines if line.strip()]


def test_progress_bar_is_drawn_on_a_terminal_and_gone_from_the_screen_before_the_summary(
    run, stack: Stack, stored: Stored, table_and_topic, monkeypatch
):
    # One terminal for stdout and stderr, as an operator's shell has it.
    terminal = Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    monkeypatch.setattr("sys.stderr", terminal)

    result = run("replay", *table_and_topic, "--center", CENTER_A)

    assert result.code == 0
    written = terminal.getvalue()
    for drawn in ("1/3", "2/3", "3/3"):
        assert re.search(rf"\rreplaying: .*\| {drawn} ", written), f"no bar at {drawn} in {written!r}"
    screen = screen_of(written)
    # Every line printed is whole on the screen, and nothing of the bar is left beside or after them.
    *lines, summary = screen
    assert [re.fullmatch(r"published (\S+)  occurred_at \S+  message_id [0-9a-f-]+", line)[1] for line in lines] == [
        "a-early",
        SAMPLE_ID,
        "a-late",
    ]
    assert summary == f"Published 3 events to {stack.resources.topic_arn}."
    assert len(replayed(stack)) == 3


def test_progress_bar_stays_out_of_redirected_output(run, stack: Stack, stored: Stored, table_and_topic):
    result = run("replay", *table_and_topic, "--center", CENTER_A)

    assert result.err == ""
    assert "replaying" not in result.out
    assert len(result.out.splitlines()) == 4
