"""What one token brought in: the events it stored and the bodies it held, listed or purged, after a leak.

The receiver records with each event and held body which token authenticated it (`token_used`: the
slot, current or previous, and the secret's version id). A token is current in the version that
wrote it and previous in the next one (`ops token rotate`), so after a rotation the leaked token is
`--token current:OLD --token previous:NEW` (OLD: the version labelled AWSPREVIOUS by
`aws secretsmanager list-secret-version-ids`; NEW: the one `ops token rotate` printed).
`--token-version V` is both slots of V.

Both tables are read with a Scan filtered on `token_used`: DynamoDB reads, and bills, every item of
the table to return the few that match (about one read unit per 8 KB with eventually consistent
reads: a million 1 KB events cost some 125,000 read units, a few cents on demand). An operator's
command, run once after a leak, not a path worth an index (which would cost a write on every event).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TextIO

from ops import held
from ops.errors import EXIT_DONE, OperatorError
from zenoti_receiver.adapters.event_table import TOKEN_USED, token_used_text

SLOTS = ("current", "previous")
LISTED_EVENT = ("event_id", "event_type", "received_at", "center_id", "request_id", TOKEN_USED)


@dataclass(frozen=True)
class TokenFilter:
    """Which tokens: each `slot:version` as the tables record it, and both slots of each version given alone."""

    exact: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()

    def values(self) -> tuple[str, ...]:
        if not self.exact and not self.versions:
            raise OperatorError("name the token: --token SLOT:VERSION_ID or --token-version VERSION_ID")
        for value in self.exact:
            slot, _, version = value.partition(":")
            if slot not in SLOTS or not version:
                raise OperatorError(f"--token {value}: give SLOT:VERSION_ID, SLOT current or previous")
        both = tuple(token_used_text(slot, version) for version in self.versions for slot in SLOTS)
        return tuple(dict.fromkeys(self.exact + both))


def events_of(
    dynamodb: Any, table: str, token: TokenFilter, since: str | None, until: str | None
) -> list[dict[str, Any]]:
    """The stored events the token authenticated, received in [since, until), oldest first."""
    names = {"#token_used": TOKEN_USED}
    keys = [f":token{number}" for number in range(len(token.values()))]
    values: dict[str, Any] = {key: {"S": value} for key, value in zip(keys, token.values(), strict=True)}
    condition = f"#token_used IN ({', '.join(keys)})"
    if since:
        names["#received_at"], values[":since"] = "received_at", {"S": since}
        condition += " AND #received_at >= :since"
    if until:
        names["#received_at"], values[":until"] = "received_at", {"S": until}
        condition += " AND #received_at < :until"
    request: dict[str, Any] = {
        "TableName": table,
        "ProjectionExpression": ", ".join(f"#p{n}" for n in range(len(LISTED_EVENT))),
        "FilterExpression": condition,
        "ExpressionAttributeNames": {**names, **{f"#p{n}": name for n, name in enumerate(LISTED_EVENT)}},
        "ExpressionAttributeValues": values,
    }
    found: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(**request):
        found += [{name: next(iter(value.values())) for name, value in item.items()} for item in page["Items"]]
    return sorted(found, key=lambda event: (event.get("received_at", ""), event["event_id"]))


def list_token(
    target: held.HeldTarget, events_table: str, token: TokenFilter, since: str | None, until: str | None, out: TextIO
) -> int:
    events = events_of(target.dynamodb, events_table, token, since, until)
    bodies = _held_of(target, token, since, until)
    print(f"Events stored with {_described(token)}: {len(events)}", file=out)
    for event in events:
        print(json.dumps(event), file=out)
    print(f"Bodies held with {_described(token)}: {len(bodies)}", file=out)
    for entry in bodies:
        print(json.dumps(entry), file=out)
    return EXIT_DONE


def purge_token(
    target: held.HeldTarget,
    events_table: str,
    token: TokenFilter,
    since: str | None,
    until: str | None,
    *,
    events: bool,
    dry_run: bool,
    out: TextIO,
) -> int:
    """Purge the held bodies the token brought in; with `events`, the events it stored too.

    Deleting an event is a REMOVE in the table's stream, which the publisher is never given: nothing
    is published. The event was published when it was stored; what subscribers did with it is theirs.
    """
    held.purge(target, held.Filters(since=since, until=until, token_used=token.values()), dry_run, out)
    if not events:
        return EXIT_DONE
    found = events_of(target.dynamodb, events_table, token, since, until)
    if dry_run:
        print(f"Would purge {len(found)} stored event(s) (dry run): {' '.join(e['event_id'] for e in found)}", file=out)
        return EXIT_DONE
    for event in found:
        # Only if it is still the item the token stored: a promoted event (another token) stays.
        try:
            target.dynamodb.delete_item(
                TableName=events_table,
                Key={"event_id": {"S": event["event_id"]}},
                ConditionExpression="#token_used = :token",
                ExpressionAttributeNames={"#token_used": TOKEN_USED},
                ExpressionAttributeValues={":token": {"S": event[TOKEN_USED]}},
            )
        except target.dynamodb.exceptions.ConditionalCheckFailedException:
            print(f"Kept {event['event_id']}: stored again since, by another token.", file=out)
    print(f"Purged {len(found)} stored event(s).", file=out)
    return EXIT_DONE


def _held_of(target: held.HeldTarget, token: TokenFilter, since: str | None, until: str | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = held.entries(target, limit=500, after=after, filters=held.Filters(since, until, token.values()))
        found += page.entries
        if page.next_after is None:
            return found
        after = page.next_after


def _described(token: TokenFilter) -> str:
    return "token " + " or ".join(token.values())
