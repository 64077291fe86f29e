"""The example's actions: one item per deleted or cancelled booking in a small DynamoDB table; replace it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3

from zenoti_receiver.models.class_booking import ClassBookingEvent


class DeletionsTable:
    def __init__(self, table_name: str, dynamodb: Any = None) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb or boto3.client("dynamodb")

    def record(self, event: ClassBookingEvent) -> None:
        data = event.data
        self._dynamodb.update_item(
            TableName=self._table_name,
            Key={"event_id": {"S": event.event_id}},
            # times_recorded counts the calls, so you can see that duplicates and replays do not repeat them.
            UpdateExpression=(
                "SET event_type = :event_type, center_id = :center_id, guest_id = :guest_id,"
                " registration_id = :registration_id, class_id = :class_id, session_id = :session_id,"
                " occurred_at = :occurred_at, recorded_at = :recorded_at ADD times_recorded :one"
            ),
            ExpressionAttributeValues={
                ":event_type": {"S": event.event_type},
                ":center_id": {"S": str(data.center_id)},
                ":guest_id": {"S": str(data.guest_id)},
                ":registration_id": {"N": str(data.registration_id)},
                ":class_id": {"N": str(data.class_id)},
                ":session_id": {"N": str(data.session_id)},
                ":occurred_at": {"S": _utc_text(event.occurred_at)},
                ":recorded_at": {"S": _utc_text(datetime.now(UTC))},
                ":one": {"N": "1"},
            },
        )


def _utc_text(moment: datetime) -> str:
    # isoformat, not strftime: glibc's %Y writes year 999 as "999", which sorts after 2022.
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
