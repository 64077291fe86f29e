"""Held bodies: list and show them (authenticated, not events we store), and re-drive one through the API.

An entry's body is kept compressed (`body_zlib`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.error import HTTPError, URLError
from urllib.parse import SplitResult, urlencode, urlsplit, urlunsplit
from urllib.request import Request, urlopen

from ops.errors import EXIT_DONE, EXIT_NOT_ACCEPTED, OperatorError
from ops.items import plain_held
from ops.local import LOCAL_TOKEN, LOCAL_WEBHOOK
from ops.target import HELD_OUTPUT, SECRET_OUTPUT, WEBHOOK_OUTPUT, TargetOptions, resolve_deployment
from zenoti_receiver.adapters.held_bodies import STATES_HELD, held_body
from zenoti_receiver.logic.signature import SIGNATURE_HEADER, expected_signature

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
COLUMNS = ("body_sha256", "state", "reason", "deliveries", "first_seen", "last_seen", "body_bytes", "event_id")


@dataclass(frozen=True)
class HeldTarget:
    table_name: str
    dynamodb: Any
    webhook_url: str | None = None
    token: str | None = None
    signing_secret: str | None = field(default=None, repr=False)  # the token secret's, when it has one


def resolve(options: TargetOptions, webhook_url: str | None, *, needs_webhook: bool) -> HeldTarget:
    """The held bodies' table, and for a re-drive the webhook URL and token: from the stack, or `make serve`'s."""
    given: dict[str, str | None] = {HELD_OUTPUT: options.table}
    if needs_webhook and not options.local:
        given |= {WEBHOOK_OUTPUT: None, SECRET_OUTPUT: None}  # the stack's own, never one given
    deployment = resolve_deployment(options, given)
    table, dynamodb = deployment.names[HELD_OUTPUT], deployment.aws.client("dynamodb")
    if not needs_webhook:
        return HeldTarget(table, dynamodb)
    if options.local:
        return HeldTarget(table, dynamodb, local_webhook_url(webhook_url or LOCAL_WEBHOOK), LOCAL_TOKEN)
    # Checked before the token is even read: it goes to the stack's own webhook, or nowhere.
    stack_url = deployment.names[WEBHOOK_OUTPUT]
    url = stack_webhook_url(webhook_url or stack_url, stack_url, deployment.webhook_hosts(), options.stack_name)
    secret = deployment.aws.client("secretsmanager").get_secret_value(SecretId=deployment.names[SECRET_OUTPUT])
    value = json.loads(secret["SecretString"])
    return HeldTarget(table, dynamodb, url, value["token"], value.get("signing_secret"))


def stack_webhook_url(url: str, stack_url: str, api_hosts: frozenset[str], stack_name: str) -> str:
    """The URL to send the production token to: the stack's own WebhookUrl, on one of the stack's own APIs.

    `api_hosts` are the execute-api hosts of the APIs the stack itself created, in its region
    (Deployment.webhook_hosts): an output naming any other host, even another API Gateway API on AWS,
    gets no token.
    """
    wanted, own = _plain_url(url), _plain_url(stack_url)
    if own.scheme != "https":
        raise OperatorError(f"the stack's {WEBHOOK_OUTPUT} {stack_url} is not https: the token would travel in clear")
    if own.port is not None or (own.hostname or "") not in api_hosts:
        raise OperatorError(
            f"the stack's {WEBHOOK_OUTPUT} {stack_url} is not the execute-api URL of an API of stack {stack_name}: "
            "the production token is not sent there"
        )
    if (wanted.scheme, wanted.hostname, wanted.port, wanted.path) != (own.scheme, own.hostname, own.port, own.path):
        raise OperatorError(
            f"--webhook-url {_shown(url)} is not the stack's {WEBHOOK_OUTPUT} ({stack_url}): "
            "the production token is sent there only"
        )
    return urlunsplit(own)


def local_webhook_url(url: str) -> str:
    """The URL to send the local token to: a webhook on this machine, the stack `make serve` runs."""
    parts = _plain_url(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK_HOSTS:
        raise OperatorError(
            f"--webhook-url {_shown(url)}: with --local, only a webhook on this machine "
            "(http://127.0.0.1:PORT/... or http://localhost:PORT/...)"
        )
    return urlunsplit(parts)


def _plain_url(url: str) -> SplitResult:
    """The URL's parts, refusing what would make the checked host differ from the one contacted."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise OperatorError(f"--webhook-url {_shown(url)} has an invalid port") from None
    if parts.username is not None or parts.query or parts.fragment:
        raise OperatorError(
            f"--webhook-url {_shown(url)}: give the webhook's URL alone, without user, query or fragment "
            "(the token is added)"
        )
    return parts


def _shown(url: str) -> str:
    return " ".join(url.split())  # the one-line error stays one line


def entries(target: HeldTarget) -> list[dict[str, Any]]:
    """Every entry, oldest first. A Scan: the held bodies are what we did not expect from Zenoti, a small table."""
    request: dict[str, Any] = {"TableName": target.table_name}
    found: list[dict[str, Any]] = []
    while True:
        page = target.dynamodb.scan(**request)
        found += [_plain_entry(item) for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(found, key=lambda entry: (entry.get("first_seen", ""), entry["body_sha256"]))


def print_entries(found: list[dict[str, Any]], out: TextIO, as_jsonl: bool) -> None:
    if as_jsonl:
        for entry in found:
            print(json.dumps(entry), file=out)
        return
    rows = [COLUMNS, *([str(entry.get(column, "-")) for column in COLUMNS] for entry in found)]
    widths = [max(len(row[index]) for row in rows) for index in range(len(COLUMNS))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(), file=out)
    still = sum(1 for entry in found if entry.get("state") in STATES_HELD)
    print(f"({len(found)} bod{'y' if len(found) == 1 else 'ies'}, {still} still held)", file=out)


def show(target: HeldTarget, body_sha256: str, out: TextIO) -> int:
    """One entry: why it is held, when, how often, the request's header names, and the body as it came."""
    entry = _plain_entry(_entry(target, body_sha256))
    body = entry.pop("body")
    for name in ("body_sha256", "state", "reason", "message", "event_id", "deliveries", "first_seen",
                 "first_request_id", "last_seen", "last_request_id", "body_bytes"):  # fmt: skip
        if name in entry:
            print(f"{name + ':':18}{entry[name]}", file=out)
    names = entry.get("header_names")
    print(f"{'header_names:':18}{' '.join(names) if names else '(not recorded)'}", file=out)
    for error in entry.get("errors") or []:
        print(f"{'error:':18}{error['field']}: {error['message']} ({error['type']})", file=out)
    # What a sender sent, to a terminal: control characters (but newline and tab) shown escaped.
    print("body:\n" + "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in body), file=out)
    return EXIT_DONE


def redrive(target: HeldTarget, body_sha256: str, out: TextIO) -> int:
    """POST the held body to the webhook, as Zenoti would; mark the entry re-driven once it is stored as an event."""
    item = _entry(target, body_sha256)
    if target.webhook_url is None or target.token is None:
        raise OperatorError("no webhook URL and token to re-drive through")
    body = held_body(item)
    # Signed as Zenoti is said to sign, so that a stack enforcing signatures takes it (docs/security.md).
    signature = expected_signature(body, target.signing_secret) if target.signing_secret else None
    status, answer = _post(f"{target.webhook_url}?{urlencode({'token': target.token})}", body, signature)
    print(f"HTTP {status}: {json.dumps(answer)}", file=out)
    if status >= 500:
        raise OperatorError(f"the receiver answered {status}; the entry stays held, try again later")
    if status >= 300:
        print("Refused: the entry stays held.", file=out)
        return EXIT_NOT_ACCEPTED
    if answer.get("status") == "held" or answer.get("reason") == "conflicting_duplicate":
        # The receiver held it again, for the reason it gives: the cause is not fixed yet.
        print(f"Still held ({answer.get('reason')}): the entry stays held (its delivery count went up).", file=out)
        return EXIT_NOT_ACCEPTED
    target.dynamodb.update_item(
        TableName=target.table_name,
        Key={"body_sha256": {"S": body_sha256}},
        UpdateExpression="SET #state = :redriven, redriven_at = :now, redrive_answer = :answer",
        ExpressionAttributeNames={"#state": "state"},
        ExpressionAttributeValues={
            ":redriven": {"S": "redriven"},
            ":now": {"S": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")},
            ":answer": {"S": json.dumps(answer)},
        },
    )
    # accepted: stored and published now; duplicate: the same body was stored already (an earlier re-drive).
    print(f"Stored ({answer.get('status')}): entry {body_sha256} marked redriven.", file=out)
    return EXIT_DONE


def _entry(target: HeldTarget, body_sha256: str) -> dict[str, Any]:
    item = target.dynamodb.get_item(
        TableName=target.table_name, Key={"body_sha256": {"S": body_sha256}}, ConsistentRead=True
    ).get("Item")
    if item is None:
        raise OperatorError(f"no held body {body_sha256} in table {target.table_name}")
    return item  # type: ignore[no-any-return]


def _post(url: str, body: bytes, signature: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"content-type": "application/json"} | ({SIGNATURE_HEADER: signature} if signature else {})
    request = Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with urlopen(request, timeout=15) as response:  # noqa: S310 - a URL checked above
            return response.status, _answer(response.read())
    except HTTPError as error:
        return error.code, _answer(error.read())
    except URLError as error:
        raise OperatorError(f"cannot reach the webhook {url.split('?')[0]}: {error.reason}") from None


def _answer(body: bytes) -> dict[str, Any]:
    """The receiver answers JSON; whatever stands in front of it (a gateway, a WAF) may not."""
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return {"not_json": body[:200].decode("utf-8", errors="replace")}
    return answer if isinstance(answer, dict) else {"answer": answer}


def _plain_entry(item: dict[str, Any]) -> dict[str, Any]:
    entry = plain_held(item)
    # Shown as text (the body may not be UTF-8: undecodable bytes become U+FFFD), errors as JSON.
    entry["body"] = entry["body"].decode("utf-8", errors="replace")
    if "errors" in entry:
        entry["errors"] = json.loads(entry["errors"])
    return entry
