"""Lambda's Extensions API on 127.0.0.1, as far as an internal extension uses it, and the lifecycle around it.

Lambda gives an execution environment its next request only once every extension has asked for
its next event; `invocation()` plays that part for one request, so the tests and the benchmark can
see what the function does after its response without an AWS account.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API = "/2020-01-01/extension"
WAIT_SECONDS = 10.0


class ExtensionsApi:
    """`address` is what Lambda puts in AWS_LAMBDA_RUNTIME_API; `refuse_registration` plays an old runtime."""

    def __init__(self, *, refuse_registration: bool = False) -> None:
        self.refuse_registration = refuse_registration
        self.registered: list[str] = []  # extension names, in order of registration
        self._ids = itertools.count(1)
        self._idle: set[str] = set()  # extensions waiting in event/next
        self._events: dict[str, dict[str, Any]] = {}  # INVOKE events given out, not yet written
        self._closed = False
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="extensions-api", daemon=True).start()

    @property
    def address(self) -> str:
        port = self._server.server_address[1]
        return f"127.0.0.1:{port}"

    @contextmanager
    def invocation(self, request_id: str, timeout_s: float = 7.0) -> Iterator[None]:
        """One request: an INVOKE event to every extension; on leaving, wait until all of them are idle again."""
        with self._changed:
            self._wait_all_idle()
            deadline_ms = int((time.time() + timeout_s) * 1000)
            event = {"eventType": "INVOKE", "requestId": request_id, "deadlineMs": deadline_ms}
            for extension_id in self._idle:
                self._events[extension_id] = event
            self._idle.clear()
            self._changed.notify_all()
            # Lambda delivers the event from outside this process: let this emulation's share of
            # the work (writing the answers) end before the function starts, so it is not timed.
            if not self._changed.wait_for(lambda: not self._events, timeout=WAIT_SECONDS):
                raise TimeoutError("the INVOKE event was never delivered")
        yield
        with self._changed:
            self._wait_all_idle()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def _wait_all_idle(self) -> None:
        expected = len(self.registered)
        if not self._changed.wait_for(lambda: len(self._idle) == expected, timeout=WAIT_SECONDS):
            raise TimeoutError(f"{expected - len(self._idle)} extension(s) never asked for the next event")

    def _register(self, name: str) -> str | None:
        if self.refuse_registration:
            return None
        with self._changed:
            self.registered.append(name)
            return f"extension-{next(self._ids)}"

    def _next_event(self, extension_id: str) -> dict[str, Any] | None:
        with self._changed:
            self._idle.add(extension_id)
            self._changed.notify_all()
            self._changed.wait_for(lambda: extension_id in self._events or self._closed)
            return self._events.get(extension_id)

    def _delivered(self, extension_id: str) -> None:
        with self._changed:
            self._events.pop(extension_id, None)
            self._changed.notify_all()


def _handler_for(api: ExtensionsApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # the extension keeps one connection for all its next events
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

        def do_POST(self) -> None:  # the name http.server looks up
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != f"{API}/register":
                self._answer(404, {"errorType": "NotFound"})
                return
            extension_id = api._register(self.headers.get("Lambda-Extension-Name", ""))
            if extension_id is None:
                self._answer(403, {"errorType": "Extension.Forbidden"})
                return
            self._answer(200, {"functionName": "ReceiverFunction"}, {"Lambda-Extension-Identifier": extension_id})

        def do_GET(self) -> None:
            if self.path != f"{API}/event/next":
                self._answer(404, {"errorType": "NotFound"})
                return
            extension_id = self.headers.get("Lambda-Extension-Identifier", "")
            event = api._next_event(extension_id)
            if event is None:
                self._answer(500, {"errorType": "Extension.Closed"})
                return
            self._answer(200, event)
            api._delivered(extension_id)

        def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {**(headers or {}), "Content-Type": "application/json"}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
