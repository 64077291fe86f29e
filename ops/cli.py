"""python -m ops: replay stored events, look stored events up, list, show and re-drive held bodies.

python -m ops lookup --center UUID | --guest UUID | --employee UUID [--since ISO] [--until ISO] [--format table|jsonl]
python -m ops replay --event-id ID [--event-id ID ...] | --center UUID | --since/--until  [--dry-run]
python -m ops held list [--format table|jsonl]
python -m ops held show BODY_SHA256
python -m ops held redrive BODY_SHA256 [--webhook-url URL]
python -m ops republish [--dry-run]
python -m ops token rotate [--print-url] [--force] | token drop-previous   (never on the command line)
Against the deployed stack (--stack-name, default zenoti-booking-deleted) or `make serve` (--local).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, NoCredentialsError, NoRegionError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from ops import held, lookup, replay, republish, stored_events, webhook_token
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
        if arguments.command == "republish":
            return run_republish(arguments, out)
        if arguments.command == "token":
            return run_token(arguments, out)
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
    redriving = arguments.action == "redrive"
    target = held.resolve(_target_options(arguments), getattr(arguments, "webhook_url", None), needs_webhook=redriving)
    if redriving:
        return held.redrive(target, arguments.body_sha256, out)
    if arguments.action == "show":
        return held.show(target, arguments.body_sha256, out)
    held.print_entries(held.entries(target), out, as_jsonl=arguments.format == "jsonl")
    return EXIT_DONE


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
    _add_held(commands)
    _add_republish(commands, where)
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


def _add_held(commands: Any) -> None:
    where = _where("held bodies table name, instead of the stack's HeldBodiesTableName output")
    kept = commands.add_parser(
        "held",
        help="list, show or re-drive the held bodies (authenticated, not events the receiver stores)",
        description="Authenticated bodies the receiver did not store as events (answered 202 held, or a "
        "conflicting duplicate) are held, once per body (sha256), with why.",
    )
    actions = kept.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", parents=[where], help="list the held bodies, oldest first")
    listing.add_argument("--format", choices=("table", "jsonl"), default="table", help="table (default) or jsonl")
    shown = actions.add_parser(
        "show", parents=[where], help="one held body: why, when, the request's header names, and the body"
    )
    shown.add_argument("body_sha256", help="the entry's body_sha256, as `held list` shows it")
    redrive = actions.add_parser(
        "redrive",
        parents=[where],
        help="send one held body to the webhook again, as Zenoti would",
        description="POST the held body to the webhook with the token (from the stack's secret, or the local "
        "one), once its cause is fixed: it is stored and published exactly once, as a delivery would be, and "
        "the entry is marked redriven. Held again (exit 1): it stays, its delivery count goes up.",
    )
    redrive.add_argument("body_sha256", help="the entry's body_sha256, as `held list` shows it")
    redrive.add_argument(
        "--webhook-url",
        metavar="URL",
        help="where the token may go: the stack's WebhookUrl output (the default, https) only; "
        f"with --local a webhook on this machine (default {LOCAL_WEBHOOK})",
    )


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
