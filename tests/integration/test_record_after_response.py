"""In a Lambda execution environment (Extensions API emulated), the publication is recorded after the answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from local_stack.extensions_api import ExtensionsApi
from tests.conftest import LambdaContext, with_payload


@pytest.fixture
def extensions_api(stack, monkeypatch) -> Iterator[ExtensionsApi]:
    api = ExtensionsApi()
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", api.address)
    yield api
    api.close()


@pytest.fixture
def handler(extensions_api, handler):
    """The handler imported once the Extensions API is there, as Lambda imports it."""
    return handler


@pytest.fixture
def lambda_invoke(extensions_api, handler):
    """One request as Lambda runs it: the response, then whatever the extension does before idling."""

    def call(event: dict[str, Any], *, meanwhile: Any = None) -> tuple[int, dict[str, Any]]:
        request_id = event["requestContext"]["requestId"]
        with extensions_api.invocation(request_id):
            result = handler.lambda_handler(event, LambdaContext(aws_request_id=request_id))
            if meanwhile:
                meanwhile(result)
        return result["statusCode"], json.loads(result["body"])

    return call


@pytest.fixture
def new_event(api_event, raw_payload):
    counter = iter(range(1, 1000))

    def make() -> dict[str, Any]:
        number = next(counter)
        event = with_payload(api_event, {**json.loads(raw_payload), "event_id": f"{number:024x}"})
        event["requestContext"]["requestId"] = f"request-{number}"
        return event

    return make


def _item(stack, event_id: str) -> dict[str, Any]:
    items = [item for item in stack.items() if item["event_id"]["S"] == event_id]
    assert len(items) == 1
    return items[0]


def test_the_extension_is_registered_while_the_function_initialises(extensions_api, handler):
    assert extensions_api.registered == ["zenoti-receiver-after-response"]


def test_zenoti_has_its_answer_before_the_publication_is_recorded(stack, handler, lambda_invoke, new_event):
    record_may_go = threading.Event()
    # Hold the recording UpdateItem until the test lets it go: the answer must not wait for it.
    handler.dynamodb.meta.events.register_first(
        "before-call.dynamodb.UpdateItem", lambda **_: record_may_go.wait(timeout=10) and None
    )
    event = new_event()
    event_id = json.loads(event["body"])["event_id"]
    while_waiting: dict[str, Any] = {}

    def meanwhile(result: dict[str, Any]) -> None:
        while_waiting["status"] = result["statusCode"]
        while_waiting["published"] = _item(stack, event_id)["published"]["BOOL"]
        while_waiting["messages"] = [message["Message"] for message in stack.messages()]
        record_may_go.set()

    answer = lambda_invoke(event, meanwhile=meanwhile)

    assert answer == (200, {"status": "accepted", "event_id": event_id, "publication": "published"})
    assert while_waiting == {"status": 200, "published": False, "messages": [event["body"]]}
    recorded = _item(stack, event_id)
    assert recorded["published"] == {"BOOL": True}
    assert recorded["sns_message_id"]["S"]


def test_a_redelivery_after_the_record_is_a_duplicate_and_sends_no_second_message(stack, lambda_invoke, new_event):
    event = new_event()

    event_id = json.loads(event["body"])["event_id"]

    first = lambda_invoke(event)
    second = lambda_invoke(event)

    assert first == (200, {"status": "accepted", "event_id": event_id, "publication": "published"})
    assert second == (200, {"status": "duplicate", "event_id": event_id})
    assert len(stack.messages()) == 1


def test_a_record_that_fails_after_the_answer_is_logged_and_the_next_event_is_recorded(
    stack, lambda_invoke, new_event, logs
):
    stack.faults.fail("dynamodb", "UpdateItem")
    first_status, first = lambda_invoke(new_event())
    stack.faults.clear()
    second_status, second = lambda_invoke(new_event())

    assert (first_status, first["status"], second_status, second["status"]) == (200, "accepted", 200, "accepted")
    warnings = [line for line in logs() if line["message"] == "Published, but could not record it"]
    assert [line["event_id"] for line in warnings] == [first["event_id"]]
    assert _item(stack, first["event_id"])["published"] == {"BOOL": False}
    assert _item(stack, second["event_id"])["published"] == {"BOOL": True}


def test_turned_off_the_record_is_written_before_answering(stack, extensions_api, monkeypatch, request, new_event):
    monkeypatch.setenv("RECORD_AFTER_ANSWER", "false")  # the template's RecordAfterAnswer parameter
    handler = request.getfixturevalue("handler")
    event = new_event()
    event_id = json.loads(event["body"])["event_id"]

    result = handler.lambda_handler(event, LambdaContext(aws_request_id="request-off"))

    assert result["statusCode"] == 200
    assert extensions_api.registered == []
    assert _item(stack, event_id)["published"] == {"BOOL": True}  # before the handler returned
