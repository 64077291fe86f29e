"""`make local` talks to an emulator over plain HTTP: it signs with dummy credentials, whatever the shell exports."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import EXAMPLE

OPERATOR_KEY_ID = "AKIAOPERATOR00000000"


@pytest.fixture
def emulator_headers() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A stand-in emulator on 127.0.0.1 that refuses every call and keeps each one's headers; (URL, headers)."""
    received: list[dict[str, str]] = []

    class Refusing(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            received.append({name.lower(): value for name, value in self.headers.items()})
            body = b'{"__type": "AccessDenied", "message": "stand-in"}'
            self.send_response(400)
            self.send_header("content-type", "application/x-amz-json-1.0")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_local_runner_never_signs_with_the_developers_credentials(emulator_headers, tmp_path):
    url, received = emulator_headers
    (tmp_path / "credentials").write_text(
        "[prod]\naws_access_key_id = AKIAPROFILE000000000\naws_secret_access_key = s\n"
    )
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith("AWS_")},
        "AWS_ACCESS_KEY_ID": OPERATOR_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": "operator-secret",
        "AWS_SESSION_TOKEN": "operator-session-token",
        "AWS_PROFILE": "prod",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "PYTHONPATH": str(EXAMPLE.parent.parent),  # the receiver's repository: its local stack
    }

    run = subprocess.run(
        [sys.executable, "-m", "subscriber_local", "--endpoint-url", url, "--max-messages", "0"],
        cwd=EXAMPLE,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode == 2, run.stdout + run.stderr  # the stand-in refused the first call
    assert received
    for headers in received:
        assert "Credential=local/" in headers["authorization"]
        assert "x-amz-security-token" not in headers
