"""Authenticated bodies that are not events we store and publish are held: kept once per body, answered 202."""

from __future__ import annotations

import hashlib
import json
import time

from devtools.local_stack.resources import local_stack_name
from tests.conftest import Stack, load_event, with_body
from tests.integration.test_handler import emitted_metrics
from zenoti_receiver.adapters.held_bodies import held_body


def test_invalid_event_is_held_with_its_errors_request_and_header_names(invoke, stack: Stack):
    event = load_event("apigw_invalid_body.json")

    response = invoke(event)

    assert response.status == 202
    assert response.body["status"] == "held"
    [entry] = stack.held_bodies()
    body = event["body"].encode()
    assert entry["body_sha256"] == {"S": hashlib.sha256(body).hexdigest()}
    assert held_body(entry) == body
    assert len(entry["body_zlib"]["B"]) < len(body)  # kept compressed
    assert entry["body_bytes"] == {"N": str(len(body))}
    assert entry["first_request_id"] == {"S": event["requestContext"]["requestId"]}
    assert entry["reason"] == {"S": "invalid_event"}
    assert json.loads(entry["errors"]["S"]) == response.body["errors"]
    assert {error["field"] for error in response.body["errors"]} == {"data.guest_id", "data.registration_id"}
    assert entry["message"] == {"S": response.body["message"]}
    assert entry["deliveries"] == {"N": "1"}
    assert entry["state"] == {"S": "held"}
    assert entry["first_seen"]["S"].endswith("Z")
    # The names of the headers the sender sent (API Gateway's own left out), never their values.
    assert [name["S"] for name in entry["header_names"]["L"]] == [
        "accept-encoding", "content-length", "content-type", "host", "user-agent"
    ]  # fmt: skip
    assert stack.items() == []
    assert stack.messages() == []


def test_five_retries_of_one_body_make_one_entry(invoke, stack: Stack):
    event = load_event("apigw_invalid_body.json")
    for attempt in range(5):
        event["requestContext"]["requestId"] = f"retry-{attempt}"
        assert invoke(event).status == 202

    [entry] = stack.held_bodies()
    assert entry["deliveries"] == {"N": "5"}
    assert entry["first_request_id"] == {"S": "retry-0"}
    assert entry["last_request_id"] == {"S": "retry-4"}


def test_malformed_bodies_are_kept_byte_for_byte(invoke, stack: Stack, api_event):
    not_utf8 = b'{"event_id": "\xff"}'

    assert invoke(with_body(api_event, not_utf8, base64_encoded=True)).status == 202
    assert invoke(with_body(api_event, "{truncated")).status == 202

    bodies = sorted(held_body(entry) for entry in stack.held_bodies())
    assert bodies == sorted([not_utf8, b"{truncated"])


def test_unauthenticated_bodies_are_never_kept(invoke, stack: Stack):
    event = load_event("apigw_wrong_token.json")
    event["body"] = "{not even json"

    assert invoke(event).status == 401
    assert stack.held_bodies() == []


def test_valid_events_are_never_held(invoke, stack: Stack, api_event):
    assert invoke(api_event).status == 200
    assert stack.held_bodies() == []


def test_held_bodies_table_unavailable_is_a_5xx_so_the_body_comes_back(invoke, stack: Stack):
    stack.faults.fail("dynamodb", "UpdateItem")

    response = invoke(load_event("apigw_invalid_body.json"))

    assert response.status == 503
    stack.faults.clear()
    assert invoke(load_event("apigw_invalid_body.json")).status == 202
    assert len(stack.held_bodies()) == 1


def test_held_deliveries_are_counted_by_reason(invoke, capsys):
    invoke(load_event("apigw_invalid_body.json"))
    invoke(load_event("apigw_wrong_token.json"))

    emitted = emitted_metrics(capsys.readouterr().out)
    held = [dimensions for name, dimensions in emitted if name == "EventsHeld"]
    assert held == [
        {"service": local_stack_name()},
        {"service": local_stack_name(), "reason": "invalid_event"},
    ]
    assert ("EventsRefused", {"service": local_stack_name(), "reason": "unauthorized"}) in emitted


def test_a_held_body_expires_after_the_retention_since_its_last_delivery(invoke, stack: Stack):
    started = int(time.time())
    invoke(load_event("apigw_invalid_body.json"))

    [entry] = stack.held_bodies()
    retention = 30 * 86_400  # HeldRetentionDays' default, as the template sets it
    assert started + retention <= int(entry["expires_at"]["N"]) <= time.time() + retention


# --- Bounded: what anyone holding the token can make the table keep ------------------------------


def test_a_body_that_is_not_json_keeps_its_first_64_kib_and_the_whole_bodys_size_and_hash(
    invoke, stack: Stack, api_event
):
    junk = bytes(range(256)) * 1000  # 256,000 bytes, not even UTF-8

    assert invoke(with_body(api_event, junk, base64_encoded=True)).status == 202

    [entry] = stack.held_bodies()
    assert held_body(entry) == junk[: 64 * 1024]
    assert entry["body_truncated"] == {"BOOL": True}
    assert entry["body_bytes"] == {"N": str(len(junk))}
    assert entry["body_sha256"] == {"S": hashlib.sha256(junk).hexdigest()}
    assert len(entry["body_zlib"]["B"]) < 70 * 1024  # was about 256 KB: some 60 write units kept off each


def test_json_that_cannot_be_stored_is_kept_whole_so_it_can_be_redriven(invoke, stack: Stack, api_event):
    large = json.dumps({"event_type": "Guest.Created", "data": {"notes": "x" * 100_000}})

    assert invoke(with_body(api_event, large)).status == 202

    [entry] = stack.held_bodies()
    assert held_body(entry) == large.encode()
    assert "body_truncated" not in entry


def test_a_repeat_does_not_renew_the_expiry(invoke, stack: Stack, monkeypatch):
    event = load_event("apigw_invalid_body.json")
    invoke(event)
    [first] = stack.held_bodies()
    later = time.time() + 20 * 86_400
    monkeypatch.setattr(time, "time", lambda: later)  # the same body, sent again 20 days on

    event["requestContext"]["requestId"] = "twenty-days-on"
    assert invoke(event).status == 202

    [entry] = stack.held_bodies()
    assert entry["deliveries"] == {"N": "2"}
    assert entry["expires_at"] == first["expires_at"]


def test_a_hold_throttled_at_the_tables_ceiling_is_a_503_with_nothing_kept(invoke, stack: Stack):
    # What DynamoDB answers past MaxWriteRequestUnits; botocore retries it, then the receiver gives up.
    stack.faults.fail("dynamodb", "UpdateItem", "throttling")

    response = invoke(load_event("apigw_invalid_body.json"))

    assert response.status == 503
    assert stack.held_bodies() == []


def test_the_list_can_triage_by_the_type_a_body_says_it_has(invoke, stack: Stack, api_event):
    guest = json.loads(api_event["body"])
    guest["event_type"] = "Guest.Created"

    assert invoke(with_body(api_event, json.dumps(guest))).status == 202

    [entry] = stack.held_bodies()
    assert entry["event_type"] == {"S": "Guest.Created"}
