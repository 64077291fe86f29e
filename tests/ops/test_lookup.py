"""`python -m ops lookup`: the stored events of one center or guest, as a table or JSON lines."""

from __future__ import annotations

import json

import boto3
import pytest

from devtools.local_stack.resources import REGION
from ops import items
from tests.conftest import Stack, load_event, with_payload
from tests.ops.conftest import BY_ID, CENTER_A, CENTER_B, GUEST_X, GUEST_Y, SAMPLE_ID, Stored

DELETED = "Class.Booking.Deleted"
# The sample request's headers, but those API Gateway adds itself; never their values.
HEADERS = "accept-encoding,content-length,content-type,host,user-agent"


def table_rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines()]


def test_center_lookup_prints_a_table_in_time_order(run, stored: Stored, table):
    result = run("lookup", *table, "--center", CENTER_A)

    assert result.code == 0, result.err
    header, *rows, count = table_rows(result.out)
    assert header == [
        "occurred_at", "event_id", "event_type", "center_id", "resource_id", "guest_id", "employee_id", "signature",
        "header_names",
    ]  # fmt: skip
    assert [row[1] for row in rows] == ["a-early", SAMPLE_ID, "a-late"]  # b-afternoon is another center's
    # The booking's registration is its resource; a Class booking concerns a guest, no employee; no signature checked.
    assert rows[0] == [
        "2022-03-22T04:59:59.999999Z", "a-early", DELETED, CENTER_A, "400004", GUEST_X, "-", "-", HEADERS
    ]  # fmt: skip
    assert rows[2][:6] == ["2022-03-23T08:00:00.000000Z", "a-late", DELETED, CENTER_A, rows[2][4], GUEST_Y]
    assert count == ["(3", "events)"]
    assert result.err == ""


def test_guest_lookup_in_a_window_prints_json_lines_with_the_payload_parsed(run, stored: Stored, table):
    result = run(
        "lookup", *table, "--guest", GUEST_X, "--since", "2022-03-22", "--until", "2022-03-23", "--format", "jsonl"
    )

    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert [line["event_id"] for line in lines] == ["a-early", SAMPLE_ID, "b-afternoon"]  # both centers, in time order
    for line in lines:
        sample = BY_ID[line["event_id"]]
        assert line["payload"] == json.loads(stored.bodies[sample.event_id])
        assert line["occurred_at"] == sample.occurred_at
        assert line["payload"]["event_timestamp"] == sample.event_timestamp
        assert (line["center_id"], line["guest_id"]) == (sample.center_id, sample.guest_id)
        assert line["resource_id"] == str(sample.registration_id)  # the booking's registration
        assert line["event_type"] == DELETED
        assert line["header_names"] == HEADERS.split(",")


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        # --since is included, to the microsecond the receiver keeps of Zenoti's 7 digits.
        ("2022-03-22T12:34:15.3797492Z", None, [SAMPLE_ID, "b-afternoon"]),
        # --until is excluded; offsets are honoured (16:00Z is b-afternoon's moment, 18:00 in +02:00).
        (None, "2022-03-22T18:00:00+02:00", ["a-early", SAMPLE_ID]),
        # No offset means UTC.
        ("2022-03-22T05:00", "2022-03-22T16:00:00.000001", [SAMPLE_ID, "b-afternoon"]),
    ],
)
def test_window_ends_are_since_included_until_excluded(run, stored: Stored, table, since, until, expected):
    window = [*(["--since", since] if since else []), *(["--until", until] if until else [])]

    result = run("lookup", *table, "--guest", GUEST_X, *window, "--format", "jsonl")

    found = [json.loads(line)["event_id"] for line in result.out.splitlines()]
    assert found == expected


def test_every_page_of_the_index_is_read(run, stored: Stored, table, monkeypatch):
    monkeypatch.setattr(items, "PAGE_SIZE", 1)  # a page per item, as a big center has pages of 1 MB

    result = run("lookup", *table, "--center", CENTER_A, "--format", "jsonl")

    assert [json.loads(line)["event_id"] for line in result.out.splitlines()] == ["a-early", SAMPLE_ID, "a-late"]


def test_nothing_matched_is_an_empty_answer_not_a_failure(run, stored: Stored, table):
    result = run("lookup", *table, "--center", CENTER_B, "--since", "2022-03-23")

    assert result.code == 0
    assert result.out.splitlines()[-1] == "(0 events)"
    expected = f"no stored events of center {CENTER_B} since 2022-03-23T00:00:00.000000Z in table zenoti-local-events"
    assert result.err == f"{expected}\n"
    as_json = run("lookup", *table, "--center", CENTER_B, "--since", "2022-03-23", "--format", "jsonl")
    assert (as_json.code, as_json.out) == (0, "")  # a pipe of JSON lines stays empty


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (["--since", "last tuesday"], "--since 'last tuesday' is not an ISO 8601 date or time"),
        (["--until", "2022-13-01"], "--until '2022-13-01' is not an ISO 8601 date or time"),
        (["--since", "2022-03-23", "--until", "2022-03-22"], "the window is empty"),
    ],
)
def test_bad_dates_are_a_one_line_error(run, table, window, message):
    result = run("lookup", *table, "--center", CENTER_A, *window)

    assert result.code == 2
    assert result.out == ""
    assert message in result.err
    assert len(result.err.splitlines()) == 1


def test_each_event_shows_its_own_type_and_an_item_stored_before_the_family_is_a_deletion(
    run, stack: Stack, invoke, api_event, table
):
    created = json.loads(api_event["body"]) | {"event_id": "created-1", "event_type": "Class.Booking.Created"}
    assert invoke(with_payload(api_event, created)).body["status"] == "accepted"
    # An item as the receiver stored it before: no event_type, no header names.
    old = {
        "event_id": {"S": "stored-before"},
        "center_id": {"S": CENTER_A},
        "guest_id": {"S": GUEST_X},
        "occurred_at": {"S": "2021-01-01T00:00:00.000000Z"},
        "published": {"BOOL": True},
    }
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=stack.resources.table_name, Item=old)

    result = run("lookup", *table, "--center", CENTER_A.upper())  # GUIDs are found in either case

    _header, *rows, _ = table_rows(result.out)
    assert {row[1]: (row[2], row[-1]) for row in rows} == {
        "stored-before": (DELETED, "-"),
        "created-1": ("Class.Booking.Created", HEADERS),
    }
    as_json = {
        line["event_id"]: line
        for line in map(json.loads, run("lookup", *table, "--center", CENTER_A, "--format", "jsonl").out.splitlines())
    }
    assert (as_json["stored-before"]["event_type"], as_json["stored-before"]["header_names"]) == (DELETED, None)


def test_employee_lookup_finds_every_event_about_one_employee(run, stack: Stack, invoke, table):
    created = load_event("apigw_employee_created.json")
    employee_id = json.loads(created["body"])["data"]["id"].lower()
    for name in ("apigw_employee_created.json", "apigw_employee_updated.json", "apigw_guest_created.json"):
        assert invoke(load_event(name)).body["status"] == "accepted"

    result = run("lookup", *table, "--employee", employee_id.upper(), "--format", "jsonl")

    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert {line["employee_id"] for line in lines} == {employee_id}
    assert "Employee.Created" in {line["event_type"] for line in lines}
    assert all(line["event_type"].startswith("Employee.") for line in lines)  # not the guest's
