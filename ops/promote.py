"""Promote a held conflicting duplicate to the event of record, keeping the body it replaces held: one transaction holds
the planted body, then the stream publishes the promoted one once (docs/security.md#the-first-hour-after-a-leak)."""

from __future__ import annotations

import hashlib
import time
from typing import Any, TextIO

from ops.errors import EXIT_DONE, OperatorError
from ops.held import HeldTarget, entry_of, set_state
from ops.items import setting
from zenoti_receiver.adapters.event_table import TOKEN_USED, EventTable, compressed, stored_payload
from zenoti_receiver.adapters.held_bodies import HELD, held_body
from zenoti_receiver.clock import iso_utc
from zenoti_receiver.errors import BodyHeld
from zenoti_receiver.logic.authentication import TokenUsed
from zenoti_receiver.logic.parsing import parse_event
from zenoti_receiver.logic.ports import ReceivedEvent

PROMOTED = "promoted"


def promote(target: HeldTarget, body_sha256: str, out: TextIO) -> int:
    entry = entry_of(target, body_sha256)
    key = entry["body_sha256"]["S"]
    event_id = entry.get("event_id", {}).get("S")
    if entry.get("reason", {}).get("S") != "conflicting_duplicate" or event_id is None:
        raise OperatorError(f"entry {key} is not a conflicting duplicate: re-drive it instead (ops held redrive)")
    if entry.get("state", {}).get("S") != HELD:
        raise OperatorError(f"entry {key} is {entry['state']['S']}, not held: nothing to promote")
    received = _received(entry, held_body(entry))
    if received.event.event_id != event_id:
        raise OperatorError(f"entry {key}'s body is not event {event_id}")

    stored_item = {"TableName": target.events_table, "Key": {"event_id": {"S": event_id}}}
    planted = target.dynamodb.get_item(**stored_item, ConsistentRead=True).get("Item")
    planted_key = _planted_key(planted) if planted else ""
    if planted is not None:
        _replace(target, event_id, planted, planted_key, key)
    # Kept as long as the stack keeps any event, as the receiver would have stored it (EventRetentionDays).
    retention = int(target.parameters.get("EventRetentionDays", "0"))
    stored = EventTable(target.events_table, target.dynamodb, retention).store_once(received)
    # Stored in between by Zenoti's own redelivery of this very body: it is the event of record, published once.
    if stored is not None and stored.body_sha256 != received.body_sha256:
        raise OperatorError(
            f"event {event_id} was stored again between the two writes (body {stored.body_sha256}); "
            f"entry {key} stays held: look at it with ops lookup, then promote again"
        )
    set_state(target, key, PROMOTED, {"promoted_over": {"S": planted_key}})
    replaced = f", replacing body {planted_key} (now held)" if planted else ""
    print(f"Promoted: entry {key} is the event of record of {event_id}{replaced}.", file=out)
    print("The stream publishes it once, as the INSERT of its item.", file=out)
    return EXIT_DONE


def _received(entry: dict[str, Any], body: bytes) -> ReceivedEvent:
    """The held body as the receiver would have stored it, with the request and token it came with."""
    try:
        payload = body.decode("utf-8").removeprefix("\ufeff")
        event = parse_event(payload)
    except (UnicodeDecodeError, BodyHeld) as error:
        raise OperatorError(f"the held body is not an event the receiver stores: {error}") from None
    slot, _, version = entry.get(TOKEN_USED, {}).get("S", "current:").partition(":")
    return ReceivedEvent(
        event=event,
        payload=payload,
        request_id=entry.get("first_request_id", {}).get("S", "ops-promote"),
        received_at=entry.get("first_seen", {}).get("S", iso_utc(time.time())),
        header_names=tuple(name["S"] for name in entry.get("header_names", {}).get("L", [])),
        token=TokenUsed("previous" if slot == "previous" else "current", version),
    )


def _replace(target: HeldTarget, event_id: str, planted: dict[str, Any], planted_key: str, promoted: str) -> None:
    """Delete the planted item, if unchanged, and hold its body: one transaction, so it is never lost."""
    body = stored_payload(planted).encode("utf-8")
    # Unless the item changed since it was read: then nothing is deleted, and the operator looks again.
    unchanged: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(body_sha256)"}
    if "body_sha256" in planted:
        same = {":planted": planted["body_sha256"]}
        unchanged = {"ConditionExpression": "body_sha256 = :planted", "ExpressionAttributeValues": same}
    first = {"S": planted.get("received_at", {}).get("S", iso_utc(time.time()))}
    request = {"S": planted.get("request_id", {}).get("S", "")}
    held = {
        "body_zlib": {"B": compressed(body)},
        "body_bytes": {"N": str(len(body))},
        "first_seen": first,
        "last_seen": first,
        "first_request_id": request,
        "last_request_id": request,
        "reason": {"S": "conflicting_duplicate"},
        "message": {"S": f"was the event of record of {event_id} until entry {promoted} was promoted over it"},
        "state": {"S": HELD},
        "event_id": {"S": event_id},
        "deliveries": {"N": "1"},
    } | {name: planted[name] for name in ("event_type", TOKEN_USED, "header_names") if name in planted}
    # Bounded like every held entry (HeldRetentionDays after it was held).
    if days := int(target.parameters.get("HeldRetentionDays", "0")):
        held["expires_at"] = {"N": str(int(time.time()) + days * 86_400)}
    delete = {"TableName": target.events_table, "Key": {"event_id": {"S": event_id}}, **unchanged}
    hold = {"TableName": target.table_name, "Key": {"body_sha256": {"S": planted_key}}, **setting(held)}
    target.dynamodb.transact_write_items(TransactItems=[{"Delete": delete}, {"Update": hold}])


def _planted_key(planted: dict[str, Any]) -> str:
    """The planted body's key in the held bodies' table: the hash of its bytes, as the receiver keys it."""
    return hashlib.sha256(stored_payload(planted).encode("utf-8")).hexdigest()
