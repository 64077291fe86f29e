"""`make serve` answers this machine only: no page of another site, no DNS name pointed at 127.0.0.1, no
real credentials, and nothing a request carried can drive the terminal (devtools/local_stack/guard.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from devtools.local_stack.guard import local_only, printable
from ops.local import LOCAL_TOKEN
from tests.conftest import start_serve
from tests.local.test_local_stack import SAMPLE, Served, clean_environment, raw_request, serving

ATTACKER = "attacker.example"


@pytest.fixture(scope="module")
def served_here() -> Iterator[Served]:
    yield from serving([])


def request(url: str, method: str = "GET", path: str | None = None, body: bytes = b"", **headers: str) -> bytes:
    """An HTTP/1.1 request as a browser or a script would send it; Host is the URL's unless given."""
    target = urlsplit(url)
    lines = {"Host": target.netloc, "Connection": "close", **{name.replace("_", "-"): v for name, v in headers.items()}}
    if body:
        lines["Content-Length"] = str(len(body))
        lines["Content-Type"] = "application/json"
    head = "".join(f"{name}: {value}\r\n" for name, value in lines.items())
    return f"{method} {path or target.path or '/'} HTTP/1.1\r\n{head}\r\n".encode() + body


def sample(event_id: str) -> bytes:
    """Zenoti's sample with an event_id of the test's own (the module's tests share one server)."""
    return json.dumps({**json.loads(SAMPLE), "event_id": event_id}).encode()


def webhook(served: Served, body: bytes, method: str = "POST", **headers: str) -> tuple[int, Any]:
    path = f"{urlsplit(served.url).path}?token={LOCAL_TOKEN}"
    status, _, answer = raw_request(served.url, request(served.url, method, path, body, **headers))
    return status, json.loads(answer)


def stored_ids(served: Served) -> list[str]:
    items = served.client("dynamodb").scan(TableName="zenoti-local-events")["Items"]
    return [item["event_id"]["S"] for item in items]


# --- The webhook ---------------------------------------------------------------------------------


def test_the_webhook_refuses_a_dns_name_pointed_at_this_machine(served_here):
    port = urlsplit(served_here.url).port

    status, answer = webhook(served_here, sample("rebound"), Host=f"{ATTACKER}:{port}")

    assert (status, answer) == (403, {"message": "Forbidden"})
    assert "rebound" not in stored_ids(served_here)  # refused before the function ran
    assert f"Host '{ATTACKER}:{port}' is not this machine's" in served_here.wait_printed("is not this machine's")


@pytest.mark.parametrize("origin", [f"https://{ATTACKER}", "null", "http://127.0.0.1:1"])
def test_the_webhook_refuses_a_page_of_another_origin(served_here, origin):
    status, answer = webhook(served_here, sample("cross-site"), Origin=origin)

    assert (status, answer) == (403, {"message": "Forbidden"})
    assert "cross-site" not in stored_ids(served_here)


def test_the_webhook_answers_its_own_origin_and_this_machines_names(served_here):
    netloc = urlsplit(served_here.url).netloc
    port = urlsplit(served_here.url).port

    assert webhook(served_here, sample("same-origin"), Origin=f"http://{netloc}") == (
        200,
        {
            "status": "accepted",
            "event_id": "same-origin",
            "event_type": "Class.Booking.Deleted",
        },
    )
    assert webhook(served_here, sample("by-name"), Host=f"localhost:{port}")[0] == 200


def test_a_held_bodys_control_characters_are_printed_escaped(served_here):
    # Authenticated, not JSON: held (202) among the held bodies, whose entry serve prints.
    hostile = "\x1b]0;owned\x07\x1b[2J\x1b[1;1Hall events accepted\r\x9b31m\u202e".encode()

    status, answer = webhook(served_here, hostile)

    assert (status, answer["reason"]) == (202, "malformed_body")
    printed = served_here.wait_printed("all events accepted")
    report = printed[printed.rindex("=== Held in DynamoDB table") :]
    assert "\\x1b]0;owned\\x07\\x1b[2J\\x1b[1;1Hall events accepted\\x0d\\x9b31m\\u202e" in report
    assert not any(character in report for character in "\x1b\x07\r\x9b\u202e")


# --- The AWS emulator ----------------------------------------------------------------------------


def test_the_emulator_refuses_a_dns_name_pointed_at_this_machine(served_here):
    port = urlsplit(served_here.emulator).port

    status, _, body = raw_request(
        served_here.emulator, request(served_here.emulator, path="/moto-api/data.json", Host=f"{ATTACKER}:{port}")
    )

    assert status == 403
    assert LOCAL_TOKEN not in body.decode()  # moto's whole state, the token included, stays in


@pytest.mark.parametrize("method", ["GET", "POST", "OPTIONS"])
def test_the_emulator_refuses_a_page_of_another_origin(served_here, method):
    status, headers, body = raw_request(
        served_here.emulator,
        request(
            served_here.emulator,
            method,
            "/moto-api/data.json",
            Origin=f"https://{ATTACKER}",
            Access_Control_Request_Method="POST",
        ),
    )

    assert status == 403
    assert LOCAL_TOKEN not in body.decode()
    assert not [name for name in headers if name.startswith("access-control-")]


def test_the_emulator_sends_no_cors_headers_so_no_other_page_may_read_it(served_here):
    # A request of its own origin passes; moto's flask-cors would allow any origin on its answer.
    netloc = urlsplit(served_here.emulator).netloc

    status, headers, _ = raw_request(
        served_here.emulator, request(served_here.emulator, path="/moto-api/data.json", Origin=f"http://{netloc}")
    )

    assert status == 200
    assert not [name for name in headers if name.startswith("access-control-")]


def test_the_emulator_still_serves_the_aws_cli_and_boto3(served_here):
    assert served_here.client("sns").list_topics()["Topics"]  # Host 127.0.0.1:port, no Origin


def test_moto_s_own_api_answers_this_machine_only():
    """moto's API (its state, reset) is refused to a client elsewhere, even one that may call the emulator."""
    # Bound to Docker's bridge, for `sam local`.
    app = local_only(lambda environ, start_response: start_response("200 OK", []) or [b"state"], "172.17.0.1")
    answers: list[str] = []
    container = {"HTTP_HOST": "host.docker.internal:5000", "REMOTE_ADDR": "172.17.0.2", "SERVER_PORT": "5000"}

    refused = app(
        {**container, "PATH_INFO": "/moto-api/data.json"}, lambda status, headers, exc_info=None: answers.append(status)
    )
    served = app({**container, "PATH_INFO": "/"}, lambda status, headers, exc_info=None: answers.append(status))

    assert answers == ["403 Forbidden", "200 OK"]
    assert b"this machine only" in b"".join(refused)
    assert b"".join(served) == b"state"


def test_printable_keeps_text_lines_and_tabs():
    assert printable("a\tb\nc é ✓") == "a\tb\nc é ✓"


# --- Credentials ---------------------------------------------------------------------------------


def test_serve_signs_with_dummy_credentials_whatever_the_shell_exports(tmp_path: Path):
    recording = tmp_path / "requests.jsonl"
    environment = {
        **clean_environment(),
        "AWS_ACCESS_KEY_ID": "AKIAOPERATOR00000000",
        "AWS_SECRET_ACCESS_KEY": "operator-secret-access-key",
        "AWS_SESSION_TOKEN": "operator-session-token",
        "AWS_PROFILE": "deleted-last-week",  # a profile that does not exist stops boto3 unless it is dropped
        "MOTO_ENABLE_RECORDING": "true",  # moto writes every request it serves, headers included
        "MOTO_RECORDER_FILEPATH": str(recording),
    }
    process, banner = start_serve("--port", "0", "--emulator-port", "0", env=environment)
    try:
        [url] = {match[0] for match in re.finditer(r"http://127\.0\.0\.1:\d+/zenoti/[^\s']+", "".join(banner))}
        target = urlsplit(url)
        status, _, _ = raw_request(url, request(url, "POST", f"{target.path}?{target.query}", sample("credentials")))
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert status == 200, "".join(banner)
    calls = [json.loads(line) for line in recording.read_text().splitlines()]
    signed = [call["headers"] for call in calls if "Authorization" in call["headers"]]
    assert len(signed) >= 3  # the secret, the item, the message
    for headers in signed:
        assert "Credential=local/" in headers["Authorization"]
        assert "X-Amz-Security-Token" not in headers
        assert "operator" not in json.dumps(headers)
