"""The DynamoDB table that keeps exactly one item per event_id, and its index of events still to publish.

A delivery of a stored event_id is refused by the conditional put, which returns the stored item:
its `body_sha256` tells a redelivery (the same body) from a conflicting duplicate, at the cost of
that one failed write.

An item stays in the sparse `pending` index (it carries `pending_shard`) from the moment it is
stored until its publication is recorded; the scheduled publisher reads that index.

Write units are what an event costs most (docs/design.md#cost-write-units): the body is stored zlib-compressed
(`payload_zlib`), so the sample's item stays under 1 KB and each write of it costs one unit instead
of two, and every index projects only keys, so recording the publication rewrites no index entry
but the pending one it removes.
"""

from __future__ import annotations

import hashlib
import time
import zlib
from typing import Any

from zenoti_receiver.adapters.aws import client, unavailable_on_failure
from zenoti_receiver.logic.ports import Claim, PendingCensus, PendingEntry, ReceivedEvent, StoredEvent, StoredState

DEPENDENCY = "events_table"
PENDING_INDEX = "pending"
# An index partition takes about 1,000 writes a second, and each event writes its pending entry
# and removes it: spread over 4 shards, a burst of 2,000 events a second is not throttled.
PENDING_SHARDS = 4


class EventTable:
    """With `retention_days`, a published event expires (DynamoDB's TTL, expires_at) that long after
    its publication was recorded; an event still pending never expires."""

    def __init__(self, table_name: str, dynamodb: Any = None, retention_days: int = 0) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb or client("dynamodb")
        self._conflict = self._dynamodb.exceptions.ConditionalCheckFailedException
        self._retention_seconds = retention_days * 86_400

    def store_once(self, received: ReceivedEvent, claim: Claim) -> StoredState | None:
        item = _item(received, claim)
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
                return _stored_state(conflict.response.get("Item", {}))
        return None

    def take_over_claim(self, event_id: str, claim: Claim, now: int) -> bool:
        return self._take_over(event_id, claim, now) is not None

    def claim_pending(self, event_id: str, claim: Claim, now: int) -> StoredEvent | None:
        item = self._take_over(event_id, claim, now)
        if item is None:
            return None
        return StoredEvent(
            event_id=event_id,
            payload=stored_payload(item),
            request_id=item.get("request_id", {}).get("S", ""),
            received_at=item.get("received_at", {}).get("S", ""),
        )

    def _take_over(self, event_id: str, claim: Claim, now: int) -> dict[str, Any] | None:
        """Claim an unpublished event whose claim has expired; the item as it is now, or None."""
        with unavailable_on_failure("claiming the event", DEPENDENCY):
            try:
                answer = self._dynamodb.update_item(
                    TableName=self._table_name,
                    Key={"event_id": {"S": event_id}},
                    UpdateExpression="SET claim_id = :claim, claim_expires_at = :expires",
                    # Our own claim counts as taken: a botocore retry may repeat a write that landed.
                    ConditionExpression="published = :false AND (claim_expires_at < :now OR claim_id = :claim)",
                    ExpressionAttributeValues={
                        ":claim": {"S": claim.claim_id},
                        ":expires": {"N": str(claim.expires_at)},
                        ":now": {"N": str(now)},
                        ":false": {"BOOL": False},
                    },
                    ReturnValues="ALL_NEW",
                )
            except self._conflict:
                return None
        attributes: dict[str, Any] = answer.get("Attributes", {})
        return attributes

    def mark_published(self, event_id: str, message_id: str, published_at: str) -> None:
        values = {":true": {"BOOL": True}, ":at": {"S": published_at}, ":message": {"S": message_id}}
        expiry = ""
        if self._retention_seconds:
            values[":expires"] = {"N": str(int(time.time()) + self._retention_seconds)}
            expiry = ", expires_at = :expires"
        with unavailable_on_failure("recording the publication", DEPENDENCY):
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key={"event_id": {"S": event_id}},
                UpdateExpression="SET published = :true, published_at = :at, sns_message_id = :message"
                f"{expiry} REMOVE claim_id, claim_expires_at, pending_shard",
                ExpressionAttributeValues=values,
            )

    def oldest_pending(self, limit: int, received_before: str) -> list[PendingEntry]:
        """The oldest pending events across every shard, oldest first."""
        entries: list[PendingEntry] = []
        with unavailable_on_failure("reading the pending index", DEPENDENCY):
            for shard in range(PENDING_SHARDS):
                request = self._pending_query(shard, "received_at < :before", {":before": {"S": received_before}})
                for item in self._items(request, limit):
                    entries.append(PendingEntry(item["event_id"]["S"], item["received_at"]["S"]))
        return sorted(entries, key=lambda entry: (entry.received_at, entry.event_id))[:limit]

    def pending_census(self) -> PendingCensus:
        count, oldest = 0, None
        with unavailable_on_failure("counting the pending index", DEPENDENCY):
            for shard in range(PENDING_SHARDS):
                first = self._dynamodb.query(**self._pending_query(shard), Limit=1).get("Items", [])
                if not first:
                    continue
                received_at = first[0]["received_at"]["S"]
                oldest = received_at if oldest is None else min(oldest, received_at)
                request: dict[str, Any] = {**self._pending_query(shard), "Select": "COUNT"}
                while True:
                    page = self._dynamodb.query(**request)
                    count += page["Count"]
                    if "LastEvaluatedKey" not in page:
                        break
                    request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return PendingCensus(count, oldest)

    def _pending_query(
        self, shard: int, received: str | None = None, values: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        condition = "pending_shard = :shard" + (f" AND {received}" if received else "")
        return {
            "TableName": self._table_name,
            "IndexName": PENDING_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": {":shard": {"S": str(shard)}, **(values or {})},
            "ScanIndexForward": True,  # oldest first
        }

    def _items(self, request: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while len(items) < limit:
            page = self._dynamodb.query(**request, Limit=limit - len(items))
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                break
            request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}
        return items


def pending_shard(event_id: str) -> str:
    """The same shard for every write of one event, spread evenly over PENDING_SHARDS."""
    return str(zlib.crc32(event_id.encode()) % PENDING_SHARDS)


def compressed(payload: str | bytes) -> bytes:
    """The body (text, stored as UTF-8, or bytes as they are) as zlib data: the sample's 754 bytes take 386.

    A 4 KiB window and little memory (wbits 12, memLevel 2): zlib's defaults set up 256 KiB for a
    body of a few hundred bytes, which took four times as long (about 60 us against 14 here) for
    362 bytes instead of 386. Bodies are at most 255 KiB (logic/parsing.py, MAX_BODY_BYTES); one
    that does not compress at all grows by a few bytes per 16 KB.
    """
    compressor = zlib.compressobj(6, zlib.DEFLATED, 12, 2)
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    return compressor.compress(data) + compressor.flush()


def stored_payload(item: dict[str, Any]) -> str:
    """The body as Zenoti sent it, from an item of this version (compressed) or an earlier one (text)."""
    if "payload_zlib" in item:
        return zlib.decompress(item["payload_zlib"]["B"]).decode("utf-8")
    return str(item["payload"]["S"])


def _item(received: ReceivedEvent, claim: Claim) -> dict[str, Any]:
    event = received.event
    data = event.data
    return {
        "event_id": {"S": event.event_id},
        # Fixed-width UTC, so the indexes sort by time: the sort key of by_center and by_guest.
        # (isoformat, not strftime: glibc's %Y writes year 999 as "999", which sorts after 2022.)
        "occurred_at": {"S": event.occurred_at.isoformat(timespec="microseconds").replace("+00:00", "Z")},
        "center_id": {"S": str(data.center_id)},
        "guest_id": {"S": str(data.guest_id)},
        "registration_id": {"N": str(data.registration_id)},
        "class_id": {"N": str(data.class_id)},
        "session_id": {"N": str(data.session_id)},
        # Byte for byte once decompressed (zlib.decompress reads it as any zlib stream).
        "payload_zlib": {"B": compressed(received.payload)},
        # An item without these three was stored before the family: a Class.Booking.Deleted event,
        # its header names unknown, its hash computed from payload_zlib when needed (_stored_state).
        "event_type": {"S": event.event_type},
        "body_sha256": {"S": received.body_sha256},
        "header_names": {"L": [{"S": name} for name in received.header_names]},
        "received_at": {"S": received.received_at},
        "request_id": {"S": received.request_id},
        "published": {"BOOL": False},
        "claim_id": {"S": claim.claim_id},
        "claim_expires_at": {"N": str(claim.expires_at)},
        "pending_shard": {"S": pending_shard(event.event_id)},
    }


def _stored_state(item: dict[str, Any]) -> StoredState:
    return StoredState(
        published=item.get("published", {}).get("BOOL", False),
        claim_id=item.get("claim_id", {}).get("S"),
        claim_expires_at=int(item.get("claim_expires_at", {}).get("N", "0")),
        body_sha256=_body_sha256(item),
    )


def _body_sha256(item: dict[str, Any]) -> str | None:
    """The stored body's hash: as stored, or (an item stored before it was) from the body itself."""
    if "body_sha256" in item:
        return str(item["body_sha256"]["S"])
    if "payload_zlib" not in item and "payload" not in item:
        return None
    return hashlib.sha256(stored_payload(item).encode("utf-8")).hexdigest()
