"""Authenticated bodies that fail validation are answered 4xx but kept, once per body."""

from __future__ import annotations

import hashlib
import json
import time

from tests.conftest import Stack, load_event, with_body
from tests.integration.test_handler import emitted_metrics


def test_invalid_event_is_kept_with_its_errors_and_request(invoke, stack: Stack):
    event = load_event("apigw_invalid_body.json")

    response = invoke(event)

    assert response.status == 422
    [entry] = stack.quarantined()
    body = event["body"].encode()
    assert entry["body_sha256"] == {"S": hashlib.sha256(body).hexdigest()}
    assert entry["body"] == {"B": body}
    assert entry["first_request_id"] == {"S": event["requestContext"]["requestId"]}
    assert entry["reason"] == {"S": "invalid_event"}
    assert {error["field"] for error in json.loads(entry["errors"]["S"])} == {"data.guest_id", "data.registration_id"}
    assert entry["deliveries"] == {"N": "1"}
    assert entry["state"] == {"S": "quarantined"}
    assert entry["first_seen"]["S"].endswith("Z")
    assert stack.items() == []
    assert stack.messages() == []


def test_five_retries_of_one_body_make_one_entry(invoke, stack: Stack):
    event = load_event("apigw_invalid_body.json")
    for attempt in range(5):
        event["requestContext"]["requestId"] = f"retry-{attempt}"
        assert invoke(event).status == 422

    [entry] = stack.quarantined()
    assert entry["deliveries"] == {"N": "5"}
    assert entry["first_request_id"] == {"S": "retry-0"}
    assert entry["last_request_id"] == {"S": "retry-4"}


def test_malformed_bodies_are_kept_byte_for_byte(invoke, stack: Stack, api_event):
    not_utf8 = b'{"event_id": "\xff"}'

    assert invoke(with_body(api_event, not_utf8, base64_encoded=True)).status == 400
    assert invoke(with_body(api_event, "{truncated")).status == 400

    bodies = sorted(entry["body"]["B"] for entry in stack.quarantined())
    assert bodies == sorted([not_utf8, b"{truncated"])


def test_unauthenticated_bodies_are_never_kept(invoke, stack: Stack):
    event = load_event("apigw_wrong_token.json")
    event["body"] = "{not even json"

    assert invoke(event).status == 401
    assert stack.quarantined() == []


def test_valid_events_do_not_enter_the_quarantine(invoke, stack: Stack, api_event):
    assert invoke(api_event).status == 200
    assert stack.quarantined() == []


def test_quarantine_unavailable_is_a_5xx_so_the_body_comes_back(invoke, stack: Stack):
    stack.faults.fail("dynamodb", "UpdateItem")

    response = invoke(load_event("apigw_invalid_body.json"))

    assert response.status == 503
    stack.faults.clear()
    assert invoke(load_event("apigw_invalid_body.json")).status == 422
    assert len(stack.quarantined()) == 1


def test_quarantined_deliveries_are_counted(invoke, capsys):
    invoke(load_event("apigw_invalid_body.json"))
    invoke(load_event("apigw_wrong_token.json"))

    names = [name for name, _ in emitted_metrics(capsys.readouterr().out)]
    assert names.count("EventsQuarantined") == 1


def test_a_quarantined_body_expires_after_the_retention_since_its_last_delivery(invoke, stack: Stack):
    started = int(time.time())
    invoke(load_event("apigw_invalid_body.json"))

    [entry] = stack.quarantined()
    retention = 30 * 86_400  # QuarantineRetentionDays' default, as the template sets it
    assert started + retention <= int(entry["expires_at"]["N"]) <= time.time() + retention
