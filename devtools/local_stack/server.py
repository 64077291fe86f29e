"""The local stack as a server: moto's server for AWS, and the webhook route over HTTP."""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.request import Request, urlopen

from devtools.local_stack import guard
from devtools.local_stack.api_gateway import http_api_event, route_key
from devtools.local_stack.receiver import LocalReceiver, describe_messages, describe_publication, describe_result
from devtools.local_stack.resources import LocalResources, create_resources, subscribe_queue, take_messages
from ops.local import WEBHOOK_PATH

# API Gateway's HTTP API takes payloads up to 10 MB and answers 413 above; the function's own limit
# (255 KiB) is lower, so between the two the function answers, as it would deployed.
MAX_BODY_BYTES = 10 * 1024 * 1024
LOOPBACK = "127.0.0.1"  # the only address the webhook listens on (docs/security.md#the-local-stack)
# A client that stops sending in the middle of its request frees the thread serving it after this long.
READ_TIMEOUT_SECONDS = 30
NOT_FOUND = {"message": "Not Found"}  # what API Gateway answers for a route or method it does not have
# serve's own queue on the topic, which this terminal reads, so that the stack's subscriber queue stays
# for a consumer of the user's own.
TERMINAL_QUEUE = "zenoti-local-terminal"
# How often the stream is read for new events: Lambda's poller reads a DynamoDB stream four times a second.
STREAM_POLL_SECONDS = 0.25
# A request's report, a publication, a message: each printed whole, never interleaved with another.
_TERMINAL = threading.RLock()


class CannotListen(Exception):
    """An address serve cannot listen on; the message names the option that chooses another."""


@dataclass(frozen=True)
class RunningStack:
    endpoint: str  # the AWS emulator
    webhook_url: str  # without the token
    resources: LocalResources


@contextmanager
def emulator(host: str, port: int) -> Iterator[str]:
    """moto's server on host:port (0: any free one), inside guard.local_only, while the block runs; its endpoint URL."""
    # The one way this repository starts it: what moto's ThreadedMotoServer does, with the guard around the app.
    _check_can_listen(host, port, "--emulator-port")
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's access log drowns the reports
    app = guard.local_only(DomainDispatcherApplication(create_backend_app), host)
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="emulator", daemon=True)
    thread.start()
    endpoint = f"http://{guard.url_host(host)}:{server.server_port}"
    try:
        # moto keeps its state in this process, across servers: each one starts empty.
        urlopen(Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).close()  # noqa: S310 - our emulator
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def local_stack(
    port: int, emulator_host: str, emulator_port: int, overrides: dict[str, str] | None = None, report: bool = True
) -> Iterator[RunningStack]:
    """The emulator with the template's resources, the webhook on 127.0.0.1:port (0: any free one) and Lambda's
    poller of the stream, running until the block ends; `report` prints each request, publication and message."""
    _check_can_listen(LOOPBACK, port, "--port")
    with emulator(emulator_host, emulator_port) as endpoint:
        guard.use_dummy_credentials()
        os.environ["AWS_ENDPOINT_URL"] = endpoint  # the standard setting: boto3 sends every call there
        resources = create_resources()
        receiver = LocalReceiver(resources, overrides)
        # This terminal reads the topic through a queue of its own.
        terminal_queue = subscribe_queue(resources.topic_arn, TERMINAL_QUEUE) if report else None
        http = ThreadingHTTPServer((LOOPBACK, port), _request_handler(receiver, report))
        http.daemon_threads = True
        stopped = threading.Event()

        def poll(drain: bool) -> None:
            """One round of Lambda's poller (or every round until nothing is left), then what the topic sent."""
            result = receiver.stream.drain() if drain else receiver.stream.poll()
            if report and result.invocations:
                _show(describe_publication(result))
            while terminal_queue and (messages := take_messages(receiver.sqs, terminal_queue)):
                _show(describe_messages(terminal_queue, messages, "this terminal's queue"))

        def poller() -> None:
            while not stopped.wait(STREAM_POLL_SECONDS):
                poll(drain=False)
            poll(drain=True)  # what was stored before the stop: published, as Lambda would

        threads = [threading.Thread(target=target, daemon=True) for target in (http.serve_forever, poller)]
        for thread in threads:
            thread.start()
        try:
            yield RunningStack(endpoint, f"http://{LOOPBACK}:{http.server_port}{WEBHOOK_PATH}", resources)
        finally:
            http.shutdown()
            stopped.set()
            for thread in threads:
                thread.join(timeout=40)
            http.server_close()


def free_port() -> int:
    """A port nobody listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def _show(text: str) -> None:
    """Print a whole block, what a request sent in it escaped (guard.printable)."""
    with _TERMINAL:
        print(guard.printable(text), end="" if text.endswith("\n") else "\n", flush=True)


def _check_can_listen(host: str, port: int, option: str) -> None:
    """Refuse a port another socket listens on; not one only in TIME-WAIT after a stop, as the server may reuse it."""
    if not port:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        # What the servers set (socketserver's allow_reuse_address): a socket left in TIME-WAIT by the
        # last run does not stop a bind, a listening one still does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            why = "is already in use" if error.errno == errno.EADDRINUSE else f"cannot be used ({error.strerror})"
            raise CannotListen(f"port {port} on {host} {why}; choose another with {option}") from None


def _request_handler(receiver: LocalReceiver, report: bool) -> type[BaseHTTPRequestHandler]:
    class WebhookRequest(BaseHTTPRequestHandler):
        """API Gateway's side of the webhook route: every answer JSON, every body bounded."""

        protocol_version = "HTTP/1.1"
        timeout = READ_TIMEOUT_SECONDS  # on the connection: a stalled client cannot hold a thread forever

        def __getattr__(self, name: str) -> Callable[[], None]:
            # http.server answers a method it has no do_<METHOD> for with an HTML 501: every method,
            # OPTIONS, HEAD and ones it has never heard of included, is handled here instead.
            if name.startswith("do_"):
                return self._handle
            raise AttributeError(name)

        def _handle(self) -> None:
            path, _, query = self.path.partition("?")
            allowed = guard.allowed_hosts(LOOPBACK, self.connection.getsockname()[1])  # the port it came in on
            why = guard.refusal(self.headers.get("host"), self.headers.get("origin"), allowed)
            if why is not None:
                # Before anything is read or invoked: a page of another site, or a DNS name pointed here.
                if report:
                    _show(f"\n>>> refused {self.command} {path}: {why}")
                self._send(HTTPStatus.FORBIDDEN, guard.FORBIDDEN, close=True)
                return
            if (route := route_key(self.command, path)) is None:
                unread = self.headers.get("content-length") or self.headers.get("transfer-encoding")
                self._send(HTTPStatus.NOT_FOUND, NOT_FOUND, close=bool(unread))
                return
            body = self._read_body()
            if body is None:
                return
            event = http_api_event(
                self.command, path, query, list(self.headers.items()), body, self.client_address[0], route
            )
            # The request's report first, then (from the poller) the message it published; and before
            # answering, so that a client that got its answer can read the report.
            with _TERMINAL:  # the function takes one request at a time anyway
                result = receiver.invoke(event)
                if report:
                    _show(f"\n>>> {self.command} {path} ({len(body)} bytes){describe_result(receiver, event, result)}")
            self._send(result["statusCode"], json.loads(result["body"]))

        def _read_body(self) -> bytes | None:
            """The body, or None once a refusal is answered: its length must be one number, and bounded."""
            lengths = self.headers.get_all("content-length") or []
            if self.headers.get("transfer-encoding") is not None:
                # A chunked body (or one with both headers, which parsers read differently) is not read here.
                refused = HTTPStatus.BAD_REQUEST if lengths else HTTPStatus.LENGTH_REQUIRED
            elif len(set(lengths)) > 1 or (lengths and not lengths[0].strip().isdigit()):
                refused = HTTPStatus.BAD_REQUEST  # negative, not a number, or two that disagree
            elif lengths and int(lengths[0]) > MAX_BODY_BYTES:
                refused = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
            else:
                length = int(lengths[0]) if lengths else 0
                try:
                    body = self.rfile.read(length)
                except TimeoutError:
                    body = b""
                if len(body) == length:
                    return body
                self.close_connection = True  # the client went away mid-body, or stalled
                return None
            self._send(refused, {"message": refused.phrase}, close=True)
            return None

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            # Requests http.server refuses before any handler (a bad request line, headers too long): JSON too.
            self._send(code, {"message": HTTPStatus(code).phrase}, close=True)

        def _send(self, status: int, body: dict[str, Any], close: bool = False) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            if close:
                # The request's body was not read: the connection cannot carry another request.
                self.close_connection = True
                self.send_header("connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the report says more

    return WebhookRequest
