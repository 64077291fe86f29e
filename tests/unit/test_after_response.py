"""The internal extension against an emulated Extensions API: deferred work runs after the handler returns."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from local_stack.extensions_api import ExtensionsApi
from zenoti_receiver.adapters.after_response import EXTENSION_NAME, InternalExtension, RightAway, after_response


@pytest.fixture
def api() -> Iterator[ExtensionsApi]:
    emulator = ExtensionsApi()
    yield emulator
    emulator.close()


def test_outside_lambda_work_is_done_as_it_is_deferred():
    done: list[str] = []

    later = after_response(None)

    @later.hand_over_after
    def handler(event: str, context: None) -> list[str]:
        later.defer(lambda: done.append(event))
        return list(done)

    assert handler("recorded", None) == ["recorded"]  # done before the handler returned
    assert isinstance(later, RightAway)


def test_in_lambda_the_extension_registers_during_init_for_invoke_events(api):
    later = after_response(api.address)

    assert isinstance(later, InternalExtension)
    assert api.registered == [EXTENSION_NAME]


def test_deferred_work_waits_for_the_handler_to_return_and_the_environment_for_the_work(api):
    later = after_response(api.address)
    handler_returned = threading.Event()
    seen: list[bool] = []

    @later.hand_over_after
    def handler(event: str, context: None) -> None:
        later.defer(lambda: seen.append(handler_returned.is_set()))
        handler_returned.set()  # the last thing the handler does

    # api.invocation() is Lambda's part: it ends once the extension asks for its next event.
    with api.invocation("request-1"):
        handler("event", None)

    assert seen == [True]  # it ran after the handler, and before the environment went idle


def test_work_that_fails_is_logged_and_the_next_invocation_still_gets_its_work_done(api, caplog):
    later = after_response(api.address)
    done: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    with api.invocation("request-1"), later.invocation():
        later.defer(broken)
    with api.invocation("request-2"), later.invocation():
        later.defer(lambda: done.append("second"))

    assert done == ["second"]
    assert "A task run after the response failed" in caplog.messages


def test_an_invocation_that_deferred_nothing_leaves_the_environment_idle(api):
    later = after_response(api.address)

    for request in ("request-1", "request-2"):
        with api.invocation(request), later.invocation():
            pass  # a duplicate or a rejection: nothing to do after the response

    assert api.registered == [EXTENSION_NAME]


def test_a_runtime_that_refuses_the_extension_means_work_is_done_before_answering(caplog):
    api = ExtensionsApi(refuse_registration=True)
    try:
        later = after_response(api.address)
    finally:
        api.close()

    assert isinstance(later, RightAway)
    assert any(message.startswith("No internal extension") for message in caplog.messages)
