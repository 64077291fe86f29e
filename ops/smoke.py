"""After a deploy: one made-up event delivered to the stack's own URL, found stored, and seen published (a booking of a
center that does not exist, with an event_id of its own: docs/operations.md#prove-a-deployed-stack)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any, TextIO

from ops import held
from ops.errors import EXIT_DONE, EXIT_NOT_ACCEPTED
from ops.target import Deployment, TargetOptions, connect

SAMPLE = Path(__file__).resolve().parent.parent / "events" / "booking_created.json"
CENTER = "00000000-0000-4000-8000-00000000c0de"  # no center of Zenoti's: filtered out by center filters
PUBLISHER_LOGS = "PublisherLogs"  # template.yaml: the publisher's log group
WAIT_SECONDS = 60.0  # the publisher's line is there within seconds; CloudWatch Logs shows it a little later
POLL_SECONDS = 3.0


def smoke_event() -> tuple[str, bytes]:
    event = json.loads(SAMPLE.read_text(encoding="utf-8"))
    unique = uuid.uuid4().hex[:20]
    event["event_id"], event["id"] = f"smoke-{unique}", f"smoke-call-{unique}"
    event["data"]["center_id"] = CENTER
    return event["event_id"], json.dumps(event).encode()


def run(options: TargetOptions, out: TextIO) -> int:
    """Deliver, look up, wait for the publication; one line for each, and EXIT_NOT_ACCEPTED at the first that fails."""
    target = held.resolve(options, None, webhook=True, events=True)  # the stack's own URL and token, checked
    event_id, body = smoke_event()
    status, answer = held.deliver(target, body)
    print(f"delivered {event_id} to {target.webhook_url}: {status} {json.dumps(answer)}", file=out)
    if status != 200 or answer.get("status") != "accepted":
        return EXIT_NOT_ACCEPTED
    key = {"event_id": {"S": event_id}}
    item = target.dynamodb.get_item(TableName=target.events_table, Key=key, ConsistentRead=True).get("Item")
    print(f"stored: {'yes, received ' + item['received_at']['S'] if item else 'NO'}", file=out)
    if not item:
        return EXIT_NOT_ACCEPTED
    published = _published(connect(options), event_id, WAIT_SECONDS)
    if published is None:
        print(f"published: not within {WAIT_SECONDS:.0f} s (docs/operations.md#publication)", file=out)
        return EXIT_NOT_ACCEPTED
    print(f"published: message {published['message_id']}", file=out)
    return EXIT_DONE


def _published(deployment: Deployment, event_id: str, wait_seconds: float) -> dict[str, Any] | None:
    """The publisher's "Event published" line for the event, once it is there (or None after the wait)."""
    cloudformation, stack_name = deployment.client("cloudformation"), deployment.options.stack_name
    resource = cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId=PUBLISHER_LOGS)
    group, logs = resource["StackResourceDetail"]["PhysicalResourceId"], deployment.client("logs")
    started, deadline = int(time.time() * 1000) - 60_000, time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        pattern = f'{{ $.event_id = "{event_id}" }}'
        found = logs.filter_log_events(logGroupName=group, startTime=started, filterPattern=pattern)
        for event in found.get("events", []):
            line = json.loads(event["message"])
            if line.get("message") == "Event published" and line.get("event_id") == event_id:
                return line  # type: ignore[no-any-return]
        time.sleep(POLL_SECONDS)
    return None
