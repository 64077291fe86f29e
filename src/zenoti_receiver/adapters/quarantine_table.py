"""The DynamoDB table keeping authenticated bodies we could not accept, one item per body."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from zenoti_receiver.adapters.aws import client, unavailable_on_failure
from zenoti_receiver.logic.ports import RejectedDelivery

DEPENDENCY = "quarantine_table"


class QuarantineTable:
    """`retention_days` after its last delivery, DynamoDB's TTL removes an entry (expires_at)."""

    def __init__(self, table_name: str, dynamodb: Any = None, retention_days: int = 30) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb or client("dynamodb")
        self._retention_seconds = retention_days * 86_400

    def keep(self, rejected: RejectedDelivery) -> None:
        # Keyed by the body's hash: Zenoti's retries of one body make one entry, counted.
        request = {
            "TableName": self._table_name,
            "Key": {"body_sha256": {"S": hashlib.sha256(rejected.body).hexdigest()}},
            "UpdateExpression": (
                "SET #body = if_not_exists(#body, :body), #size = :size,"
                " #first_seen = if_not_exists(#first_seen, :now),"
                " #first_request = if_not_exists(#first_request, :request),"
                " #last_seen = :now, #last_request = :request,"
                " #reason = :reason, #message = :message, #errors = :errors,"
                " #state = if_not_exists(#state, :quarantined), #expires = :expires"
                " ADD #deliveries :one"
            ),
            "ExpressionAttributeNames": {
                "#body": "body",
                "#size": "body_bytes",
                "#first_seen": "first_seen",
                "#first_request": "first_request_id",
                "#last_seen": "last_seen",
                "#last_request": "last_request_id",
                "#reason": "reason",
                "#message": "message",
                "#errors": "errors",
                "#state": "state",
                "#deliveries": "deliveries",
                "#expires": "expires_at",
            },
            "ExpressionAttributeValues": {
                # Binary: the body may not even be UTF-8.
                ":body": {"B": rejected.body},
                ":size": {"N": str(len(rejected.body))},
                ":now": {"S": rejected.received_at},
                ":request": {"S": rejected.request_id},
                ":reason": {"S": rejected.reason},
                ":message": {"S": rejected.message},
                ":errors": {"S": json.dumps(rejected.errors)},
                ":quarantined": {"S": "quarantined"},
                ":one": {"N": "1"},
                ":expires": {"N": str(int(time.time()) + self._retention_seconds)},
            },
        }
        with unavailable_on_failure("quarantining the body", DEPENDENCY):
            self._dynamodb.update_item(**request)
