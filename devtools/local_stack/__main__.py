"""Run the receiver locally, without Docker or an AWS account.
`invoke EVENT...` is like `sam local invoke -e`, `serve` like `sam local start-api` (docs/local.md)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from devtools.local_stack.guard import is_loopback, printable, use_dummy_credentials
from devtools.local_stack.receiver import LocalReceiver, describe_messages, describe_publication, describe_result
from devtools.local_stack.resources import FUNCTION, PUBLISHER_FUNCTION, create_resources, take_messages
from devtools.local_stack.server import STREAM_POLL_SECONDS, TERMINAL_QUEUE, CannotListen, local_stack
from devtools.local_stack.template import REPO
from ops.local import EMULATOR_PORT, FAKE_CREDENTIALS, LOCAL_TOKEN, REGION, WEBHOOK_PORT, local_names

# One sample body of each family, events/<name>.json (events/README.md), in the catalog's order; the Makefile's FAMILY.
FAMILY = (
    "booking_deleted", "class_schedule_created", "guest_created", "guest_membership_created", "guest_pass_redeemed",
    "guest_package_creation", "appointment_started", "appointment_group_created", "employee_created", "invoice_closed",
)  # fmt: skip
# How long serve's function keeps the token it read, instead of the deployed 300 s: a token changed with
# put-secret-value works at once (the tool's default, --token-cache-seconds to change).
LOCAL_TOKEN_CACHE_SECONDS = 2.0
MODE = "The functions run in this process (imported from src/, as Lambda imports them), against an AWS emulator"
# The keys the AWS CLI commands serve prints put in front (the region is their --region): the emulator takes any
# credentials, the CLI wants some.
DUMMY_CREDENTIALS = " ".join(f"{name}={value}" for name, value in FAKE_CREDENTIALS.items() if "_KEY" in name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.local_stack", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    invoke = commands.add_parser("invoke", help="run a function once on each event file (the event says which)")
    invoke.add_argument("events", type=Path, nargs="+", metavar="event", help="e.g. events/apigw_booking_deleted.json")
    serve = commands.add_parser("serve", help="serve the webhook route on 127.0.0.1, backed by an AWS emulator")
    serve.add_argument("--port", type=int, default=WEBHOOK_PORT, help=f"webhook port (default {WEBHOOK_PORT})")
    serve.add_argument("--emulator-host", default="127.0.0.1", help="the AWS emulator's address (default 127.0.0.1)")
    serve.add_argument("--emulator-port", type=int, default=EMULATOR_PORT, help=f"its port (default {EMULATOR_PORT})")
    seconds = f"how long the function keeps the token it read (default {LOCAL_TOKEN_CACHE_SECONDS:g}; deployed 300)"
    serve.add_argument("--token-cache-seconds", type=float, default=LOCAL_TOKEN_CACHE_SECONDS, help=seconds)
    arguments = parser.parse_args(argv)
    use_dummy_credentials()
    return run_invoke(arguments.events) if arguments.command == "invoke" else run_serve(arguments)


def function_for(event: Any) -> str | None:
    """Which function of the stack takes this event: by its shape, as each function's trigger sends it."""
    if not isinstance(event, dict):
        return None
    context = event.get("requestContext")
    if isinstance(context, dict) and ("http" in context or "resourcePath" in context):
        return FUNCTION  # API Gateway: the HTTP API (payload 2.0), or the WAF front door's REST API (1.0)
    records = event["Records"] if isinstance(event.get("Records"), list) else []
    if records and all(isinstance(record, dict) and record.get("eventSource") == "aws:dynamodb" for record in records):
        return PUBLISHER_FUNCTION  # the events table's stream, as Lambda's event source mapping sends it
    return None


def wrong_event(event_file: Path) -> str:
    gateway_events = ", ".join(f"events/{path.name}" for path in sorted((REPO / "events").glob("apigw_*.json")))
    return (
        f"{event_file} is not an event of this stack's functions: {FUNCTION} takes an API Gateway event (HTTP"
        f" API, payload 2.0; the WAF front door's REST API, 1.0) ({gateway_events}); {PUBLISHER_FUNCTION} takes a"
        " batch of the events table's stream (events/stream_booking_deleted.json). A bare body such as"
        " events/booking_deleted.json is what Zenoti sends: POST it to `make serve` with curl."
    )


def run_invoke(event_files: list[Path]) -> int:
    """Each event, in order, to the function it is for, against one emulator: what one stored, the next sees."""
    events = []
    for event_file in event_files:
        try:
            event = json.loads(event_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            print(f"cannot read {event_file}: {error}", file=sys.stderr)
            return 2
        if (function := function_for(event)) is None:
            print(wrong_event(event_file), file=sys.stderr)
            return 2
        events.append((event_file, function, event))
    from moto import mock_aws

    # The embedded emulator only intercepts when no endpoint is configured.
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        receiver = LocalReceiver(create_resources())
        print(MODE, flush=True)
        for event_file, function, event in events:
            if len(events) > 1:
                print(f"\n##### {event_file} #####", flush=True)
            if function == PUBLISHER_FUNCTION:
                answer = receiver.invoke_publisher(event)
                report = f"\n=== {PUBLISHER_FUNCTION} answered ===\n{json.dumps(answer)}\n"
            else:
                # What the function stored, then what Lambda's poller of the stream does with it.
                report = describe_result(receiver, event, receiver.invoke(event))
                report += describe_publication(receiver.stream.drain())
            queue_url = receiver.resources.subscriber_queue_url
            report += describe_messages(queue_url, take_messages(receiver.sqs, queue_url))
            print(printable(report), end="", flush=True)  # what a request sent, control characters escaped
    return 0


def run_serve(arguments: argparse.Namespace) -> int:
    # `kill` stops it as Ctrl-C does: the emulator is stopped with it.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    seconds, names = arguments.token_cache_seconds, local_names()
    overrides = {"TOKEN_CACHE_SECONDS": f"{seconds:g}"}
    try:
        with local_stack(arguments.port, arguments.emulator_host, arguments.emulator_port, overrides) as stack:
            url = f"{stack.webhook_url}?token={LOCAL_TOKEN}"
            aws = f"{DUMMY_CREDENTIALS} aws --endpoint-url {stack.endpoint} --region {REGION}"
            print(
                f"Mode:          {MODE}\n"
                f"Webhook:       POST, PUT or PATCH {url}\n"
                f"Local token:   {LOCAL_TOKEN}; the function reads the secret again after"
                f" {seconds:g} s (TOKEN_CACHE_SECONDS), so a new token works at once:\n"
                f"  {aws} secretsmanager put-secret-value --secret-id {names.secret_name}"
                ' --secret-string \'{"token": "<new token>"}\'\n'
                f"AWS emulator:  {stack.endpoint} (region {REGION}; it takes any credentials, but the AWS CLI"
                " wants some):\n"
                f"  {aws} dynamodb scan --table-name {names.table_name}\n"
                f"Subscriber:    SQS queue {names.queue_name} (raw delivery; dead letters:"
                f" {names.dead_letter_queue_name}), for a consumer of your own; this terminal shows each message the"
                f" topic sends, read from a queue of its own ({TERMINAL_QUEUE})\n"
                f"Publisher:     invoked by the table's stream, as Lambda does, {1 / STREAM_POLL_SECONDS:g} times a"
                " second: each event is published once stored\n"
                "State:         in memory only: everything is gone when serve stops\n"
                + _exposure_warning(arguments.emulator_host)
                + "Try:           one event of each family, on the one URL (docs/families.md lists every type):\n"
                f"  for sample in {' '.join(FAMILY)}; do curl -X POST -H 'content-type: application/json'"
                f" --data-binary @events/$sample.json '{url}'; echo; done\n"
                "Ctrl-C stops.",
                flush=True,
            )
            threading.Event().wait()  # until Ctrl-C: the stack serves in the background
    except CannotListen as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nStopping.", flush=True)
    return 0


def _exposure_warning(emulator_host: str) -> str:
    if is_loopback(emulator_host):
        return ""
    return (
        f"WARNING:       the AWS emulator listens on {emulator_host}, not only this machine's loopback: moto's"
        " server has no authentication, and its Lambda runs the code it is sent (in Docker, where there is"
        " one). Whoever reaches that address controls it.\n"
    )


if __name__ == "__main__":
    sys.exit(main())
