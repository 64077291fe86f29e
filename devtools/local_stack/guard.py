"""What keeps the local stack to this machine (docs/security.md#the-local-stack): dummy credentials, requests
of this machine's names and its own pages only, and a terminal a request's bytes cannot drive."""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from ops.local import FAKE_CREDENTIALS

# A developer's own session, which would otherwise win over the dummy keys: a session token is signed with
# whatever key goes with it.
_SESSION = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION")
_PROFILES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")  # a developer's configuration, which may send the calls elsewhere
_SERVICE_ENDPOINTS = "AWS_ENDPOINT_URL_"  # AWS_ENDPOINT_URL_DYNAMODB, ...: each wins over AWS_ENDPOINT_URL
# How a container reaches this machine (Docker Desktop; on Linux with --add-host): `sam local` calls the
# emulator by this name. A page cannot make a browser send it: it is not a name of the page's origin.
DOCKER_HOST = "host.docker.internal"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
FORBIDDEN = {"message": "Forbidden"}


def use_dummy_credentials() -> None:
    """Sign every AWS call of this process (and of what it starts) with dummy credentials: exported keys
    replaced; a session token, a profile, the AWS config files and service endpoints dropped."""
    for name in [name for name in os.environ if name in _SESSION + _PROFILES or name.startswith(_SERVICE_ENDPOINTS)]:
        del os.environ[name]
    os.environ.update(FAKE_CREDENTIALS, AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)


def url_host(host: str) -> str:
    """An address as a URL writes it: an IPv6 one in brackets."""
    return f"[{host}]" if ":" in host else host


def allowed_hosts(bound_host: str, port: int) -> frozenset[str]:
    """The Host headers a server bound to bound_host:port answers: this machine's names for it, with the port."""
    names = {*LOOPBACK_NAMES, url_host(bound_host), DOCKER_HOST}
    return frozenset(f"{name}:{port}".lower() for name in names)


def refusal(host: str | None, origin: str | None, allowed: Iterable[str]) -> str | None:
    """Why a request is refused (one line, safe to print), or None: a foreign Host, or an Origin not its own."""
    if host is None or host.lower() not in allowed:
        return f"Host {printable(repr(host))} is not this machine's (a DNS name pointed at 127.0.0.1?)"
    if origin is not None and origin.lower() != f"http://{host.lower()}":
        return f"Origin {printable(repr(origin))} is another site (a web page calling this machine?)"
    return None


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def local_only(app: Callable[..., Any], bound_host: str) -> Callable[..., Any]:
    """moto's WSGI application, answering this machine's requests only (allowed_hosts), without CORS headers."""

    def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        allowed = allowed_hosts(bound_host, int(environ["SERVER_PORT"]))  # the port the server listens on
        why = refusal(environ.get("HTTP_HOST"), environ.get("HTTP_ORIGIN"), allowed)
        moto_api = environ.get("PATH_INFO", "").startswith("/moto-api")
        if why is None and moto_api and not is_loopback(environ.get("REMOTE_ADDR", "")):
            why = "moto's own API answers this machine only"
        if why is not None:
            body = json.dumps({**FORBIDDEN, "reason": why}).encode()
            start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]

        def without_cors(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            # moto allows every origin (flask-cors, unless MOTO_DISABLE_GLOBAL_CORS was set before it was
            # imported): whatever it added, no page of another origin may read an answer.
            kept = [(name, value) for name, value in headers if not name.lower().startswith("access-control-")]
            return start_response(status, kept, exc_info)

        return app(environ, without_cors)

    return answer


# C0 and C1 controls but newline and tab, DEL, and the bidirectional overrides that reorder a line.
_CONTROLS = (*range(0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_ESCAPES = {code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in _CONTROLS}


def printable(text: str) -> str:
    """The text with every terminal control character written as an escape (\\x1b), lines and tabs kept."""
    return text.translate(_ESCAPES)
