"""The DynamoDB table that keeps exactly one item per event_id."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from zenoti_receiver.adapters.aws import client, unavailable_on_failure
from zenoti_receiver.logic.ports import Claim, ReceivedEvent, StoredState

DEPENDENCY = "events_table"


class EventTable:
    def __init__(self, table_name: str, dynamodb: Any = None) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb or client("dynamodb")
        self._conflict = self._dynamodb.exceptions.ConditionalCheckFailedException

    def store_once(self, received: ReceivedEvent, claim: Claim) -> StoredState | None:
        with unavailable_on_failure("storing the event", DEPENDENCY):
            try:
                self._dynamodb.put_item(
                    TableName=self._table_name,
                    Item=_item(received, claim),
                    ConditionExpression="attribute_not_exists(event_id)",
                    # The stored item comes back with the refusal: one call answers a duplicate.
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except self._conflict as conflict:
                return _stored_state(conflict.response.get("Item", {}))
        return None

    def take_over_claim(self, event_id: str, claim: Claim, now: int) -> bool:
        with unavailable_on_failure("claiming the event", DEPENDENCY):
            try:
                self._dynamodb.update_item(
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
                )
            except self._conflict:
                return False
        return True

    def release_claim(self, event_id: str, claim: Claim) -> None:
        # Refused when already published or claimed by someone else: nothing to release then.
        with unavailable_on_failure("releasing the claim", DEPENDENCY), suppress(self._conflict):
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key={"event_id": {"S": event_id}},
                UpdateExpression="SET claim_expires_at = :zero",
                ConditionExpression="claim_id = :claim AND published = :false",
                ExpressionAttributeValues={
                    ":claim": {"S": claim.claim_id},
                    ":zero": {"N": "0"},
                    ":false": {"BOOL": False},
                },
            )

    def mark_published(self, event_id: str, message_id: str, published_at: str) -> None:
        with unavailable_on_failure("recording the publication", DEPENDENCY):
            self._dynamodb.update_item(
                TableName=self._table_name,
                Key={"event_id": {"S": event_id}},
                UpdateExpression="SET published = :true, published_at = :at, sns_message_id = :message"
                " REMOVE claim_id, claim_expires_at",
                ExpressionAttributeValues={
                    ":true": {"BOOL": True},
                    ":at": {"S": published_at},
                    ":message": {"S": message_id},
                },
            )


def _item(received: ReceivedEvent, claim: Claim) -> dict[str, Any]:
    event = received.event
    data = event.data
    return {
        "event_id": {"S": event.event_id},
        "webhook_id": {"S": event.id},
        "event_type": {"S": event.event_type},
        "event_timestamp": {"S": event.event_timestamp},
        # Fixed-width UTC, so the indexes sort by time: the sort key of both indexes.
        "occurred_at": {"S": event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
        "center_id": {"S": str(data.center_id)},
        "guest_id": {"S": str(data.guest_id)},
        "registration_id": {"N": str(data.registration_id)},
        "class_id": {"N": str(data.class_id)},
        "session_id": {"N": str(data.session_id)},
        "payload": {"S": received.payload},
        "received_at": {"S": received.received_at},
        "request_id": {"S": received.request_id},
        "published": {"BOOL": False},
        "claim_id": {"S": claim.claim_id},
        "claim_expires_at": {"N": str(claim.expires_at)},
    }


def _stored_state(item: dict[str, Any]) -> StoredState:
    return StoredState(
        published=item.get("published", {}).get("BOOL", False),
        claim_id=item.get("claim_id", {}).get("S"),
        claim_expires_at=int(item.get("claim_expires_at", {}).get("N", "0")),
    )
