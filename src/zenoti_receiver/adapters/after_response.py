"""Work Zenoti need not wait for, run after the response by a Lambda internal extension.

Lambda returns the function's response as soon as the handler returns, but gives the execution
environment its next request only once the runtime *and every extension* have asked for their next
event. An internal extension (a thread of this process, registered during init through the
Extensions API) can therefore finish short tasks after the response: Zenoti does not wait for them,
the next request in this environment does not start before they end, and their time is billed.

It relies on one request at a time per execution environment, as Lambda's on-demand environments
run them. Outside Lambda (no AWS_LAMBDA_RUNTIME_API: tests, the local stack) tasks run as they are
deferred.
"""

from __future__ import annotations

import functools
import http.client
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(child=True)

Task = Callable[[], None]
Handler = Callable[[Any, Any], Any]

EXTENSION_NAME = "zenoti-receiver-after-response"
EXTENSIONS_API = "/2020-01-01/extension"
REGISTER_TIMEOUT_SECONDS = 2  # a local call, made once per cold start
NEXT_EVENT_ATTEMPTS = 3
RETRY_SECONDS = 0.5


class ExtensionUnavailable(RuntimeError):
    pass


class RightAway:
    """No extension to hand tasks to: run each one as it is deferred, before the response."""

    def defer(self, task: Task) -> None:
        _run(task)

    def hand_over_after(self, handler: Handler) -> Handler:
        return handler


class InternalExtension:
    """Tasks deferred while the handler runs are handed to the extension's thread when it returns."""

    def __init__(self, runtime_api: str) -> None:
        self._runtime_api = runtime_api
        self._extension_id = self._register()
        self._deferred: list[Task] = []
        self._handed_over: queue.SimpleQueue[list[Task]] = queue.SimpleQueue()
        threading.Thread(target=self._serve, name=EXTENSION_NAME, daemon=True).start()

    def defer(self, task: Task) -> None:
        self._deferred.append(task)

    def hand_over_after(self, handler: Handler) -> Handler:
        """Decorate the Lambda handler: each invocation of it is one `invocation()`."""

        @functools.wraps(handler)
        def handed_over_after(event: Any, context: Any) -> Any:
            with self.invocation():
                return handler(event, context)

        return handed_over_after

    @contextmanager
    def invocation(self) -> Iterator[None]:
        """Wrap one invocation of the handler: whatever it deferred is handed over as it ends."""
        try:
            yield
        finally:
            # Always one hand-over per invocation, even an empty one: the extension waits for it.
            tasks, self._deferred = self._deferred, []
            self._handed_over.put(tasks)

    def _register(self) -> str:
        connection = http.client.HTTPConnection(self._runtime_api, timeout=REGISTER_TIMEOUT_SECONDS)
        try:
            # Internal extensions may only register for INVOKE events (no SHUTDOWN).
            connection.request(
                "POST",
                f"{EXTENSIONS_API}/register",
                body=json.dumps({"events": ["INVOKE"]}),
                headers={"Lambda-Extension-Name": EXTENSION_NAME},
            )
            response = connection.getresponse()
            response.read()
            extension_id = response.getheader("Lambda-Extension-Identifier")
        finally:
            connection.close()
        if response.status != 200 or not extension_id:
            raise ExtensionUnavailable(f"the Extensions API answered {response.status} to the registration")
        return extension_id

    def _serve(self) -> None:
        # No timeout: Lambda answers "next event" only when the next request arrives.
        connection = http.client.HTTPConnection(self._runtime_api)
        while self._ask_for_next_event(connection):
            # The answer (an INVOKE event) arrives with the request whose handler hands the tasks
            # over. Wait for the hand-over first and read the answer after it, so this thread does
            # nothing while the handler runs: Zenoti's answer never waits for it.
            tasks = self._handed_over.get()
            self._read_next_event(connection)
            for task in tasks:
                _run(task)
        # Lambda then ends the next invocation at its timeout and replaces this environment.
        logger.error("The extension stopped: it could not ask the Extensions API for the next event")

    def _ask_for_next_event(self, connection: http.client.HTTPConnection) -> bool:
        """Tell Lambda this invocation's work is done (Lambda freezes or reuses the environment after it)."""
        for attempt in range(1, NEXT_EVENT_ATTEMPTS + 1):
            try:
                connection.request(
                    "GET", f"{EXTENSIONS_API}/event/next", headers={"Lambda-Extension-Identifier": self._extension_id}
                )
                return True
            except (OSError, http.client.HTTPException):
                logger.exception("Could not ask for the next event", extra={"attempt": attempt})
                connection.close()
                time.sleep(RETRY_SECONDS)
        return False

    def _read_next_event(self, connection: http.client.HTTPConnection) -> None:
        try:
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            logger.exception("Could not read the next event; asking again on a new connection")
            connection.close()
            return
        if response.status != 200:
            logger.warning("The Extensions API refused the next event", extra={"status": response.status})


def after_response(runtime_api: str | None) -> RightAway | InternalExtension:
    """The internal extension when running in Lambda; otherwise tasks run right away."""
    if not runtime_api:
        return RightAway()
    try:
        return InternalExtension(runtime_api)
    except (OSError, http.client.HTTPException, ExtensionUnavailable) as error:
        logger.warning(
            "No internal extension: work is done before answering", extra={"detail": f"{type(error).__name__}: {error}"}
        )
        return RightAway()


def _run(task: Task) -> None:
    # A deferred task must not take the extension's thread down with it, nor turn an answered
    # request into an error: what it protects is logged by the task itself.
    try:
        task()
    except Exception:
        logger.exception("A task run after the response failed")
