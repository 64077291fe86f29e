"""python -m ops: replay stored events, look stored events up, list, show and re-drive held bodies.

python -m ops lookup --center UUID | --guest UUID | --employee UUID [--since ISO] [--until ISO] [--format table|jsonl]
python -m ops replay --event-id ID [--event-id ID ...] | --center UUID | --since/--until  [--dry-run]
python -m ops held list [--limit N] [--after ID] [--state held] [--format table|jsonl]
python -m ops held show|dismiss|promote ID   (ID: body_sha256, or its first characters as `held list` shows them)
python -m ops held redrive ID [--webhook-url URL] [--with-token current|previous]
python -m ops held purge (--since/--until | --token SLOT:VERSION | --token-version V) [--dry-run]
python -m ops forensics list|purge (--token SLOT:VERSION | --token-version V)... [--since/--until] [--events]
python -m ops republish [--dry-run]
python -m ops smoke   (after a deploy: one made-up event delivered, stored and published)
python -m ops token rotate [--print-url] [--force] | token drop-previous   (never on the command line)
Against the deployed stack (--stack-name, default zenoti-webhooks) or `make serve` (--local).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, NoCredentialsError, NoRegionError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from ops import forensics, held, lookup, promote, replay, republish, smoke, stored_events, webhook_token
from ops.errors import EXIT_DONE, EXIT_REFUSED, OperatorError
from ops.local import LOCAL_ENDPOINT, LOCAL_WEBHOOK
from ops.stored_events import StoredEvent, TimeWindow
from ops.target import (
    DEFAULT_STACK_NAME,
    FAILURES_QUEUE_OUTPUT,
    LOCAL_TABLE,
    LOCAL_TOPIC_ARN,
    TABLE_OUTPUT,
    TOPIC_OUTPUT,
    TargetOptions,
    resolve_deployment,
    resolve_target,
)

WINDOW_HELP = (
    "ISO 8601 date or time, compared with the event's occurred_at; without an offset it is UTC. "
    "The window is [--since, --until): since included, until excluded."
)


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    out, err = sys.stdout, sys.stderr
    try:
        if arguments.command == "lookup":
            return run_lookup(arguments, out, err)
        if arguments.command == "held":
            return run_held(arguments, out)
        if arguments.command == "smoke":
            return smoke.run(_target_options(arguments), out)
        if arguments.command == "republish":
            return run_republish(arguments, out)
        if arguments.command == "token":
            return run_token(arguments, out)
        if arguments.command == "forensics":
            return run_forensics(arguments, out)
        return run_replay(arguments, out, err)
    except OperatorError as error:
        return _refuse(str(error), err)
    except NoRegionError:
        return _refuse("no AWS region: pass --region, set AWS_DEFAULT_REGION, or use --local", err)
    except NoCredentialsError:
        return _refuse("no AWS credentials: configure them (aws configure, AWS_PROFILE), or use --local", err)
    except (BotocoreConnectionError, HTTPClientError) as error:
        # No answer at all: nothing was said of the credentials or the stack.
        if getattr(arguments, "local", False):  # `token` has no --local
            return _refuse(f"{error} (is `make serve` running?)", err)
        return _refuse(
            f"AWS cannot be reached: the network (connection, DNS, proxy or firewall), not your credentials: {error}",
            err,
        )
    except (ClientError, BotoCoreError) as error:
        return _refuse(str(error), err)
    except KeyboardInterrupt:
        print("\ninterrupted", file=err)
        return 130


def run_lookup(arguments: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    window = TimeWindow.parse(arguments.since, arguments.until)
    target = resolve_target(_target_options(arguments), needs_topic=False)
    # The indexes hold GUIDs in their canonical lower case, whatever the case Zenoti (or you) wrote them in.
    if arguments.center:
        index, key, value, whose = "by_center", "center_id", arguments.center.lower(), f"center {arguments.center}"
    elif arguments.guest:
        index, key, value, whose = "by_guest", "guest_id", arguments.guest.lower(), f"guest {arguments.guest}"
    else:
        whose = f"employee {arguments.employee}"
        index, key, value = "by_employee", "employee_id", arguments.employee.lower()
    events = stored_events.events_of(target.dynamodb, target.table_name, index, key, value, window)
    if not events:  # an answer, not a failure: said on stderr, so that a pipe of JSON lines stays empty
        print(f"no stored events of {whose}{window.describe()} in table {target.table_name}", file=err)
    if arguments.format == "jsonl":
        lookup.print_jsonl(events, out)
    else:
        lookup.print_table(events, out)
    return EXIT_DONE


def run_replay(arguments: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    window = TimeWindow.parse(arguments.since, arguments.until)
    if arguments.event_id and (arguments.center or not window.is_open):
        raise OperatorError("choose events either by --event-id or by --center/--since/--until, not both")
    if not arguments.event_id and not arguments.center and window.is_open:
        raise OperatorError("choose the events to replay: --event-id, --center, or a window (--since/--until)")
    target = resolve_target(_target_options(arguments), needs_topic=True)
    if target.topic_arn is None:
        raise OperatorError("no topic to publish to: pass --topic-arn")
    events = _events_to_replay(arguments, window, target.dynamodb, target.table_name)
    if not events:
        print(f"Nothing to replay: {_selection(arguments, window)} in table {target.table_name}.", file=out)
        return EXIT_DONE
    replay.replay(events, target.sns, target.topic_arn, dry_run=arguments.dry_run, out=out, err=err)
    return EXIT_DONE


def run_republish(arguments: argparse.Namespace, out: TextIO) -> int:
    options = _target_options(arguments)
    names = {
        TABLE_OUTPUT: options.table,
        TOPIC_OUTPUT: options.topic_arn,
        FAILURES_QUEUE_OUTPUT: arguments.failures_queue_url,
    }
    deployment = resolve_deployment(options, names)
    republish.republish(
        deployment.aws.client("dynamodb"),
        deployment.aws.client("sns"),
        deployment.aws.client("sqs"),
        deployment.names[TABLE_OUTPUT],
        deployment.names[TOPIC_OUTPUT],
        deployment.names[FAILURES_QUEUE_OUTPUT],
        dry_run=arguments.dry_run,
        out=out,
    )
    return EXIT_DONE


def run_held(arguments: argparse.Namespace, out: TextIO) -> int:
    options = _target_options(arguments)
    action = arguments.action
    if action == "promote":
        target, events_table = held.resolve_with_events(options, arguments.events_table)
        return promote.promote(target, events_table, arguments.body_sha256, out)
    redriving = action == "redrive"
    target = held.resolve(
        options, getattr(arguments, "webhook_url", None), needs_webhook=redriving, needs_alarms=action == "dismiss"
    )
    if redriving:
        return held.redrive(target, arguments.body_sha256, out, slot=arguments.with_token)
    if action == "show":
        return held.show(target, arguments.body_sha256, out)
    if action == "dismiss":
        return held.dismiss(target, arguments.body_sha256, arguments.note or "", out)
    if action == "purge":
        since, until = _window_text(arguments)
        token = _token_filter(arguments, required=False)
        if since is None and until is None and token is None:
            raise OperatorError("choose what to purge: --since/--until (first delivery) and/or --token-version")
        filters = held.Filters(since=since, until=until, token_used=token.values() if token else ())
        return held.purge(target, filters, arguments.dry_run, out)
    page = held.entries(target, arguments.limit, arguments.after, held.Filters(state=arguments.state))
    held.print_entries(page, out, as_jsonl=arguments.format == "jsonl")
    return EXIT_DONE


def run_forensics(arguments: argparse.Namespace, out: TextIO) -> int:
    token = _token_filter(arguments, required=True)
    assert token is not None
    target, events_table = held.resolve_with_events(_target_options(arguments), arguments.events_table)
    since, until = _window_text(arguments)
    if arguments.action == "list":
        return forensics.list_token(target, events_table, token, since, until, out)
    return forensics.purge_token(
        target, events_table, token, since, until, events=arguments.events, dry_run=arguments.dry_run, out=out
    )


def _window_text(arguments: argparse.Namespace) -> tuple[str | None, str | None]:
    """--since/--until as the tables write times (fixed-width UTC), to compare with first_seen and received_at."""
    window = TimeWindow.parse(arguments.since, arguments.until)
    return (
        stored_events.occurred_at_text(window.since) if window.since else None,
        stored_events.occurred_at_text(window.until) if window.until else None,
    )


def _token_filter(arguments: argparse.Namespace, *, required: bool) -> forensics.TokenFilter | None:
    exact, versions = tuple(arguments.token or ()), tuple(arguments.token_version or ())
    if not exact and not versions:
        if required:
            raise OperatorError("name the token: --token SLOT:VERSION_ID or --token-version VERSION_ID")
        return None
    return forensics.TokenFilter(exact, versions)


def run_token(arguments: argparse.Namespace, out: TextIO) -> int:
    options = TargetOptions(
        stack_name=arguments.stack_name, region=arguments.region, endpoint_url=arguments.endpoint_url
    )
    target = webhook_token.resolve(options, arguments.secret_id)
    if arguments.action == "rotate":
        return webhook_token.rotate(target, out, force=arguments.force, print_url=arguments.print_url)
    return webhook_token.drop_previous(target, out)


def _events_to_replay(
    arguments: argparse.Namespace, window: TimeWindow, dynamodb: Any, table: str
) -> list[StoredEvent]:
    if arguments.event_id:
        return stored_events.in_time_order(stored_events.events_by_id(dynamodb, table, arguments.event_id))
    if arguments.center:
        events = stored_events.events_of(dynamodb, table, "by_center", "center_id", arguments.center, window)
    else:
        events = stored_events.events_in_window(dynamodb, table, window)
    return stored_events.in_time_order(events)


def _selection(arguments: argparse.Namespace, window: TimeWindow) -> str:
    chosen = f"center {arguments.center}" if arguments.center else "any center"
    return f"no stored events of {chosen}{window.describe()}"


def _refuse(message: str, err: TextIO) -> int:
    print(f"error: {' '.join(message.splitlines())}", file=err)  # one line, whatever AWS said
    return EXIT_REFUSED


def _target_options(arguments: argparse.Namespace) -> TargetOptions:
    return TargetOptions(
        stack_name=arguments.stack_name,
        region=arguments.region,
        local=arguments.local,
        endpoint_url=arguments.endpoint_url,
        table=arguments.table,
        topic_arn=getattr(arguments, "topic_arn", None),
    )


def _parser() -> argparse.ArgumentParser:
    where = _where("DynamoDB table name, instead of the stack's EventsTableName output")
    window = argparse.ArgumentParser(add_help=False)
    window.add_argument("--since", metavar="ISO", help=WINDOW_HELP)
    window.add_argument("--until", metavar="ISO", help="see --since")

    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    _add_lookup(commands, where, window)
    _add_replay(commands, where, window)
    received = argparse.ArgumentParser(add_help=False)
    received.add_argument(
        "--since",
        metavar="ISO",
        help="ISO 8601 date or time, compared with when a body was first held or an event received; without an "
        "offset it is UTC. [--since, --until): since included, until excluded.",
    )
    received.add_argument("--until", metavar="ISO", help="see --since")
    _add_held(commands, received)
    _add_forensics(commands, received)
    _add_republish(commands, where)
    _add_smoke(commands, where)
    _add_token(commands)
    return parser


def _add_stack(options: Any, whose: str) -> None:
    """--stack-name and --region: the deployed stack a command reads its outputs from."""
    options.add_argument(
        "--stack-name",
        metavar="NAME",
        default=DEFAULT_STACK_NAME,
        help=f"deployed stack {whose} (default {DEFAULT_STACK_NAME})",
    )
    options.add_argument("--region", help="AWS region of the stack (default: your AWS configuration's)")


def _where(table_help: str) -> argparse.ArgumentParser:
    where = argparse.ArgumentParser(add_help=False)
    options = where.add_argument_group("where the events are")
    _add_stack(options, "whose outputs name the table and topic")
    options.add_argument(
        "--local",
        action="store_true",
        help=f"the stack that `make serve` runs: {LOCAL_ENDPOINT}, table {LOCAL_TABLE} (dummy credentials)",
    )
    options.add_argument(
        "--endpoint-url",
        metavar="URL",
        help=f"AWS endpoint to call: AWS's own, over https (with --local: any, default {LOCAL_ENDPOINT})",
    )
    options.add_argument("--table", metavar="NAME", help=table_help)
    return where


def _add_lookup(commands: Any, where: argparse.ArgumentParser, window: argparse.ArgumentParser) -> None:
    found = commands.add_parser(
        "lookup",
        parents=[where, window],
        help="list the stored events of one center, guest or employee, with their type and header names",
        description="List the stored events of one center, guest or employee, in time order, with each event's "
        "type, the resource it is about and the names of its request's headers (never their values) "
        "(a Query on the by_center, by_guest or by_employee index; never a Scan).",
    )
    whose = found.add_mutually_exclusive_group(required=True)
    whose.add_argument("--center", metavar="UUID", help="a center_id (index by_center)")
    whose.add_argument("--guest", metavar="UUID", help="a guest_id (index by_guest)")
    whose.add_argument("--employee", metavar="UUID", help="an employee_id (index by_employee)")
    found.add_argument("--format", choices=("table", "jsonl"), default="table", help="table (default) or jsonl")


def _add_replay(commands: Any, where: argparse.ArgumentParser, window: argparse.ArgumentParser) -> None:
    again = commands.add_parser(
        "replay",
        parents=[where, window],
        help="publish stored events to the topic again",
        description="Publish stored events to the topic again, in time order: the stored body verbatim, with "
        "the attributes the function sends (event_type, event_resource, center_id) and replay=true. "
        "Choose them by --event-id; by --center, optionally in a window (a Query on the by_center index); "
        "or by a window alone, which needs a Scan of the whole table filtered on occurred_at "
        "(it reads, and is billed for, every item).",
    )
    again.add_argument(
        "--event-id", action="append", metavar="ID", help="an event to replay (repeat for more); all must exist"
    )
    again.add_argument("--center", metavar="UUID", help="replay this center's events (index by_center)")
    again.add_argument("--dry-run", action="store_true", help="print what would be published; send nothing")
    again.add_argument(
        "--topic-arn",
        metavar="ARN",
        help=f"SNS topic, instead of the stack's EventsTopicArn output (--local: {LOCAL_TOPIC_ARN})",
    )


def _token_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--token",
        action="append",
        metavar="SLOT:VERSION_ID",
        help="a token as the tables record it (token_used): current:V or previous:V, V a version id of the "
        "secret (aws secretsmanager list-secret-version-ids); repeat for more",
    )
    parser.add_argument(
        "--token-version", action="append", metavar="VERSION_ID", help="both tokens of this version of the secret"
    )


def _add_held(commands: Any, window: argparse.ArgumentParser) -> None:
    where = _where("held bodies table name, instead of the stack's HeldBodiesTableName output")
    kept = commands.add_parser(
        "held",
        help="list, show, re-drive, dismiss, purge or promote the held bodies (authenticated, not stored as events)",
        description="Authenticated bodies the receiver did not store as events (answered 202 held, or a "
        "conflicting duplicate) are held, once per body (sha256), with why. ID: an entry's body_sha256, or its "
        "first characters (at least 6) as `held list` shows them.",
    )
    actions = kept.add_subparsers(dest="action", required=True)
    listing = actions.add_parser(
        "list",
        parents=[where],
        help="list the held bodies, a page at a time, with each one's type and main reason",
        description="A page of entries, oldest first within it, never their bodies: a Scan with a projection "
        "and a limit: a flooded table is read a page at a time, and no body is sent or decompressed. The last line "
        "says how to get the next page.",
    )
    listing.add_argument(
        "--limit", type=int, default=held.DEFAULT_PAGE, help=f"entries per page (default {held.DEFAULT_PAGE})"
    )
    listing.add_argument("--after", metavar="ID", help="the page after this entry (the last line of the page before)")
    listing.add_argument(
        "--state", choices=("held", "redriven", "dismissed", "promoted"), help="only entries in this state"
    )
    listing.add_argument("--format", choices=("table", "jsonl"), default="table", help="table (default) or jsonl")
    shown = actions.add_parser(
        "show", parents=[where], help="one held body: why, when, the request's header names, and the body"
    )
    shown.add_argument("body_sha256", metavar="ID", help="the entry's id, as `held list` shows it")
    redrive = actions.add_parser(
        "redrive",
        parents=[where],
        help="send one held body to the webhook again, as Zenoti would",
        description="POST the held body to the webhook with the token (from the stack's secret, or the local "
        "one), once its cause is fixed: it is stored and published exactly once, as a delivery would be, and "
        "the entry is marked redriven. Held again (exit 1): it stays, its delivery count goes up. The token is "
        "the one of the slot the body came with; a body that came with a rotation's previous token is re-driven "
        "only with --with-token.",
    )
    redrive.add_argument("body_sha256", metavar="ID", help="the entry's id, as `held list` shows it")
    redrive.add_argument(
        "--webhook-url",
        metavar="URL",
        help="where the token may go: the stack's WebhookUrl output (the default, https) only; "
        f"with --local a webhook on this machine (default {LOCAL_WEBHOOK})",
    )
    redrive.add_argument(
        "--with-token",
        choices=("current", "previous"),
        help="re-drive with this token of the secret, not the one the body came with",
    )
    dismiss = actions.add_parser(
        "dismiss",
        parents=[where],
        help="mark an entry that needs no action (a test delivery, an unwanted type); clears its alarm",
        description="Mark the entry dismissed. When no entry of its reason is still held, that reason's alarm "
        "is set to OK (a deployed stack's), so the next body held for it notifies again.",
    )
    dismiss.add_argument("body_sha256", metavar="ID", help="the entry's id, as `held list` shows it")
    dismiss.add_argument("--note", help="why it needs no action, kept with the entry")
    purge = actions.add_parser(
        "purge",
        parents=[where, window],
        help="delete held bodies first delivered in a time range, or brought by a token",
        description="Delete the entries first delivered in [--since, --until), or that a token brought "
        "(--token-version), or both. A Scan of the table (it reads, and is billed for, every entry), then one "
        "write unit per entry deleted.",
    )
    _token_options(purge)
    purge.add_argument("--dry-run", action="store_true", help="count what would be purged; delete nothing")
    promoted = actions.add_parser(
        "promote",
        parents=[where],
        help="make a held conflicting duplicate the event of record, keeping the one it replaces held",
        description="For an event_id someone stored first (a planted event): the stored item is deleted and its "
        "body held, the held body stored as the event of record, and the table's stream publishes it once.",
    )
    promoted.add_argument("body_sha256", metavar="ID", help="the entry's id, as `held list` shows it")
    promoted.add_argument("--events-table", metavar="NAME", help="events table, instead of the stack's EventsTableName")


def _add_forensics(commands: Any, window: argparse.ArgumentParser) -> None:
    where = _where("held bodies table name, instead of the stack's HeldBodiesTableName output")
    found = commands.add_parser(
        "forensics",
        help="list or purge what one token (a secret version, a slot) stored or held: after a leak",
        description=forensics.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = found.add_subparsers(dest="action", required=True)
    for name, summary in (
        ("list", "the events the token stored and the bodies it held, as JSON lines"),
        ("purge", "delete the bodies the token held; with --events, the events it stored too"),
    ):
        action = actions.add_parser(name, parents=[where, window], help=summary)
        _token_options(action)
        action.add_argument(
            "--events-table", metavar="NAME", help="events table, instead of the stack's EventsTableName"
        )
        if name == "purge":
            action.add_argument(
                "--events",
                action="store_true",
                help="delete the stored events too (nothing is published); Zenoti's own events of the same token "
                "go as well: narrow it with --since/--until",
            )
            action.add_argument("--dry-run", action="store_true", help="say what would be purged; delete nothing")


def _add_republish(commands: Any, where: argparse.ArgumentParser) -> None:
    again = commands.add_parser(
        "republish",
        parents=[where],
        help="publish what the publisher gave up on (PublicationFailuresAlarm), from the table",
        description="Publish the events of every batch the publisher's stream mapping gave up on (older than the"
        " stream's 24 hours), read from the table, and empty the failure queue of them. Subscribers deduplicate"
        " by event_id: an event published before is harmless.",
    )
    again.add_argument("--dry-run", action="store_true", help="print what would be published; send nothing")
    again.add_argument("--topic-arn", metavar="ARN", help="SNS topic, instead of the stack's EventsTopicArn output")
    again.add_argument(
        "--failures-queue-url",
        metavar="URL",
        help="SQS queue of what the publisher gave up on, instead of the stack's PublicationFailuresQueueUrl output",
    )


def _add_smoke(commands: Any, where: argparse.ArgumentParser) -> None:
    commands.add_parser(
        "smoke",
        parents=[where],
        help="after a deploy: deliver one made-up event to the stack's URL, find it stored, see it published",
        description=smoke.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_token(commands: Any) -> None:
    where = argparse.ArgumentParser(add_help=False)
    options = where.add_argument_group("which secret")
    _add_stack(options, "whose output WebhookTokenSecretArn names the secret")
    options.add_argument("--endpoint-url", metavar="URL", help="AWS endpoint to call, https only")
    options.add_argument("--secret-id", metavar="ARN", help="the secret itself, instead of the stack's output")
    token = commands.add_parser(
        "token",
        help="rotate the webhook token without losing events",
        description="The webhook token, in the stack's secret. The new token is generated here and written to "
        "the secret (PutSecretValue): never typed, so never in your shell history, and printed only with "
        "--print-url. You need secretsmanager:GetSecretValue and PutSecretValue on the secret "
        "(and, with TokenAdminPrincipalArns, to be one of them; with TokenReaderPrincipalArns alone, a reader).",
    )
    actions = token.add_subparsers(dest="action", required=True)
    rotate = actions.add_parser(
        "rotate",
        parents=[where],
        help="write a new token; the one in force stays accepted as previous_token",
        description="Write a new token to the secret and keep the one in force as previous_token: the receiver "
        "accepts both, so Zenoti's URL keeps working until you change it. Refused while a rotation is under way "
        "(previous_token present).",
    )
    rotate.add_argument(
        "--print-url",
        action="store_true",
        help="print the new webhook URL, token included (it is printed nowhere else)",
    )
    rotate.add_argument(
        "--force",
        action="store_true",
        help="rotate even during a rotation (the older previous_token is dropped) or over a malformed secret",
    )
    actions.add_parser(
        "drop-previous",
        parents=[where],
        help="end a rotation: stop accepting previous_token",
        description="Remove previous_token from the secret, once Zenoti's URL carries the new token: the old one "
        "stops being accepted within TokenCacheSeconds.",
    )
