"""`python -m ops pending`: the events stored but not yet published, oldest first."""

from __future__ import annotations

import json

from tests.conftest import Stack
from tests.reliability.test_faults_and_concurrency import event_with_id


def test_pending_events_are_listed_oldest_first_until_the_stack_publishes_them(
    run, invoke, publish_pending, stack: Stack, api_event, table
):
    stack.faults.fail("sns", "Publish")
    for event_id in ("first", "second"):
        invoke(event_with_id(api_event, event_id))
    invoke(event_with_id(api_event, "published-later"))
    stack.faults.clear()
    invoke(event_with_id(api_event, "published"))

    listed = run("pending", *table)

    assert listed.code == 0, listed.err
    header, *rows, count = [line.split() for line in listed.out.splitlines()]
    assert header == ["received_at", "waiting", "event_id", "center_id", "occurred_at", "claim"]
    assert [row[2] for row in rows] == ["first", "second", "published-later"]
    assert all(row[5] == "held" for row in rows)  # the deliveries' claims, for CLAIM_SECONDS
    assert count == ["(3", "pending", "events)"]

    as_json = [json.loads(line) for line in run("pending", *table, "--format", "jsonl").out.splitlines()]
    assert [line["event_id"] for line in as_json] == ["first", "second", "published-later"]
    assert all(line["published"] is False and line["waiting_seconds"] >= 0 for line in as_json)

    publish_pending()
    after = run("pending", *table)
    assert (after.code, after.out) == (
        0,
        "received_at  waiting  event_id  center_id  occurred_at  claim\n(0 pending events)\n",
    )
