"""Deliveries through the WAF front door: its REST API hands the function payload format 1.0.

events/apigw_rest_booking_deleted.json is SAM's sample of a REST API proxy event (`sam local
generate-event apigateway aws-proxy`) carrying Zenoti's sample as the front door would: header
names in the case they were sent, repeated values in multiValueHeaders/multiValueQueryStringParameters.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from tests.conftest import LOCAL_TOKEN, Stack, load_event
from zenoti_receiver.adapters.event_table import stored_payload


@pytest.fixture
def rest_event() -> dict[str, Any]:
    return load_event("apigw_rest_booking_deleted.json")


def with_token(event: dict[str, Any], *tokens: str) -> dict[str, Any]:
    """The event with the query string carrying `tokens` (more than one: the parameter repeated)."""
    changed = copy.deepcopy(event)
    changed["queryStringParameters"] = {"token": tokens[-1]}  # the REST API keeps the last one here
    changed["multiValueQueryStringParameters"] = {"token": list(tokens)}
    return changed


def test_zenotis_delivery_through_the_front_door_is_stored_verbatim_and_published_once(
    invoke, stack: Stack, rest_event, api_event
):
    response = invoke(rest_event)

    assert (response.status, response.body["status"]) == (200, "accepted")
    [item] = stack.items()
    assert stored_payload(item) == rest_event["body"]
    [message] = stack.messages()
    assert message["Message"] == rest_event["body"]
    # The same event through the HTTP API is the same event.
    assert invoke(api_event).body["status"] == "duplicate"


@pytest.mark.parametrize("resource", ["/zenoti/webhook", "/zenoti/class-booking-deleted"])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_every_verb_zenoti_may_use_on_either_path_is_accepted(invoke, stack: Stack, rest_event, method, resource):
    rest_event["httpMethod"] = rest_event["requestContext"]["httpMethod"] = method
    rest_event["resource"] = rest_event["path"] = rest_event["requestContext"]["resourcePath"] = resource

    assert invoke(rest_event).status == 200
    assert len(stack.items()) == 1


def test_another_verb_is_refused(invoke, stack: Stack, rest_event):
    rest_event["httpMethod"] = "DELETE"

    response = invoke(rest_event)

    assert (response.status, response.body["reason"]) == (405, "method_not_allowed")
    assert stack.items() == []


def test_a_wrong_or_missing_token_is_refused_and_nothing_is_stored(invoke, stack: Stack, rest_event):
    missing = copy.deepcopy(rest_event)
    missing["queryStringParameters"] = missing["multiValueQueryStringParameters"] = None

    assert invoke(with_token(rest_event, "not-the-token")).status == 401
    assert invoke(missing).status == 401
    assert stack.items() == []


def test_a_repeated_token_parameter_is_refused_as_the_http_api_refuses_it(invoke, stack: Stack, rest_event):
    # The REST API's queryStringParameters keeps only the last value, here the right one; the HTTP API
    # would give "not-the-token,local-demo-token". Either way a repeated token is not a token.
    response = invoke(with_token(rest_event, "not-the-token", LOCAL_TOKEN))

    assert response.status == 401
    assert stack.items() == []


def test_the_token_header_is_found_whatever_the_case_of_its_name(invoke, stack: Stack, rest_event):
    header_only = copy.deepcopy(rest_event)
    header_only["queryStringParameters"] = header_only["multiValueQueryStringParameters"] = None
    header_only["headers"]["X-Webhook-Token"] = LOCAL_TOKEN
    header_only["multiValueHeaders"]["X-Webhook-Token"] = [LOCAL_TOKEN]

    assert invoke(header_only).status == 200

    disagreeing = copy.deepcopy(rest_event)
    disagreeing["headers"]["X-Webhook-Token"] = "something-else"
    disagreeing["multiValueHeaders"]["X-Webhook-Token"] = ["something-else"]
    assert invoke(disagreeing).status == 401  # query and header must agree, in 1.0 as in 2.0


def test_a_base64_body_is_read_as_the_bytes_zenoti_sent(invoke, stack: Stack, rest_event):
    # A REST API with binary media types hands the body base64-encoded.
    encoded = copy.deepcopy(rest_event)
    encoded["body"] = base64.b64encode(rest_event["body"].encode()).decode()
    encoded["isBase64Encoded"] = True

    assert invoke(encoded).status == 200
    assert stored_payload(stack.items()[0]) == rest_event["body"]


def test_the_sample_is_zenotis_sample(rest_event, raw_payload):
    assert json.loads(rest_event["body"]) == json.loads(raw_payload)
