"""Publishing stored events again, as the function published them, marked as replays."""

from __future__ import annotations

import json
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError
from tqdm import tqdm

from ops.errors import OperatorError
from ops.stored_events import StoredEvent
from zenoti_receiver.adapters.event_table import stored_event
from zenoti_receiver.adapters.event_topic import message


def replay_message(event: StoredEvent, replay: bool = True) -> dict[str, Any]:
    """The message the publisher sent for this event (its own code builds it), with replay=true when replayed."""
    try:
        stored = stored_event(event.item)
    except (KeyError, ValueError) as error:  # not an item the receiver wrote
        raise OperatorError(f"event {event.event_id} is not a stored event that can be published: {error}") from None
    return message(stored, replay=replay)


def replay(
    events: list[StoredEvent], sns: Any, topic_arn: str, *, dry_run: bool, out: TextIO, err: TextIO, marked: bool = True
) -> int:
    """Publish each event in the order given (or only say what would be sent), a line each; how many there were."""
    # Every message is built before the first is sent: a bad item stops the run before it starts.
    messages = [(event, replay_message(event, replay=marked)) for event in events]
    # A bar on a terminal (drawn at each event), blanked when done; nothing on a pipe or a file, so logs stay clean.
    label = "dry run" if dry_run else "replaying"
    with tqdm(
        total=len(messages), desc=label, unit="event", file=err, leave=False, disable=not err.isatty(), mininterval=0
    ) as progress:
        for published, (event, message) in enumerate(messages):
            attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
            if dry_run:
                line = (
                    f"would publish {event.event_id}  occurred_at {event.occurred_at}  "
                    f"attributes {json.dumps(attributes)}  body {len(message['Message'].encode())} bytes"
                )
            else:
                try:
                    message_id = sns.publish(TopicArn=topic_arn, **message)["MessageId"]
                except (BotoCoreError, ClientError) as error:
                    raise OperatorError(
                        f"publishing {event.event_id} failed after {published} of {len(messages)} were published: "
                        f"{error}"
                    ) from None
                line = f"published {event.event_id}  occurred_at {event.occurred_at}  message_id {message_id}"
            tqdm.write(line, file=out)  # the bar blanked, the line printed, the bar drawn again below
            progress.update()
    return len(messages)  # the bar blanked (leave=False): what is printed next starts at the left edge
