"""API Gateway events built from events/apigw_booking_deleted.json, each one a new Zenoti event."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SAMPLE_EVENT = REPO / "events" / "apigw_booking_deleted.json"


class EventFactory:
    """Copies of the sample event, each with a fresh Zenoti event_id and API Gateway request id."""

    def __init__(self, sample: Path = SAMPLE_EVENT) -> None:
        self._event: dict[str, Any] = json.loads(sample.read_text(encoding="utf-8"))
        self._body: dict[str, Any] = json.loads(self._event["body"])

    def new_event(self) -> dict[str, Any]:
        event = copy.deepcopy(self._event)
        body = dict(self._body, event_id=uuid.uuid4().hex[:24])  # Zenoti's ids: 24 hex digits
        # Pretty-printed like the sample, so every event is as long as the one Zenoti documents.
        event["body"] = json.dumps(body, indent=2) + "\n"
        event["requestContext"]["requestId"] = uuid.uuid4().hex[:16]
        return event

    def new_events(self, count: int) -> list[dict[str, Any]]:
        return [self.new_event() for _ in range(count)]
