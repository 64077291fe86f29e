"""python -m ops: look stored events up, replay or republish them, deal with held bodies, what a token brought in
(forensics) and the token itself, and prove a deployment (smoke), in the deployed stack (--stack-name, default
zenoti-webhooks) or the one `make serve` runs (--local): docs/operations.md."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, NoCredentialsError, NoRegionError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from ops import forensics, held, lookup, promote, replay, republish, smoke, stored_events, webhook_token
from ops.errors import EXIT_DONE, EXIT_REFUSED, OperatorError
from ops.local import LOCAL_ENDPOINT, LOCAL_WEBHOOK, local_names
from ops.stored_events import TimeWindow
from ops.target import (
    DEFAULT_STACK_NAME,
    FAILURES_QUEUE_OUTPUT,
    LOCAL_TABLE,
    LOCAL_TOPIC_ARN,
    TABLE_OUTPUT,
    TOPIC_OUTPUT,
    Deployment,
    TargetOptions,
    resolve_deployment,
)

# lookup's options: the index each one queries, and the key it holds.
INDEXES = {name: (f"by_{name}", f"{name}_id") for name in ("center", "guest", "employee")}
NO_AWS = {
    NoRegionError: "no AWS region: pass --region, set AWS_DEFAULT_REGION, or use --local",
    NoCredentialsError: "no AWS credentials: configure them (aws configure, AWS_PROFILE), or use --local",
}
UNREACHABLE = "AWS cannot be reached: the network (connection, DNS, proxy or firewall), not your credentials"
# The deployed stack whose outputs name what a command works on.
STACK = (
    ("--stack-name", {"metavar": "NAME", "default": DEFAULT_STACK_NAME, "help": f"default {DEFAULT_STACK_NAME}"}),
    ("--region", {"help": "AWS region of the stack (default: your AWS configuration's)"}),
)


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        return int(arguments.run(arguments, sys.stdout, sys.stderr))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except (OperatorError, BotoCoreError, ClientError) as error:
        message = NO_AWS.get(type(error), str(error))
        if isinstance(error, BotocoreConnectionError | HTTPClientError):
            # No answer at all: nothing was said of the credentials or the stack (`token` has no --local).
            local = getattr(arguments, "local", False)
            message = f"{error} (is `make serve` running?)" if local else f"{UNREACHABLE}: {error}"
    print(f"error: {' '.join(message.splitlines())}", file=sys.stderr)  # one line, whatever AWS said
    return EXIT_REFUSED


def run_lookup(arguments: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """List the stored events of one center, guest or employee in time order, with their type, resource and request's
    header names (never their values): a Query on the by_center, by_guest or by_employee index, never a Scan."""
    window = TimeWindow.parse(arguments.since, arguments.until)
    _, dynamodb, table = _events_table(arguments)
    whose = next(name for name in INDEXES if getattr(arguments, name))
    value = getattr(arguments, whose)
    events = stored_events.events_of(dynamodb, table, *INDEXES[whose], value, window)
    if not events:  # an answer, not a failure: said on stderr, so that a pipe of JSON lines stays empty
        print(f"no stored events of {whose} {value}{window.describe()} in table {table}", file=err)
    (lookup.print_jsonl if arguments.format == "jsonl" else lookup.print_table)(events, out)
    return EXIT_DONE


def run_replay(arguments: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Publish stored events again in time order, as the publisher sent them, with replay=true: by --event-id; by
    --center, optionally in a window (a Query on by_center); or by a window alone: a Scan of the whole table."""
    window = TimeWindow.parse(arguments.since, arguments.until)
    if arguments.event_id and (arguments.center or window != TimeWindow()):
        raise OperatorError("choose events either by --event-id or by --center/--since/--until, not both")
    if not arguments.event_id and not arguments.center and window == TimeWindow():
        raise OperatorError("choose the events to replay: --event-id, --center, or a window (--since/--until)")
    deployment, dynamodb, table = _events_table(arguments, **{TOPIC_OUTPUT: arguments.topic_arn})
    if arguments.event_id:
        events = stored_events.events_by_id(dynamodb, table, arguments.event_id)
    elif arguments.center:
        events = stored_events.events_of(dynamodb, table, *INDEXES["center"], arguments.center, window)
    else:
        events = stored_events.events_in_window(dynamodb, table, window)
    if not events:
        chosen = f"center {arguments.center}" if arguments.center else "any center"
        print(f"Nothing to replay: no stored events of {chosen}{window.describe()} in table {table}.", file=out)
        return EXIT_DONE
    sns, topic_arn = deployment.client("sns"), deployment.names[TOPIC_OUTPUT]
    events.sort(key=lambda event: (event.occurred_at, event.event_id))  # in time order
    replay.replay(events, sns, topic_arn, dry_run=arguments.dry_run, out=out, err=err)
    done = f"{len(events)} event{'' if len(events) == 1 else 's'} to {topic_arn}"
    print(f"Dry run: would publish {done}; nothing was sent." if arguments.dry_run else f"Published {done}.", file=out)
    return EXIT_DONE


def run_republish(arguments: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    given = {TOPIC_OUTPUT: arguments.topic_arn, FAILURES_QUEUE_OUTPUT: arguments.failures_queue_url}
    republish.republish(_events_table(arguments, **given)[0], dry_run=arguments.dry_run, out=out, err=err)
    return EXIT_DONE


def run_held(arguments: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    options, action = _target_options(arguments), arguments.action
    if action == "promote":
        return promote.promote(held.resolve(options, None, webhook=False, events=True), arguments.body_sha256, out)
    webhook_url = getattr(arguments, "webhook_url", None)
    target = held.resolve(options, webhook_url, webhook=action == "redrive", alarms=action == "dismiss")
    if action == "redrive":
        return held.redrive(target, arguments.body_sha256, out, slot=arguments.with_token)
    if action == "show":
        return held.show(target, arguments.body_sha256, out)
    if action == "dismiss":
        return held.dismiss(target, arguments.body_sha256, arguments.note or "", out)
    if action == "purge":
        window = TimeWindow.parse(arguments.since, arguments.until).texts()
        tokens = forensics.token_values(arguments.token)
        if window == (None, None) and not tokens:
            raise OperatorError("choose what to purge: --since/--until (first delivery) and/or --token")
        return held.purge(target, held.brought(window, tokens), arguments.dry_run, out)
    found, after = held.entries(target, arguments.limit, arguments.after, [("state", "=", arguments.state)])
    held.print_entries(found, after, out, as_jsonl=arguments.format == "jsonl")
    return EXIT_DONE


def run_forensics(arguments: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    tokens = forensics.token_values(arguments.token)
    if not tokens:
        raise OperatorError("name the token: --token SLOT:VERSION_ID")
    target = held.resolve(_target_options(arguments), None, webhook=False, events=True)
    window = TimeWindow.parse(arguments.since, arguments.until).texts()
    if arguments.action == "list":
        return forensics.list_token(target, tokens, window, out)
    return forensics.purge_token(target, tokens, window, events=arguments.events, dry_run=arguments.dry_run, out=out)


def run_token(arguments: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    options = TargetOptions(arguments.stack_name, arguments.region, endpoint_url=arguments.endpoint_url)
    target = webhook_token.resolve(options, arguments.secret_id)
    if arguments.action == "rotate":
        return webhook_token.rotate(target, out, force=arguments.force, print_url=arguments.print_url)
    return webhook_token.drop_previous(target, out)


def run_smoke(arguments: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return smoke.run(TargetOptions(arguments.stack_name, arguments.region, endpoint_url=arguments.endpoint_url), out)


def _events_table(arguments: argparse.Namespace, **more: str | None) -> tuple[Deployment, Any, str]:
    """Where the command works: the events table (and the outputs in `more`) by name, and a client of it."""
    deployment = resolve_deployment(_target_options(arguments), {TABLE_OUTPUT: arguments.table, **more})
    return deployment, deployment.client("dynamodb"), deployment.names[TABLE_OUTPUT]


def _target_options(arguments: argparse.Namespace) -> TargetOptions:
    options = ("stack_name", "region", "local", "endpoint_url", "table")
    return TargetOptions(**{name: getattr(arguments, name) for name in options})


def _options(*adding: tuple[str, dict[str, Any]], group: str | None = None) -> argparse.ArgumentParser:
    """A parent parser of these options (each its name and add_argument's keywords), in a group if named."""
    parent = argparse.ArgumentParser(add_help=False)
    options = parent.add_argument_group(group) if group else parent
    for name, keywords in adding:
        options.add_argument(name, **keywords)
    return parent


def _where(table: str, local_table: str, kept: str) -> argparse.ArgumentParser:
    local = f"the stack that `make serve` runs: {LOCAL_ENDPOINT}, table {local_table} (dummy credentials)"
    return _options(
        *STACK,
        ("--local", {"action": "store_true", "help": local}),
        ("--endpoint-url", {"metavar": "URL", "help": f"AWS's own, https (--local: any, default {LOCAL_ENDPOINT})"}),
        ("--table", {"metavar": "NAME", "help": f"{table}, instead of the stack's output"}),
        group=f"where the {kept} are",
    )


def _window(compared: str) -> argparse.ArgumentParser:
    since = f"ISO 8601 date or time, compared with {compared}; without an offset, UTC. --since included, --until not."
    return _options(("--since", {"metavar": "ISO", "help": since}), ("--until", {"metavar": "ISO", "help": "excluded"}))


EVENTS = _where("DynamoDB table name (EventsTableName)", LOCAL_TABLE, "events")
BODIES = _where("held bodies table (HeldBodiesTableName)", local_names().held_table_name, "held bodies")
OCCURRED, RECEIVED = _window("the event's occurred_at"), _window("when a body was first held or an event received")
TOPIC = _options(("--topic-arn", {"metavar": "ARN", "help": f"instead of EventsTopicArn (--local: {LOCAL_TOPIC_ARN})"}))
DRY_RUN = _options(("--dry-run", {"action": "store_true", "help": "say what would be done; change nothing"}))
FORMAT = _options(("--format", {"choices": ("table", "jsonl"), "default": "table", "help": "table (default) or jsonl"}))
BODY = _options(("body_sha256", {"metavar": "ID", "help": "its body_sha256, or the first 6 or more characters"}))
AWS_ENDPOINT = ("--endpoint-url", {"metavar": "URL", "help": "AWS endpoint to call, https only"})
DEPLOYED = _options(*STACK, AWS_ENDPOINT, group="which stack")
SECRET = _options(("--secret-id", {"metavar": "ARN", "help": "the secret itself, instead of the stack's output"}))
TOKENS = _options(("--token", {"action": "append", "metavar": "SLOT:VERSION_ID", "help": "current:V or previous:V"}))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    finding = "list the stored events of one center, guest or employee, with their type and header names"
    found = _command(commands, "lookup", run_lookup, [EVENTS, OCCURRED, FORMAT], finding, run_lookup.__doc__)
    whose = found.add_mutually_exclusive_group(required=True)
    for name, (index, key) in INDEXES.items():
        whose.add_argument(f"--{name}", metavar="UUID", help=f"the {key} (index {index})")
    replaying = "publish stored events to the topic again"
    again = _command(commands, "replay", run_replay, [EVENTS, OCCURRED, DRY_RUN, TOPIC], replaying, run_replay.__doc__)
    again.add_argument("--event-id", action="append", metavar="ID", help="an event to replay (repeat); all must exist")
    again.add_argument("--center", metavar="UUID", help="replay this center's events (index by_center)")
    republishing = "publish what the publisher gave up on (PublicationFailuresAlarm), from the table"
    queue = _command(commands, "republish", run_republish, [EVENTS, DRY_RUN, TOPIC], republishing, republish.__doc__)
    queue.add_argument("--failures-queue-url", metavar="URL", help="instead of PublicationFailuresQueueUrl")
    smoked = "after a deploy: deliver one made-up event to the stack's URL, find it stored, see it published"
    _command(commands, "smoke", run_smoke, [DEPLOYED], smoked, smoke.__doc__)

    actions = _group(commands, "held", "list, show, re-drive, dismiss, purge or promote the held bodies", held.__doc__)
    listed = _command(actions, "list", run_held, [BODIES, FORMAT], "a page of held bodies, with their type and reason")
    listed.add_argument("--limit", type=_positive, default=held.DEFAULT_PAGE, help=f"default {held.DEFAULT_PAGE}")
    listed.add_argument("--after", metavar="ID", help="the page after this entry (the last line of the page before)")
    listed.add_argument("--state", choices=("held", "redriven", "dismissed", "promoted"), help="only in this state")
    _command(actions, "show", run_held, [BODIES, BODY], "one held body: why, when, its header names, and the body")
    redriving = "send one held body to the webhook again, as Zenoti would"
    redrive = _command(actions, "redrive", run_held, [BODIES, BODY], redriving, held.redrive.__doc__)
    webhook = f"the stack's WebhookUrl output (the default) only; with --local one here (default {LOCAL_WEBHOOK})"
    redrive.add_argument("--webhook-url", metavar="URL", help=webhook)
    redrive.add_argument("--with-token", choices=("current", "previous"), help="not the token the body came with")
    dismissing = "mark an entry that needs no action (a test delivery, an unwanted type); clears its alarm"
    dismiss = _command(actions, "dismiss", run_held, [BODIES, BODY], dismissing, held.dismiss.__doc__)
    dismiss.add_argument("--note", help="why it needs no action, kept with the entry")
    purging = "delete held bodies first delivered in a time range, or brought by a token"
    _command(actions, "purge", run_held, [BODIES, RECEIVED, TOKENS, DRY_RUN], purging, held.purge.__doc__)
    promoting = "make a held conflicting duplicate the event of record, keeping the one it replaces held"
    _command(actions, "promote", run_held, [BODIES, BODY], promoting, promote.__doc__)

    leaked = "list or purge what one token (a secret version, a slot) stored or held: after a leak"
    actions = _group(commands, "forensics", leaked, forensics.__doc__)
    listing = "the events the token stored and the bodies it held, as JSON lines"
    _command(actions, "list", run_forensics, [BODIES, RECEIVED, TOKENS], listing)
    purging = "delete the bodies the token held; with --events, the events it stored too"
    purge = _command(actions, "purge", run_forensics, [BODIES, RECEIVED, TOKENS, DRY_RUN], purging)
    stored = "the events it stored too (nothing is published), Zenoti's own as well: narrow with --since/--until"
    purge.add_argument("--events", action="store_true", help=stored)

    actions = _group(commands, "token", "rotate the webhook token without losing events", webhook_token.__doc__)
    rotating = "write a new token; the one in force stays accepted as previous_token"
    rotate = _command(actions, "rotate", run_token, [DEPLOYED, SECRET], rotating, webhook_token.rotate.__doc__)
    rotate.add_argument("--print-url", action="store_true", help="print the new webhook URL, token included")
    rotate.add_argument("--force", action="store_true", help="rotate even during a rotation or over a malformed secret")
    dropping = "end a rotation: stop accepting previous_token"
    _command(actions, "drop-previous", run_token, [DEPLOYED, SECRET], dropping, webhook_token.drop_previous.__doc__)
    return parser


def _group(commands: Any, name: str, summary: str, description: str | None) -> Any:
    """A command of several actions (held list, held show, ...): where they are added."""
    return commands.add_parser(name, help=summary, description=description).add_subparsers(dest="action", required=True)


def _command(
    commands: Any, name: str, run: Any, parents: list[argparse.ArgumentParser], summary: str, doc: str | None = None
) -> argparse.ArgumentParser:
    """A command (or an action of one): its options, its help, a description (the help, if none), and what runs it."""
    made: argparse.ArgumentParser = commands.add_parser(name, parents=parents, help=summary, description=doc or summary)
    made.set_defaults(run=run)
    return made


def _positive(text: str) -> int:
    """An argparse type: a whole number from 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1")
    return int(text)
