"""What one token brought in (`token_used`: slot and secret version), listed or purged after a leak with a Scan billed
for every item; which tokens to name: docs/security.md#the-first-hour-after-a-leak."""

from __future__ import annotations

import json
from typing import Any, TextIO

from ops import held
from ops.errors import EXIT_DONE, OperatorError
from ops.items import every_item, filtered, plain_item
from zenoti_receiver.adapters.event_table import TOKEN_USED

LISTED_EVENT = ("event_id", "event_type", "received_at", "center_id", "request_id", TOKEN_USED)


def token_values(named: list[str] | None) -> tuple[str, ...]:
    """The `token_used` values named, each `slot:version` as the tables record it."""
    for value in named or ():
        slot, _, version = value.partition(":")
        if slot not in ("current", "previous") or not version:
            raise OperatorError(f"--token {value}: give SLOT:VERSION_ID, SLOT current or previous")
    return tuple(dict.fromkeys(named or ()))


def events_of(target: held.HeldTarget, tokens: tuple[str, ...], window: held.Window) -> list[Any]:
    """The stored events the tokens authenticated, received in the window, oldest first."""
    request = {"TableName": target.events_table, "ProjectionExpression": ", ".join(LISTED_EVENT)}
    items = every_item(target.dynamodb.scan, filtered(request, held.brought(window, tokens, at="received_at")))
    found = [plain_item(item) for item in items]
    return sorted(found, key=lambda event: (event.get("received_at", ""), event["event_id"]))


def list_token(target: held.HeldTarget, tokens: tuple[str, ...], window: held.Window, out: TextIO) -> int:
    bodies = held.entries(target, None, None, held.brought(window, tokens))[0]
    for kind, found in (("Events stored", events_of(target, tokens, window)), ("Bodies held", bodies)):
        print(f"{kind} with token {' or '.join(tokens)}: {len(found)}", file=out)
        for entry in found:
            print(json.dumps(entry), file=out)
    return EXIT_DONE


def purge_token(
    target: held.HeldTarget, tokens: tuple[str, ...], window: held.Window, *, events: bool, dry_run: bool, out: TextIO
) -> int:
    """Purge the held bodies the tokens brought in; with `events`, the events they stored too (a REMOVE in the
    table's stream, which the publisher is never given: nothing is published)."""
    held.purge(target, held.brought(window, tokens), dry_run, out)
    if not events:
        return EXIT_DONE
    found = events_of(target, tokens, window)
    if dry_run:
        print(f"Would purge {len(found)} stored event(s) (dry run): {' '.join(e['event_id'] for e in found)}", file=out)
        return EXIT_DONE
    for event in found:
        # Only if it is still the item the token stored: a promoted event (another token) stays.
        try:
            target.dynamodb.delete_item(
                TableName=target.events_table,
                Key={"event_id": {"S": event["event_id"]}},
                ConditionExpression="#token_used = :token",
                ExpressionAttributeNames={"#token_used": TOKEN_USED},
                ExpressionAttributeValues={":token": {"S": event[TOKEN_USED]}},
            )
        except target.dynamodb.exceptions.ConditionalCheckFailedException:
            print(f"Kept {event['event_id']}: stored again since, by another token.", file=out)
    print(f"Purged {len(found)} stored event(s).", file=out)
    return EXIT_DONE
