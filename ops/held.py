"""Held bodies (authenticated, not events we store): list, show, re-drive, dismiss, purge, and promote one."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any, TextIO
from urllib.error import HTTPError, URLError
from urllib.parse import SplitResult, urlencode, urlsplit, urlunsplit
from urllib.request import Request, urlopen

from botocore.exceptions import ClientError

from ops.errors import EXIT_DONE, EXIT_NOT_ACCEPTED, OperatorError
from ops.items import Condition, every_item, filtered, plain_held, plain_item, setting
from ops.local import LOCAL_TOKEN, LOCAL_WEBHOOK
from ops.lookup import print_aligned
from ops.target import HELD_OUTPUT, SECRET_OUTPUT, TABLE_OUTPUT, WEBHOOK_OUTPUT, TargetOptions, resolve_deployment
from zenoti_receiver.adapters.event_table import TOKEN_USED
from zenoti_receiver.adapters.held_bodies import HELD, held_body
from zenoti_receiver.clock import iso_utc
from zenoti_receiver.logic.signature import SIGNATURE_HEADER, expected_signature

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
COLUMNS = ("id", "state", "reason", "why", "event_type", "deliveries", "first_seen", "token_used", "event_id")
# What a listing reads of each entry: never the body, which is most of an entry's size.
LISTED = (
    "body_sha256", "#state", "reason", "errors", "event_type", "deliveries", "first_seen", "last_seen",
    "body_bytes", "event_id", TOKEN_USED, "body_truncated", "message", "header_names",
)  # fmt: skip
SHOWN_ID = 12  # hex characters of body_sha256 a listing shows: what `show`, `redrive`, `dismiss` take
DEFAULT_PAGE = 50
Window = tuple[str | None, str | None]  # [since, until), as the tables write times; None: open
# The alarm of each reason (template.yaml): dismissing the last held entry of a reason sets its alarm to OK.
ALARM_OF_REASON = {
    "invalid_event": "HeldBodiesAlarm", "malformed_body": "HeldMalformedBodiesAlarm",
    "undeliverable": "HeldUndeliverableBodiesAlarm", "conflicting_duplicate": "ConflictingDuplicatesAlarm",
}  # fmt: skip


@dataclass(frozen=True)
class HeldTarget:
    table_name: str
    dynamodb: Any
    webhook_url: str | None = None
    token: str | None = None
    previous_token: str | None = None  # during a rotation
    # The token of a past version of the secret, by slot and version id (None when it cannot be read).
    token_of: Callable[[str, str], str | None] | None = None
    alarms: dict[str, str] | None = None  # logical id -> alarm name, of a deployed stack
    cloudwatch: Any = None
    signing_secret: str | None = field(default=None, repr=False)  # the token secret's, when it has one
    events_table: str = ""  # promote's, forensics' and smoke's
    parameters: Mapping[str, str] = field(default_factory=dict)  # the stack's (its retention, for promote)


def resolve(
    options: TargetOptions, webhook_url: str | None, *, webhook: bool, alarms: bool = False, events: bool = False
) -> HeldTarget:
    """The held bodies' table, the events table if needed (promote, forensics, smoke), and for a delivery the webhook
    URL and token: from the stack, or `make serve`'s."""
    given: dict[str, str | None] = {HELD_OUTPUT: options.table} | ({TABLE_OUTPUT: None} if events else {})
    if webhook and not options.local:
        given |= {WEBHOOK_OUTPUT: None, SECRET_OUTPUT: None}  # the stack's own, never one given
    deployment = resolve_deployment(options, given)
    names = deployment.names
    dynamodb, events_table = deployment.client("dynamodb"), names.get(TABLE_OUTPUT, "")
    target = HeldTarget(names[HELD_OUTPUT], dynamodb, events_table=events_table, parameters=deployment.parameters)
    if alarms and not options.local and options.table is None:
        return replace(target, alarms=deployment.alarm_names(), cloudwatch=deployment.client("cloudwatch"))
    if not webhook:
        return target
    if options.local:
        return replace(target, webhook_url=local_webhook_url(webhook_url or LOCAL_WEBHOOK), token=LOCAL_TOKEN)
    # Checked before the token is even read: it goes to the stack's own webhook, or nowhere.
    stack_url = names[WEBHOOK_OUTPUT]
    url = stack_webhook_url(webhook_url or stack_url, stack_url, deployment.webhook_hosts(), options.stack_name)
    secretsmanager, secret_id = deployment.client("secretsmanager"), names[SECRET_OUTPUT]
    value = json.loads(secretsmanager.get_secret_value(SecretId=secret_id)["SecretString"])

    def token_of(slot: str, version_id: str) -> str | None:
        try:
            past = json.loads(secretsmanager.get_secret_value(SecretId=secret_id, VersionId=version_id)["SecretString"])
        except (ClientError, ValueError):
            return None  # a version Secrets Manager no longer keeps, or not ours
        found = past.get("token" if slot == "current" else "previous_token") if isinstance(past, dict) else None
        return found if isinstance(found, str) and found else None

    target = replace(target, webhook_url=url, token=value["token"], previous_token=value.get("previous_token") or None)
    return replace(target, token_of=token_of, signing_secret=value.get("signing_secret"))


def stack_webhook_url(url: str, stack_url: str, api_hosts: frozenset[str], stack_name: str) -> str:
    """The stack's own WebhookUrl, if on an API the stack created (`api_hosts`): the one URL the token is sent to."""
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


def brought(window: Window, tokens: tuple[str, ...], at: str = "first_seen") -> list[Condition]:
    """Entries first held in the window [since, until) (events: at received_at), that any of these tokens brought."""
    return [(at, ">=", window[0]), (at, "<", window[1]), (TOKEN_USED, "IN", tokens)]


def entries(
    target: HeldTarget, limit: int | None = DEFAULT_PAGE, after: str | None = None, conditions: Iterable[Condition] = ()
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of `limit` entries (None: all) without their bodies, and the id to read on after: a Scan billed for the
    whole entries it reads (1 read unit per 8 KB), not the table's."""
    listing = {"TableName": target.table_name, "ProjectionExpression": ", ".join(LISTED)}
    request = filtered({**listing, "ExpressionAttributeNames": {"#state": "state"}}, conditions)
    if limit is not None:
        # Items a Scan request reads, before the filter: never fewer than a page, or an existence check
        # (dismiss asks for one entry) would send one request per entry of the table.
        request["Limit"] = max(limit, DEFAULT_PAGE)
    if after:
        request["ExclusiveStartKey"] = {"body_sha256": {"S": after}}
    # A filter may leave a Scan's page short: read on until the page is full or the table ends.
    found = [_plain(item) for item in islice(every_item(target.dynamodb.scan, request), limit)]
    last = found[-1]["body_sha256"] if limit is not None and len(found) == limit else None
    found.sort(key=lambda entry: (entry.get("first_seen", ""), entry["body_sha256"]))
    return found, last


def main_reason(entry: dict[str, Any]) -> str:
    """Why an entry is held, in a few words: the one cause an operator acts on, not every field error."""
    errors = entry.get("errors") or []
    if entry.get("reason") == "invalid_event":
        if any(error["field"] in ("event_type", "event_resource") for error in errors):
            return "wrong type"
        if errors:
            more = f" (+{len(errors) - 1})" if len(errors) > 1 else ""
            return f"{errors[0]['field']}: {errors[0]['type']}{more}"
    if entry.get("reason") == "conflicting_duplicate":
        return "another body stored first"
    if entry.get("body_truncated"):
        return "not JSON (first 64 KiB kept)"
    return str(entry.get("message", entry.get("reason", ""))).removeprefix("body ")[:40]


def print_entries(found: list[dict[str, Any]], next_after: str | None, out: TextIO, as_jsonl: bool) -> None:
    if as_jsonl:
        for entry in found:
            print(json.dumps(entry), file=out)
        return
    cells = [{**entry, "id": entry["body_sha256"][:SHOWN_ID], "why": main_reason(entry)} for entry in found]
    print_aligned([COLUMNS, *([str(entry.get(column, "-")) for column in COLUMNS] for entry in cells)], out)
    still = sum(1 for entry in found if entry.get("state") == HELD)
    print(f"({len(found)} bod{'y' if len(found) == 1 else 'ies'}, {still} still held)", file=out)
    if next_after:
        print(f"More: --after {next_after}", file=out)


def show(target: HeldTarget, body_sha256: str, out: TextIO) -> int:
    """One entry: why it is held, when, how often, the request's header names, and the body as it came."""
    entry = _plain(entry_of(target, body_sha256))
    # Shown as text: undecodable bytes become U+FFFD, control characters (but newline and tab) escaped.
    body = entry.pop("body").decode("utf-8", errors="replace")
    entry["why"] = main_reason(entry)
    for name in ("body_sha256", "state", "reason", "why", "message", "event_type", "event_id", "deliveries",
                 "first_seen", "first_request_id", "last_seen", "last_request_id", "body_bytes", TOKEN_USED,
                 "body_truncated"):  # fmt: skip
        if name in entry:
            print(f"{name + ':':18}{entry[name]}", file=out)
    names = entry.get("header_names")
    print(f"{'header_names:':18}{' '.join(names) if names else '(not recorded)'}", file=out)
    for error in entry.get("errors") or []:
        print(f"{'error:':18}{error['field']}: {error['message']} ({error['type']})", file=out)
    print("body:\n" + "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in body), file=out)
    return EXIT_DONE


def redrive(target: HeldTarget, body_sha256: str, out: TextIO, slot: str | None = None) -> int:
    """POST the held body to the webhook, as Zenoti would; mark the entry re-driven once it is stored as an event."""
    item = entry_of(target, body_sha256)
    key = item["body_sha256"]["S"]
    if item.get("body_truncated", {}).get("BOOL"):
        raise OperatorError(f"entry {key} keeps only the first 64 KiB of a body that is not JSON: nothing to re-drive")
    token = _redrive_token(target, key, item.get(TOKEN_USED, {}).get("S", ""), slot)
    status, answer = deliver(target, held_body(item), token)
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
    set_state(target, key, "redriven", {"redrive_answer": {"S": json.dumps(answer)}})
    # accepted: stored and published now; duplicate: the same body was stored already (an earlier re-drive).
    print(f"Stored ({answer.get('status')}): entry {key} marked redriven.", file=out)
    return EXIT_DONE


def _redrive_token(target: HeldTarget, key: str, token_used: str, chosen: str | None) -> str | None:
    """The token the operator chose, or the one the body came with if the secret still accepts it (a token rotated
    away may have leaked: its bodies are not re-driven with the new one unless the operator says so)."""
    accepted = {"current": target.token, "previous": target.previous_token}
    if chosen is not None:
        if accepted[chosen] is None:
            raise OperatorError("the secret has no previous_token any more: re-drive with --with-token current")
        return str(accepted[chosen])
    slot, _, version = token_used.partition(":")
    if slot not in accepted or target.token_of is None or not version:
        return None  # the secret's token: recorded before tokens were, or the local stack's one token
    came_with = target.token_of(slot, version)
    if came_with is not None and came_with in accepted.values():
        return came_with
    raise OperatorError(
        f"entry {key} came with a token the secret no longer accepts ({token_used}): if it may have leaked, "
        "purge what it brought (ops forensics); to re-drive this body anyway, say with which token: "
        "--with-token current (or previous, during a rotation)"
    )


def entry_of(target: HeldTarget, body_sha256: str) -> dict[str, Any]:
    """The entry whose body_sha256 is, or starts with, what the operator typed (as `held list` shows it)."""
    wanted = body_sha256.strip().lower()
    if len(wanted) < 64:  # a Scan of the keys alone: an operator's command, not a hot path
        if len(wanted) < 6 or any(c not in "0123456789abcdef" for c in wanted):
            raise OperatorError(f"{wanted!r} is not a held body's id: give at least its first 6 hex characters")
        request = {
            "TableName": target.table_name,
            "ProjectionExpression": "body_sha256",
            "FilterExpression": "begins_with(body_sha256, :prefix)",
            "ExpressionAttributeValues": {":prefix": {"S": wanted}},
        }
        found = [item["body_sha256"]["S"] for item in islice(every_item(target.dynamodb.scan, request), 2)]
        if len(found) > 1:
            raise OperatorError(f"{wanted} is the start of more than one held body's id: give more of it")
        wanted = found[0] if found else wanted
    key = {"body_sha256": {"S": wanted}}
    item = target.dynamodb.get_item(TableName=target.table_name, Key=key, ConsistentRead=True).get("Item")
    if item is None:
        raise OperatorError(f"no held body {body_sha256} in table {target.table_name}")
    return item  # type: ignore[no-any-return]


def deliver(target: HeldTarget, body: bytes, token: str | None = None) -> tuple[int, dict[str, Any]]:
    """POST a body to the webhook as Zenoti does, with the token (the secret's, unless given) in the query string,
    signed where the stack has a signing secret (docs/security.md); the status and the answer."""
    signature = expected_signature(body, target.signing_secret) if target.signing_secret else None
    return _post(f"{target.webhook_url}?{urlencode({'token': token or target.token})}", body, signature)


def dismiss(target: HeldTarget, body_sha256: str, note: str, out: TextIO) -> int:
    """Mark an entry that needs no action (a test delivery, a type the business does not want) dismissed. When no
    entry of its reason is still held, that reason's alarm is set to OK, so that the next body held notifies again."""
    item = entry_of(target, body_sha256)
    key, reason = item["body_sha256"]["S"], item.get("reason", {}).get("S", "")
    set_state(target, key, "dismissed", {"dismissed_note": {"S": note}} if note else {})
    print(f"Dismissed: entry {key} ({reason}).", file=out)
    logical_id = ALARM_OF_REASON.get(reason)
    alarms = target.alarms or {}
    if logical_id not in alarms:
        return EXIT_DONE
    if entries(target, limit=1, conditions=[("state", "=", HELD), ("reason", "=", reason)])[0]:
        print(f"{logical_id} stays as it is: other entries held for {reason} need action.", file=out)
        return EXIT_DONE
    why = f"No entry held for {reason} needs action (ops held dismiss)"
    target.cloudwatch.set_alarm_state(AlarmName=alarms[logical_id], StateValue="OK", StateReason=why)
    print(f"{logical_id} set to OK: the next body held for {reason} notifies again.", file=out)
    return EXIT_DONE


def purge(target: HeldTarget, conditions: Iterable[Condition], dry_run: bool, out: TextIO) -> int:
    """Delete the entries the conditions select: a Scan of the keys, billed for every whole entry of the table
    (a flood of 10,000 junk bodies of 64 KiB is some 80,000 read units, a few cents), then a write unit each."""
    request = filtered({"TableName": target.table_name, "ProjectionExpression": "body_sha256"}, conditions)
    keys = [{"body_sha256": item["body_sha256"]} for item in every_item(target.dynamodb.scan, request)]
    bodies = f"{len(keys)} held bod{'y' if len(keys) == 1 else 'ies'}"
    if dry_run:
        print(f"Would purge {bodies} (dry run).", file=out)
        return EXIT_DONE
    for start in range(0, len(keys), 25):  # BatchWriteItem's limit
        unprocessed = {target.table_name: [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]}
        while unprocessed:
            unprocessed = target.dynamodb.batch_write_item(RequestItems=unprocessed).get("UnprocessedItems")
    print(f"Purged {bodies}.", file=out)
    return EXIT_DONE


def set_state(target: HeldTarget, key: str, state: str, more: dict[str, Any]) -> None:
    """The entry's state, when it changed (`<state>_at`), and the attributes in `more`."""
    changes = {"state": {"S": state}, f"{state}_at": {"S": iso_utc(time.time())}, **more}
    target.dynamodb.update_item(TableName=target.table_name, Key={"body_sha256": {"S": key}}, **setting(changes))


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


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """An entry as plain values (its body, if read, as bytes), errors as JSON."""
    entry = plain_held(item) if "body_zlib" in item else plain_item(item)
    if "errors" in entry:
        entry["errors"] = json.loads(entry["errors"])
    return entry
