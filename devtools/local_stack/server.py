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
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.request import Request, urlopen

import boto3

from devtools.local_stack.api_gateway import http_api_event, route_key
from devtools.local_stack.guard import (
    FORBIDDEN,
    LocalOnly,
    allowed_hosts,
    printable,
    refusal,
    url_host,
    use_dummy_credentials,
)
from devtools.local_stack.receiver import (
    LocalReceiver,
    delivered_body,
    describe_messages,
    describe_publication,
    describe_result,
    take_messages,
)
from devtools.local_stack.resources import LocalResources, create_resources
from devtools.local_stack.stream import PollResult
from ops.local import LOCAL_TOKEN, REGION, WEBHOOK_PATH

# API Gateway's HTTP API takes payloads up to 10 MB and answers 413 above; the function's own limit
# (255 KiB) is lower, so between the two the function answers, as it would deployed.
MAX_BODY_BYTES = 10 * 1024 * 1024
# A client that stops sending in the middle of its request frees the thread serving it after this long.
READ_TIMEOUT_SECONDS = 30
NOT_FOUND = {"message": "Not Found"}  # what API Gateway answers for a route or method it does not have
# serve's own queue on the topic, which this terminal reads, so that the stack's subscriber queue stays
# for a consumer of the user's own.
TERMINAL_QUEUE = "zenoti-local-terminal"
WATCH_SECONDS = 0.2  # how often the terminal looks for new messages
# How often the stream is read for new events: Lambda's poller reads a DynamoDB stream four times a second.
STREAM_POLL_SECONDS = 0.25


class PortInUse(Exception):
    def __init__(self, host: str, port: int, option: str) -> None:
        super().__init__(f"port {port} on {host} is already in use; choose another with {option}")


class CannotListen(Exception):
    def __init__(self, host: str, port: int, option: str, error: OSError) -> None:
        super().__init__(f"cannot listen on {host}:{port} ({error.strerror}); choose another address with {option}")


class Terminal:
    """Prints whole blocks, one at a time: a request's report and a message never interleave."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def print(self, text: str) -> None:
        with self._lock:
            self._write(text)

    @contextmanager
    def holding(self) -> Iterator[Callable[[str], None]]:
        """Nothing else prints while the block runs; it prints with what it is given."""
        with self._lock:
            yield self._write

    @staticmethod
    def _write(text: str) -> None:
        print(text, end="" if text.endswith("\n") else "\n", flush=True)


@dataclass
class RunningStack:
    http: ThreadingHTTPServer
    endpoint: str  # the AWS emulator
    webhook_url: str  # without the token
    resources: LocalResources
    receiver: LocalReceiver
    terminal: Terminal = field(default_factory=Terminal)
    terminal_queue_url: str | None = None  # what this terminal reads of the topic

    @property
    def url_with_token(self) -> str:
        return f"{self.webhook_url}?token={LOCAL_TOKEN}"


@contextmanager
def emulator(host: str, port: int, option: str = "--emulator-port") -> Iterator[str]:
    """moto's server on host:port (0: any free port), for as long as the block runs; its endpoint URL.

    The one way this repository starts it (serve, invoke, the tests, the benchmark): what
    ThreadedMotoServer does, with moto's application inside LocalOnly (devtools/local_stack/guard.py).
    """
    _check_can_listen(host, port, option)
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's access log drowns the reports
    app = LocalOnly(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    app.allowed = allowed_hosts(host, server.server_port)
    thread = threading.Thread(target=server.serve_forever, name="emulator", daemon=True)
    thread.start()
    endpoint = f"http://{url_host(host)}:{server.server_port}"
    try:
        # moto keeps its state in this process, across servers: each one starts empty.
        with urlopen(Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10):  # noqa: S310 - our emulator
            pass
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def local_stack(
    host: str,
    port: int,
    emulator_port: int,
    report_requests: bool = True,
    emulator_host: str | None = None,
    overrides: dict[str, str] | None = None,
) -> Iterator[RunningStack]:
    """Start the emulator, create the template's resources in it, and bind the webhook (port 0: any free one)."""
    emulator_host = emulator_host or host
    _check_can_listen(host, port, "--port")
    with emulator(emulator_host, emulator_port) as endpoint:
        use_dummy_credentials()
        os.environ["AWS_ENDPOINT_URL"] = endpoint  # the standard setting: boto3 sends every call there
        resources = create_resources(endpoint_url=endpoint)
        terminal_queue = _subscribe_terminal(resources, endpoint) if report_requests else None
        receiver = LocalReceiver(resources, endpoint, overrides)
        terminal = Terminal()
        http: ThreadingHTTPServer | None = None
        try:
            http = ThreadingHTTPServer((host, port), _request_handler(receiver, terminal, report_requests, host))
            http.daemon_threads = True
            webhook_url = f"http://{url_host(host)}:{http.server_port}{WEBHOOK_PATH}"
            yield RunningStack(http, endpoint, webhook_url, resources, receiver, terminal, terminal_queue)
        finally:
            if http is not None:
                http.server_close()


@contextmanager
def publishing_from_the_stream(stack: RunningStack, report: bool = True) -> Iterator[None]:
    """Read the table's stream and invoke the publisher with what is new, as Lambda's event source mapping does."""
    stopped = threading.Event()

    def poll() -> None:
        while not stopped.wait(STREAM_POLL_SECONDS):
            show(stack.receiver.stream.poll())
        show(stack.receiver.stream.drain())  # what was stored before the stop: published, as Lambda would

    def show(result: PollResult) -> None:
        if report and result.invocations:
            stack.terminal.print(describe_publication(result))

    thread = threading.Thread(target=poll, name="stream-publisher", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join(timeout=40)


@contextmanager
def showing_messages(stack: RunningStack) -> Iterator[None]:
    """Print each message the topic sends as it arrives, whatever sent it (a request, the publisher, a replay)."""
    queue_url = stack.terminal_queue_url
    if queue_url is None:
        yield
        return
    stopped = threading.Event()
    sqs = boto3.session.Session(region_name=REGION).client("sqs", endpoint_url=stack.endpoint)

    def watch() -> None:
        # Short polls rather than SQS's long one, so that Ctrl-C does not wait for a poll to end.
        while not stopped.is_set():
            if messages := take_messages(sqs, queue_url):
                stack.terminal.print(describe_messages(queue_url, messages, "this terminal's queue"))
            else:
                stopped.wait(WATCH_SECONDS)
        while messages := take_messages(sqs, queue_url):  # what arrived before the stop
            stack.terminal.print(describe_messages(queue_url, messages, "this terminal's queue"))

    thread = threading.Thread(target=watch, name="messages", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join(timeout=10)


@contextmanager
def serving_in_background(stack: RunningStack) -> Iterator[None]:
    thread = threading.Thread(target=stack.http.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stack.http.shutdown()
        thread.join(timeout=10)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _subscribe_terminal(resources: LocalResources, endpoint: str) -> str:
    session = boto3.session.Session(region_name=REGION)
    sqs, sns = session.client("sqs", endpoint_url=endpoint), session.client("sns", endpoint_url=endpoint)
    queue_url = str(sqs.create_queue(QueueName=TERMINAL_QUEUE)["QueueUrl"])
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # Raw, as the stack's subscriber queue receives them.
    sns.subscribe(
        TopicArn=resources.topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    return queue_url


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
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(host, port, option) from None
            raise CannotListen(host, port, option, error) from None


def _request_handler(
    receiver: LocalReceiver, terminal: Terminal, report_requests: bool, bound_host: str
) -> type[BaseHTTPRequestHandler]:
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
            allowed = allowed_hosts(bound_host, self.connection.getsockname()[1])  # the port it came in on
            why = refusal(self.headers.get("host"), self.headers.get("origin"), allowed)
            if why is not None:
                # Before anything is read or invoked: a page of another site, or a DNS name pointed here.
                if report_requests:
                    terminal.print(f"\n>>> refused {printable(self.command)} {printable(path)}: {why}")
                self._send(HTTPStatus.FORBIDDEN, FORBIDDEN, close=True)
                return
            route = route_key(self.command, path)
            if route is None:
                unread = self.headers.get("content-length") or self.headers.get("transfer-encoding")
                self._send(HTTPStatus.NOT_FOUND, NOT_FOUND, close=bool(unread))
                return
            body = self._read_body()
            if body is None:
                return
            event = http_api_event(
                self.command, path, query, list(self.headers.items()), body, self.client_address[0], route
            )
            if report_requests:
                # The request's report first, then (from the watcher) the message it published; and
                # before answering, so that a client that got its answer can read the report.
                with terminal.holding() as write:
                    result = receiver.invoke(event)
                    report = describe_result(receiver, result, delivered_body(event))
                    write(printable(f"\n>>> {self.command} {path} ({len(body)} bytes){report}"))
            else:
                result = receiver.invoke(event)
            self._send(result["statusCode"], json.loads(result["body"]))

        def _read_body(self) -> bytes | None:
            """The body, or None once a refusal is answered: its length must be one number, and bounded."""
            lengths = self.headers.get_all("content-length") or []
            if self.headers.get("transfer-encoding") is not None:
                # A chunked body (or one with both headers, which parsers read differently) is not read here.
                status = HTTPStatus.BAD_REQUEST if lengths else HTTPStatus.LENGTH_REQUIRED
                self._send(status, {"message": status.phrase}, close=True)
                return None
            if not lengths:
                return b""
            if len(set(lengths)) != 1 or not lengths[0].strip().isdigit():
                # Negative, not a number, or two that disagree: what would be read is not known.
                self._send(HTTPStatus.BAD_REQUEST, {"message": HTTPStatus.BAD_REQUEST.phrase}, close=True)
                return None
            length = int(lengths[0])
            if length > MAX_BODY_BYTES:
                too_large = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
                self._send(too_large, {"message": too_large.phrase}, close=True)
                return None
            try:
                body = self.rfile.read(length)
            except TimeoutError:
                self.close_connection = True
                return None
            if len(body) < length:
                self.close_connection = True  # the client went away mid-body
                return None
            return body

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
