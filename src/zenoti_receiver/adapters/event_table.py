"""The DynamoDB table that keeps exactly one item per event_id; its stream is the outbox the publisher reads."""

# A delivery of a stored event_id is refused by the conditional put, which returns the stored item: its
# body_sha256 tells a redelivery from a conflicting duplicate. A refused put writes nothing, so the stream
# carries each event_id once. Write units are what an event costs most (docs/design.md#cost-write-units):
# the body is stored compressed, so the sample's item stays under 1 KB, and each index projects only keys.

import base64
import hashlib
import time
import zlib
from typing import Any

from zenoti_receiver.adapters.aws import unavailable_on_failure
from zenoti_receiver.clock import utc_text
from zenoti_receiver.logic.authentication import TokenUsed
from zenoti_receiver.logic.ports import AlreadyStored, ReceivedEvent, StoredEvent

DEPENDENCY = "events_table"
# The item's attributes that are the message attributes subscribers filter on (ReceivedEvent.attributes).
MESSAGE_ATTRIBUTES = ("event_type", "event_resource", "center_id")
TOKEN_USED = "token_used"  # noqa: S105 - an attribute name, not a token


class EventTable:
    """With `retention_days` (0: kept for ever), an event expires (DynamoDB's TTL) that long after it is stored."""

    def __init__(self, table_name: str, dynamodb: Any, retention_days: int) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb
        self._conflict = self._dynamodb.exceptions.ConditionalCheckFailedException
        self._retention_seconds = retention_days * 86_400

    def store_once(self, received: ReceivedEvent) -> AlreadyStored | None:
        item = _item(received)
        if self._retention_seconds:
            item["expires_at"] = {"N": str(int(time.time()) + self._retention_seconds)}
        with unavailable_on_failure("storing the event", DEPENDENCY):
            try:
                self._dynamodb.put_item(
                    TableName=self._table_name,
                    Item=item,
                    ConditionExpression="attribute_not_exists(event_id)",
                    # The stored item comes back with the refusal: one call answers a duplicate.
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except self._conflict as conflict:
                return AlreadyStored(body_sha256=_body_sha256(conflict.response.get("Item", {})))
        return None


def compressed(payload: str | bytes) -> bytes:
    """The body (text, stored as UTF-8, or bytes as they are) as zlib data."""
    # A 4 KiB window and little memory (wbits 12, memLevel 2): zlib's defaults set up 256 KiB for a body of a
    # few hundred bytes, which costs more time than the body and saves only a few bytes.
    compressor = zlib.compressobj(6, zlib.DEFLATED, 12, 2)
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    return compressor.compress(data) + compressor.flush()


def stored_payload(item: dict[str, Any]) -> str:
    """The body as Zenoti sent it, from an item as GetItem gives it or as the stream carries it (base64)."""
    data = item["payload_zlib"]["B"]
    return zlib.decompress(base64.b64decode(data) if isinstance(data, str) else data).decode("utf-8")


def stored_event(item: dict[str, Any]) -> StoredEvent:
    """The event an item holds, as its message is published: from the table, or from a stream record's NewImage."""
    return StoredEvent(
        event_id=item["event_id"]["S"],
        payload=stored_payload(item),
        attributes={name: item[name]["S"] for name in MESSAGE_ATTRIBUTES if name in item},
    )


# The attribute of the person an event concerns, by kind (models/envelope.py Person): each the key of
# its own sparse index (by_guest, by_employee), so an event costs a write in the one index it is in.
PERSON_ATTRIBUTES = {"guest": "guest_id", "employee": "employee_id"}


def _item(received: ReceivedEvent) -> dict[str, Any]:
    event = received.event
    item: dict[str, Any] = {
        "event_id": {"S": event.event_id},
        # Fixed-width UTC, so the indexes sort by time: the sort key of by_center, by_guest and by_employee.
        "occurred_at": {"S": utc_text(event.occurred_at)},
        **{name: {"S": value} for name, value in received.attributes.items()},
        "resource_id": {"S": event.resource_id},
        # Byte for byte once decompressed (zlib.decompress reads it as any zlib stream).
        "payload_zlib": {"B": compressed(received.payload)},
        "body_sha256": {"S": received.body_sha256},
        "header_names": {"L": [{"S": name} for name in received.header_names]},
        "received_at": {"S": received.received_at},
        "request_id": {"S": received.request_id},
        **token_attributes(received.token),
    }
    if (person := event.person) is not None:
        item[PERSON_ATTRIBUTES[person.kind]] = {"S": person.id}
    if received.signature != "unchecked":  # only where a signing secret is configured: no bytes otherwise
        item["signature"] = {"S": received.signature}
    return item


def token_attributes(token: TokenUsed | None) -> dict[str, Any]:
    """Which token authenticated a body, `token_used`: "<slot>:<secret version id>" ("current:3f2a...")."""
    # One attribute, not two: it keeps a conflicting duplicate's held entry within one write unit.
    return {} if token is None else {TOKEN_USED: {"S": f"{token.slot}:{token.version_id}"}}


def _body_sha256(item: dict[str, Any]) -> str | None:
    """The stored body's hash, as stored; from the body itself for an item that lacks it (written by hand)."""
    if "body_sha256" in item:
        return str(item["body_sha256"]["S"])
    if "payload_zlib" not in item:
        return None
    return hashlib.sha256(stored_payload(item).encode("utf-8")).hexdigest()
