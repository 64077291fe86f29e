"""The DynamoDB table holding authenticated bodies that are not events we store and publish, one item per body.

An entry (key `body_sha256`, the hash of the body's bytes as received) keeps the body zlib-compressed
in `body_zlib`, why it is held (`reason`, `message`, `errors`), the type the body says it is
(`event_type`), which token authenticated it (`token_used`: slot and the secret's version id), the request's header
names (never their values), when and by which requests it came first and last, how many times, and its
`state`: `held` until an operator re-drives it (`redriven`), promotes it (`promoted`) or dismisses it
(`dismissed`).

The table is a sink anyone holding the token can write to, so an entry is bounded: a body that is not
even JSON keeps only its first 64 KiB (`body_truncated`; `body_bytes` and the key are the whole body's),
and its expiry is set by its first delivery, never renewed by a repeat. The table's write ceiling
(template.yaml, HeldBodiesTable) bounds the rate.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from typing import Any

from zenoti_receiver.adapters.aws import client, unavailable_on_failure
from zenoti_receiver.adapters.event_table import compressed, token_attributes
from zenoti_receiver.logic.ports import HeldDelivery

DEPENDENCY = "held_bodies_table"
HELD = "held"
STATES_HELD = frozenset({HELD})
# What is kept of a body that is not JSON: enough to see what it is, not a 255 KiB sink of junk.
KEPT_BYTES_NOT_JSON = 64 * 1024


class HeldBodiesTable:
    """`retention_days` after its last delivery, DynamoDB's TTL removes an entry (expires_at)."""

    def __init__(self, table_name: str, dynamodb: Any = None, retention_days: int = 30) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb or client("dynamodb")
        self._retention_seconds = retention_days * 86_400

    def keep(self, held: HeldDelivery) -> None:
        # Keyed by the body's hash: Zenoti's retries of one body make one entry, counted. Each delivery
        # held makes it held again, even one re-driven or dismissed before (the cause came back).
        kept, truncated = _kept_bytes(held)
        names = {
            "#body": "body_zlib",
            "#size": "body_bytes",
            "#first_seen": "first_seen",
            "#first_request": "first_request_id",
            "#last_seen": "last_seen",
            "#last_request": "last_request_id",
            "#reason": "reason",
            "#message": "message",
            "#headers": "header_names",
            "#state": "state",
            "#deliveries": "deliveries",
            "#expires": "expires_at",
        }
        values = {
            # Binary: the body may not even be UTF-8.
            ":body": {"B": compressed(kept)},
            ":size": {"N": str(len(held.body))},
            ":now": {"S": held.received_at},
            ":request": {"S": held.request_id},
            ":reason": {"S": held.reason},
            ":message": {"S": held.message},
            ":headers": {"L": [{"S": name} for name in held.header_names]},
            ":held": {"S": HELD},
            ":one": {"N": "1"},
            ":expires": {"N": str(int(time.time()) + self._retention_seconds)},
        }
        update = (
            "SET #body = if_not_exists(#body, :body), #size = :size,"
            " #first_seen = if_not_exists(#first_seen, :now),"
            " #first_request = if_not_exists(#first_request, :request),"
            " #last_seen = :now, #last_request = :request,"
            " #reason = :reason, #message = :message, #headers = :headers,"
            " #state = :held, #expires = if_not_exists(#expires, :expires)"
        )
        optional = {
            "event_id": {"S": held.event_id} if held.event_id is not None else None,
            "event_type": {"S": held.event_type} if held.event_type is not None else None,
            "body_truncated": {"BOOL": True} if truncated else None,
            # Only when there are some: a write unit is 1 KB, and a conflicting duplicate's entry is close to it.
            "errors": {"S": json.dumps(held.errors)} if held.errors else None,
            # The last delivery's, where a signing secret is configured.
            "signature": {"S": held.signature} if held.signature != "unchecked" else None,
            **token_attributes(held.token),
        }
        for name, value in optional.items():
            if value is not None:
                names[f"#{name}"] = name
                values[f":{name}"] = value
                update += f", #{name} = :{name}"
        request = {
            "TableName": self._table_name,
            "Key": {"body_sha256": {"S": hashlib.sha256(held.body).hexdigest()}},
            "UpdateExpression": update + " ADD #deliveries :one",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        with unavailable_on_failure("holding the body", DEPENDENCY):
            self._dynamodb.update_item(**request)


def held_body(item: dict[str, Any]) -> bytes:
    """The body as received (its first KEPT_BYTES_NOT_JSON only, if `body_truncated`)."""
    return zlib.decompress(item["body_zlib"]["B"])


def _kept_bytes(held: HeldDelivery) -> tuple[bytes, bool]:
    """What is kept of the body, and whether it is cut: only a body that is no JSON at all is cut."""
    if len(held.body) <= KEPT_BYTES_NOT_JSON or held.reason != "malformed_body":
        return held.body, False
    try:
        json.loads(held.body)
    except (ValueError, RecursionError):
        return held.body[:KEPT_BYTES_NOT_JSON], True
    return held.body, False  # JSON that JSON parsers read differently: kept whole, it may be re-driven
