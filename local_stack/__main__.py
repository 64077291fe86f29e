"""Run the receiver locally, without Docker or an AWS account.

python -m local_stack invoke events/apigw_booking_deleted.json   # like `sam local invoke -e`
python -m local_stack serve [--port 3000] [--emulator-port 5000] # like `sam local start-api`
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from local_stack.api_gateway import WEBHOOK_PATH, http_api_event, route_key
from local_stack.receiver import FAKE_CREDENTIALS, LocalReceiver, report
from local_stack.resources import LOCAL_TOKEN, REGION, create_resources


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    invoke = commands.add_parser("invoke", help="run the handler once on an API Gateway event file")
    invoke.add_argument("event", type=Path, help="for example events/apigw_booking_deleted.json")
    serve = commands.add_parser("serve", help="serve the webhook route over HTTP, backed by an AWS emulator")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=3000, help="webhook port (default 3000)")
    serve.add_argument("--emulator-port", type=int, default=5000, help="AWS emulator (moto) port (default 5000)")
    arguments = parser.parse_args(argv)
    os.environ.update(FAKE_CREDENTIALS)
    if arguments.command == "invoke":
        return run_invoke(arguments.event)
    return run_serve(arguments.host, arguments.port, arguments.emulator_port)


def run_invoke(event_file: Path) -> int:
    try:
        event = json.loads(event_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"cannot read {event_file}: {error}", file=sys.stderr)
        return 2
    from moto import mock_aws

    # The embedded emulator only intercepts when no endpoint is configured.
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        receiver = LocalReceiver(create_resources())
        result = receiver.invoke(event)
        report(receiver, result)
    return 0


def run_serve(host: str, port: int, emulator_port: int) -> int:
    for name, number in (("--port", port), ("--emulator-port", emulator_port)):
        if not _port_is_free(host, number):
            print(f"port {number} on {host} is already in use; choose another with {name}", file=sys.stderr)
            return 2
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's access log drowns the reports
    emulator = ThreadedMotoServer(ip_address=host, port=emulator_port, verbose=False)
    emulator.start()
    endpoint = f"http://{host}:{emulator_port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint  # the standard setting: boto3 sends every call there
    server: ThreadingHTTPServer | None = None
    try:
        resources = create_resources(endpoint_url=endpoint)
        receiver = LocalReceiver(resources, endpoint_url=endpoint)
        server = ThreadingHTTPServer((host, port), _request_handler(receiver))
        url = f"http://{host}:{port}{WEBHOOK_PATH}?token={LOCAL_TOKEN}"
        print(
            f"Webhook:       POST, PUT or PATCH {url}\n"
            f"Local token:   {LOCAL_TOKEN}\n"
            f"AWS emulator:  {endpoint} (region {REGION}, any credentials)\n"
            f"  aws --endpoint-url {endpoint} --region {REGION} dynamodb scan --table-name {resources.table_name}\n"
            f"Try:           curl -X POST -H 'content-type: application/json' "
            f"--data-binary @events/booking_deleted.json '{url}'\n"
            "Ctrl-C stops.",
            flush=True,
        )
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopping.", flush=True)
    finally:
        if server is not None:
            server.server_close()
        emulator.stop()
    return 0


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _request_handler(receiver: LocalReceiver) -> type[BaseHTTPRequestHandler]:
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
            print(f"\n>>> {self.command} {path} ({len(body)} bytes)", flush=True)
            result = receiver.invoke(event)
            report(receiver, result)  # before answering, so a client that got its answer can read the report
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
            pass  # the report above says more

    return WebhookRequest


if __name__ == "__main__":
    sys.exit(main())
