"""Run the receiver locally, without Docker or an AWS account.

python -m local_stack invoke events/apigw_booking_deleted.json   # like `sam local invoke -e`
python -m local_stack serve [--port 3000] [--emulator-port 5000] # like `sam local start-api`
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from local_stack.receiver import FAKE_CREDENTIALS, LocalReceiver, report
from local_stack.resources import LOCAL_TOKEN, REGION, create_resources
from local_stack.server import PortInUse, local_stack, publishing_pending_every


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    invoke = commands.add_parser("invoke", help="run the handler once on an API Gateway event file")
    invoke.add_argument("event", type=Path, help="for example events/apigw_booking_deleted.json")
    serve = commands.add_parser("serve", help="serve the webhook route over HTTP, backed by an AWS emulator")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=3000, help="webhook port (default 3000)")
    serve.add_argument("--emulator-port", type=int, default=5000, help="AWS emulator (moto) port (default 5000)")
    serve.add_argument(
        "--pending-every",
        type=float,
        default=60,
        metavar="SECONDS",
        help="run the publisher of pending events this often, as the deployed schedule does (default 60)",
    )
    arguments = parser.parse_args(argv)
    os.environ.update(FAKE_CREDENTIALS)
    if arguments.command == "invoke":
        return run_invoke(arguments.event)
    return run_serve(arguments.host, arguments.port, arguments.emulator_port, arguments.pending_every)


def run_invoke(event_file: Path) -> int:
    try:
        event = json.loads(event_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"cannot read {event_file}: {error}", file=sys.stderr)
        return 2
    from moto import mock_aws

    # The embedded emulator only intercepts when no endpoint is configured.
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        receiver = LocalReceiver(create_resources())
        result = receiver.invoke(event)
        report(receiver, result)
    return 0


def run_serve(host: str, port: int, emulator_port: int, pending_every: float) -> int:
    try:
        with local_stack(host, port, emulator_port) as stack, publishing_pending_every(stack, pending_every):
            print(
                f"Webhook:       POST, PUT or PATCH {stack.url_with_token}\n"
                f"Local token:   {LOCAL_TOKEN}\n"
                f"AWS emulator:  {stack.endpoint} (region {REGION}, any credentials)\n"
                f"  aws --endpoint-url {stack.endpoint} --region {REGION} dynamodb scan"
                f" --table-name {stack.resources.table_name}\n"
                f"Pending:       the publisher of pending events runs every {pending_every:g} s\n"
                f"Try:           curl -X POST -H 'content-type: application/json' "
                f"--data-binary @events/booking_deleted.json '{stack.url_with_token}'\n"
                "Ctrl-C stops.",
                flush=True,
            )
            stack.http.serve_forever()
    except PortInUse as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nStopping.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
