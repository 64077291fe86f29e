"""Zenoti's "test your trigger" button (an empty POST), the signature header observed and, where enforced,
required, and the personal data of every family kept out of logs, metrics and answers."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import boto3
import pytest

from devtools.local_stack.resources import LOCAL_TOKEN, REGION
from tests.conftest import Stack, load_event, with_body, with_payload
from tests.integration.test_handler import emitted_metrics
from tests.unit.test_samples import sample_name
from zenoti_receiver.logic.signature import SIGNATURE_HEADER, expected_signature
from zenoti_receiver.models import catalog

SIGNING_SECRET = "the-webhook-signing-secret"


def with_signing_secret(stack: Stack) -> None:
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=stack.resources.secret_arn,
        SecretString=json.dumps({"token": LOCAL_TOKEN, "signing_secret": SIGNING_SECRET}),
    )


def signed(event: dict[str, Any], signature: str) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["headers"][SIGNATURE_HEADER] = signature
    return event


def body_bytes(event: dict[str, Any]) -> bytes:
    return base64.b64decode(event["body"]) if event.get("isBase64Encoded") else event["body"].encode()


@pytest.fixture
def enforced(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stack deployed with EnforceSignatures=true (set before the handler's cold start reads it)."""
    monkeypatch.setenv("ENFORCE_SIGNATURES", "true")


# --- The test button -----------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", None])
def test_an_empty_body_with_the_token_is_a_test_answered_200_and_counted(invoke, stack: Stack, api_event, body, capsys):
    response = invoke(with_body(api_event, body))

    assert response.status == 200
    assert response.body["status"] == "test"
    assert response.body["message"]
    assert stack.items() == []
    assert stack.held_bodies() == []  # nothing for an operator to look at, so no HeldBodiesAlarm
    metrics = [name for name, _ in emitted_metrics(capsys.readouterr().out)]
    assert "TestDeliveries" in metrics
    assert not {"EventsHeld", "EventsAccepted", "EventsFailed"} & set(metrics)


def test_an_empty_body_without_the_token_is_still_refused(invoke, stack: Stack):
    response = invoke(with_body(load_event("apigw_wrong_token.json"), ""))

    assert (response.status, response.body["status"], response.body["reason"]) == (401, "refused", "unauthorized")


# --- The signature, observed -----------------------------------------------------------------------


def test_without_a_signing_secret_nothing_is_checked_or_recorded(invoke, stack: Stack, api_event, capsys):
    assert invoke(signed(api_event, "00-11")).body["status"] == "accepted"

    [item] = stack.items()
    assert "signature" not in item
    assert "Signatures" not in [name for name, _ in emitted_metrics(capsys.readouterr().out)]


@pytest.mark.parametrize(
    ("signature", "outcome"),
    [("right", "matched"), ("right-lower-case", "matched"), ("12-34-56", "mismatched"), (None, "missing")],
)
def test_with_a_signing_secret_each_outcome_is_recorded_and_nothing_refused(
    invoke, stack: Stack, api_event, capsys, signature, outcome
):
    with_signing_secret(stack)
    right = expected_signature(body_bytes(api_event), SIGNING_SECRET)
    value = {"right": right, "right-lower-case": right.lower()}.get(signature, signature)
    event = signed(api_event, value) if value is not None else api_event

    response = invoke(event)

    assert (response.status, response.body["status"]) == (200, "accepted")
    [item] = stack.items()
    assert item["signature"] == {"S": outcome}
    metrics = emitted_metrics(capsys.readouterr().out)
    assert ("Signatures", {"service": metrics[0][1]["service"], "signature": outcome}) in metrics


def test_a_held_body_records_its_signature_too(invoke, stack: Stack):
    with_signing_secret(stack)
    event = load_event("apigw_invalid_body.json")

    response = invoke(signed(event, expected_signature(body_bytes(event), SIGNING_SECRET)))

    assert response.status == 202
    [held] = stack.held_bodies()
    assert held["signature"] == {"S": "matched"}


def test_the_signature_is_of_the_raw_bytes_sent(invoke, stack: Stack, api_event):
    # Base64 from API Gateway: what Zenoti signed is the decoded bytes, not the text API Gateway hands over.
    with_signing_secret(stack)
    raw = api_event["body"].encode()
    event = copy.deepcopy(api_event)
    event.update(body=base64.b64encode(raw).decode(), isBase64Encoded=True)

    invoke(signed(event, expected_signature(raw, SIGNING_SECRET)))

    [item] = stack.items()
    assert item["signature"] == {"S": "matched"}


# --- The signature, enforced -----------------------------------------------------------------------


@pytest.mark.parametrize("signature", ["12-34-56", None])
def test_enforced_a_signature_that_does_not_match_is_refused_and_nothing_is_stored(
    enforced, invoke, stack: Stack, api_event, signature
):
    with_signing_secret(stack)
    event = signed(api_event, signature) if signature else api_event

    response = invoke(event)

    assert (response.status, response.body["status"], response.body["reason"]) == (401, "refused", "signature_mismatch")
    assert stack.items() == []
    assert stack.held_bodies() == []


def test_enforced_a_signature_that_matches_is_accepted(enforced, invoke, stack: Stack, api_event):
    with_signing_secret(stack)

    response = invoke(signed(api_event, expected_signature(body_bytes(api_event), SIGNING_SECRET)))

    assert (response.status, response.body["status"]) == (200, "accepted")


def test_enforced_without_a_signing_secret_is_our_misconfiguration_a_503(enforced, invoke, stack: Stack, api_event):
    response = invoke(signed(api_event, "12-34"))

    assert response.status == 503  # Zenoti sends it again once the secret is set
    assert stack.items() == []


# --- Personal data -----------------------------------------------------------------------------------

PERSONAL_KEYS = ("name", "email", "phone", "birth", "address", "number", "mobile")


def personal_values(value: Any, key: str = "") -> set[str]:
    """The texts of a body that name, reach or locate a person: names, e-mail addresses, phones, birth dates."""
    if isinstance(value, dict):
        return {text for name, child in value.items() for text in personal_values(child, name.lower())}
    if isinstance(value, list):
        return {text for child in value for text in personal_values(child, key)}
    if value is None or isinstance(value, bool) or not any(part in key for part in PERSONAL_KEYS):
        return set()
    text = str(value)
    return {text} if len(text) >= 4 and not text.startswith("0001-01-01") else set()


@pytest.mark.parametrize("event_type", catalog.EVENT_TYPES)
def test_personal_data_stays_out_of_logs_metrics_and_answers(invoke, stack: Stack, event_type, log_stream, capsys):
    event = load_event(f"apigw_{sample_name(event_type)}.json")
    payload = json.loads(event["body"])
    personal = personal_values(payload["data"])
    assert personal or event_type not in ("Guest.Created", "Employee.Created")  # what this test is about
    invalid = copy.deepcopy(payload)
    invalid["event_schema"] = "v2"

    answers = [invoke(event), invoke(event), invoke(with_payload(event, invalid))]  # accepted, duplicate, held
    stack.publish()

    assert [answer.body["status"] for answer in answers] == ["accepted", "duplicate", "held"]
    seen = log_stream.getvalue() + capsys.readouterr().out + json.dumps([answer.body for answer in answers])
    assert not {text for text in personal if text in seen}
