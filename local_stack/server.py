"""The local stack as a server: moto's server for AWS, and the webhook route over HTTP."""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local_stack.api_gateway import WEBHOOK_PATH, http_api_event, route_key
from local_stack.receiver import FAKE_CREDENTIALS, LocalReceiver, report
from local_stack.resources import LOCAL_TOKEN, LocalResources, create_resources


class PortInUse(Exception):
    def __init__(self, host: str, port: int, option: str) -> None:
        super().__init__(f"port {port} on {host} is already in use; choose another with {option}")


@dataclass
class RunningStack:
    http: ThreadingHTTPServer
    endpoint: str  # the AWS emulator
    webhook_url: str  # without the token
    resources: LocalResources
    receiver: LocalReceiver

    @property
    def url_with_token(self) -> str:
        return f"{self.webhook_url}?token={LOCAL_TOKEN}"


@contextmanager
def local_stack(host: str, port: int, emulator_port: int, report_requests: bool = True) -> Iterator[RunningStack]:
    """Start the emulator, create the template's resources in it, and bind the webhook (port 0: any free one)."""
    for option, number in (("--port", port), ("--emulator-port", emulator_port)):
        if number and not _port_is_free(host, number):
            raise PortInUse(host, number, option)
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's access log drowns the reports
    emulator_port = emulator_port or free_port(host)
    emulator = ThreadedMotoServer(ip_address=host, port=emulator_port, verbose=False)
    emulator.start()
    endpoint = f"http://{host}:{emulator_port}"
    os.environ.update(FAKE_CREDENTIALS)
    os.environ["AWS_ENDPOINT_URL"] = endpoint  # the standard setting: boto3 sends every call there
    http: ThreadingHTTPServer | None = None
    try:
        resources = create_resources(endpoint_url=endpoint)
        receiver = LocalReceiver(resources, endpoint_url=endpoint)
        http = ThreadingHTTPServer((host, port), _request_handler(receiver, report_requests))
        bound_port = http.server_address[1]
        yield RunningStack(http, endpoint, f"http://{host}:{bound_port}{WEBHOOK_PATH}", resources, receiver)
    finally:
        if http is not None:
            http.server_close()
        emulator.stop()


@contextmanager
def publishing_pending_every(stack: RunningStack, seconds: float, report: bool = True) -> Iterator[None]:
    """Run the publisher of pending events every `seconds`, as the schedule in template.yaml does."""
    stopped = threading.Event()

    def every() -> None:
        while not stopped.wait(seconds):
            run = stack.receiver.publish_pending()
            if report and run.get("published"):
                print(f"\n=== The stack published {run['published']} pending event(s) ===", flush=True)

    thread = threading.Thread(target=every, name="pending-publisher", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join(timeout=70)


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


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _request_handler(receiver: LocalReceiver, report_requests: bool) -> type[BaseHTTPRequestHandler]:
    class WebhookRequest(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            path, _, query = self.path.partition("?")
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            route = route_key(self.command, path)
            if route is None:
                self._send(404, {"message": "Not Found"})  # what API Gateway answers for an unknown route
                return
            event = http_api_event(
                self.command, path, query, list(self.headers.items()), body, self.client_address[0], route
            )
            if report_requests:
                print(f"\n>>> {self.command} {path} ({len(body)} bytes)", flush=True)
            result = receiver.invoke(event)
            if report_requests:
                report(receiver, result)  # before answering, so a client that got its answer can read it
                sys.stdout.flush()
            self._send(result["statusCode"], json.loads(result["body"]))

        do_POST = do_PUT = do_PATCH = do_GET = do_DELETE = _handle

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the report says more

    return WebhookRequest
