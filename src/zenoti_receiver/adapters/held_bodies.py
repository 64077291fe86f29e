"""The DynamoDB table holding authenticated bodies that are not events we store and publish, one item per body:
keyed by the body's hash, `held` until an operator re-drives, promotes or dismisses it (its `state`)."""

# Anyone holding the token can write here, so an entry is bounded: a body that is not even JSON keeps only
# its first 64 KiB (body_truncated), its expiry is set by its first delivery, and the table's write ceiling
# (template.yaml, HeldBodiesTable) bounds the rate.

import hashlib
import json
import time
import zlib
from typing import Any

from zenoti_receiver.adapters.aws import unavailable_on_failure
from zenoti_receiver.adapters.event_table import compressed, token_attributes
from zenoti_receiver.logic.ports import HeldDelivery

DEPENDENCY = "held_bodies_table"
HELD = "held"
# What is kept of a body that is not JSON: enough to see what it is, not a 255 KiB sink of junk.
KEPT_BYTES_NOT_JSON = 64 * 1024


class HeldBodiesTable:
    """`retention_days` after its first delivery (never renewed by a repeat), DynamoDB's TTL removes an entry."""

    def __init__(self, table_name: str, dynamodb: Any, retention_days: int) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb
        self._retention_seconds = retention_days * 86_400

    def keep(self, held: HeldDelivery) -> None:
        # Zenoti's retries of one body make one entry, counted. Each delivery held makes it held again, even
        # one re-driven or dismissed before (the cause came back). The body, first_* and the expiry: set once.
        kept, truncated = _kept_bytes(held)
        set_once = {
            "body_zlib": {"B": compressed(kept)},  # binary: the body may not even be UTF-8
            "first_seen": {"S": held.received_at},
            "first_request_id": {"S": held.request_id},
            "expires_at": {"N": str(int(time.time()) + self._retention_seconds)},
        }
        set_each_time = {
            "body_bytes": {"N": str(len(held.body))},
            "last_seen": {"S": held.received_at},
            "last_request_id": {"S": held.request_id},
            "reason": {"S": held.reason},
            "message": {"S": held.message},
            "header_names": {"L": [{"S": name} for name in held.header_names]},
            "state": {"S": HELD},
            # The rest only where they have a value.
            "event_id": {"S": held.event_id} if held.event_id is not None else None,
            "event_type": {"S": held.event_type} if held.event_type is not None else None,
            "body_truncated": {"BOOL": True} if truncated else None,
            # Only when there are some: a write unit is 1 KB, and a conflicting duplicate's entry is close to it.
            "errors": {"S": json.dumps(held.errors)} if held.errors else None,
            # The last delivery's, where a signing secret is configured.
            "signature": {"S": held.signature} if held.signature != "unchecked" else None,
            **token_attributes(held.token),
        }
        set_each_time = {name: value for name, value in set_each_time.items() if value is not None}
        assignments = [f"#{name} = if_not_exists(#{name}, :{name})" for name in set_once]
        assignments += [f"#{name} = :{name}" for name in set_each_time]
        values = {**set_once, **set_each_time, "deliveries": {"N": "1"}}
        request = {
            "TableName": self._table_name,
            "Key": {"body_sha256": {"S": hashlib.sha256(held.body).hexdigest()}},
            "UpdateExpression": f"SET {', '.join(assignments)} ADD #deliveries :deliveries",
            "ExpressionAttributeNames": {f"#{name}": name for name in values},
            "ExpressionAttributeValues": {f":{name}": value for name, value in values.items()},
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
