"""The DynamoDB table holding authenticated bodies that are not events we store and publish, one item per body.

An entry (key `body_sha256`, the hash of the body's bytes as received) keeps the body zlib-compressed
in `body_zlib`, why it is held (`reason`, `message`, `errors`), the request's header names (never
their values), when and by which requests it came first and last, how many times, and its `state`:
`held` until an operator re-drives it (`redriven`).
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from typing import Any

from zenoti_receiver.adapters.aws import client, unavailable_on_failure
from zenoti_receiver.adapters.event_table import compressed
from zenoti_receiver.logic.ports import HeldDelivery

DEPENDENCY = "held_bodies_table"
HELD = "held"
STATES_HELD = frozenset({HELD})


class HeldBodiesTable:
    """`retention_days` after its last delivery, DynamoDB's TTL removes an entry (expires_at)."""

    def __init__(self, table_name: str, dynamodb: Any = None, retention_days: int = 30) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb or client("dynamodb")
        self._retention_seconds = retention_days * 86_400

    def keep(self, held: HeldDelivery) -> None:
        # Keyed by the body's hash: Zenoti's retries of one body make one entry, counted. Each delivery
        # held makes it held again, even one re-driven before (the cause came back).
        names = {
            "#body": "body_zlib",
            "#size": "body_bytes",
            "#first_seen": "first_seen",
            "#first_request": "first_request_id",
            "#last_seen": "last_seen",
            "#last_request": "last_request_id",
            "#reason": "reason",
            "#message": "message",
            "#errors": "errors",
            "#headers": "header_names",
            "#state": "state",
            "#deliveries": "deliveries",
            "#expires": "expires_at",
        }
        values = {
            # Binary: the body may not even be UTF-8.
            ":body": {"B": compressed(held.body)},
            ":size": {"N": str(len(held.body))},
            ":now": {"S": held.received_at},
            ":request": {"S": held.request_id},
            ":reason": {"S": held.reason},
            ":message": {"S": held.message},
            ":errors": {"S": json.dumps(held.errors)},
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
            " #reason = :reason, #message = :message, #errors = :errors, #headers = :headers,"
            " #state = :held, #expires = :expires"
        )
        if held.event_id is not None:
            names["#event_id"] = "event_id"
            values[":event_id"] = {"S": held.event_id}
            update += ", #event_id = :event_id"
        if held.signature != "unchecked":  # the last delivery's, where a signing secret is configured
            names["#signature"] = "signature"
            values[":signature"] = {"S": held.signature}
            update += ", #signature = :signature"
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
    """The body as received."""
    return zlib.decompress(item["body_zlib"]["B"])
