"""Run the subscriber against the receiver's local stack (`make serve` in the receiver's repository).

python -m subscriber_local [--endpoint-url http://127.0.0.1:5000] [--topic-arn ARN] [--queue-url URL]
                           [--max-messages N]

Creates the example's queues and tables in the emulator as template.yaml declares them, subscribes the
queue to the topic, then polls it as Lambda's event source mapping does, invoking the real handler, and
prints what each message became and what the action recorded. With --queue-url it polls that queue
instead (the receiver's raw-delivery queue, for instance), subscribes nothing, and tells the function
the shape that queue's subscription to the topic delivers (its RawMessageDelivery), as the template
does for its own. Ctrl-C or SIGTERM stops it (exit 0).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
from typing import Any, TextIO

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError

from subscriber_local import function_code
from subscriber_local.event_source import Invocation, QueueEventSource
from subscriber_local.resources import LOCAL_TOPIC_ARN, REGION, SubscriberResources, create_resources

LOCAL_ENDPOINT = "http://127.0.0.1:5000"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
# What would win over the dummy credentials, or sign with them: a developer's session token, profile, config.
DEVELOPERS_OWN = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
POLL_SECONDS = 2  # long polling, short enough for Ctrl-C to stop promptly


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m subscriber_local", description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", default=LOCAL_ENDPOINT, help=f"the AWS emulator (default {LOCAL_ENDPOINT})")
    parser.add_argument(
        "--topic-arn", default=LOCAL_TOPIC_ARN, help=f"the receiver's topic (default {LOCAL_TOPIC_ARN})"
    )
    parser.add_argument(
        "--queue-url",
        help="poll this queue instead of the example's own, e.g. the receiver's raw-delivery one",
    )
    parser.add_argument("--max-messages", type=int, help="stop after this many messages (default: run until Ctrl-C)")
    arguments = parser.parse_args(argv)
    # A terminal's Ctrl-C and a process manager's SIGTERM (timeout, a supervisor, `kill`) stop it alike, at any
    # moment: a batch being handled is cut short and comes back after the visibility timeout, as when Lambda stops.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _run(arguments, out)
    except KeyboardInterrupt:
        print("\nStopping.", file=out, flush=True)
        return 0


def _run(arguments: argparse.Namespace, out: TextIO) -> int:
    use_dummy_credentials()
    os.environ["AWS_DEFAULT_REGION"] = REGION
    os.environ["AWS_ENDPOINT_URL"] = arguments.endpoint_url  # the standard setting: every boto3 client goes there
    session = boto3.session.Session(region_name=REGION)
    sqs = session.client("sqs", endpoint_url=arguments.endpoint_url)
    sns = session.client("sns", endpoint_url=arguments.endpoint_url)
    try:
        parameters = {}
        if arguments.queue_url:
            queue_url = arguments.queue_url
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            subscribed_raw = raw_message_delivery(sns, arguments.topic_arn, queue_arn)
            if subscribed_raw is None:
                print(f"error: {queue_url} has no subscription to {arguments.topic_arn} (--topic-arn)", file=out)
                return 2
            parameters["RawMessageDelivery"] = subscribed_raw
        resources = create_resources(
            session,
            arguments.topic_arn,
            endpoint_url=arguments.endpoint_url,
            subscribe=arguments.queue_url is None,
            parameters=parameters,
        )
        if not arguments.queue_url:
            queue_url, queue_arn = resources.queue_url, resources.queue_arn
    except EndpointConnectionError:
        print(f"error: no AWS emulator at {arguments.endpoint_url}; start `make serve` in the receiver first", file=out)
        return 2
    except ClientError as error:
        print(f"error: {error} (is {arguments.topic_arn} the topic `make serve` printed?)", file=out)
        return 2

    os.environ.update(resources.function_environment)
    function_code.put_on_path()
    handler = importlib.import_module("booking_subscriber.handler")
    dynamodb = session.client("dynamodb", endpoint_url=arguments.endpoint_url)
    source = QueueEventSource(sqs, queue_url, queue_arn, handler.lambda_handler)
    raw = resources.function_environment["RAW_MESSAGE_DELIVERY"] == "true"
    shape = "raw deliveries" if raw else "SNS notifications"
    if arguments.queue_url:
        where = f"Queue {queue_url} (its own subscription and dead-letter queue), {shape}\n"
    else:
        where = (
            f"Queue {queue_url} subscribed to {arguments.topic_arn}, {shape}\n"
            f"  dead-letter queue {resources.dead_letter_queue_url} after {resources.max_receive_count} receives\n"
        )
    print(
        f"{where}  events recorded in table {resources.deletions_table_name}\nWaiting for messages; Ctrl-C stops.",
        file=out,
        flush=True,
    )
    seen = 0
    while arguments.max_messages is None or seen < arguments.max_messages:
        invocation = source.poll(wait_seconds=POLL_SECONDS)
        if invocation is not None:
            seen += len(invocation.event["Records"])
            report(invocation, dynamodb, resources, out, own_queue=not arguments.queue_url, raw=raw)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # Python's own Ctrl-C


def raw_message_delivery(sns: Any, topic_arn: str, queue_arn: str) -> str | None:
    """The RawMessageDelivery ("true" or "false") of the queue's subscription to the topic; None if none."""
    paginator = sns.get_paginator("list_subscriptions_by_topic")
    for page in paginator.paginate(TopicArn=topic_arn):
        for subscription in page["Subscriptions"]:
            if subscription["Protocol"] == "sqs" and subscription["Endpoint"] == queue_arn:
                attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])
                return "true" if attributes["Attributes"].get("RawMessageDelivery") == "true" else "false"
    return None


def use_dummy_credentials() -> None:
    """The emulator gets dummy credentials, over plain HTTP: never the developer's exported ones or profile."""
    for name in DEVELOPERS_OWN:
        os.environ.pop(name, None)
    os.environ.update(FAKE_CREDENTIALS)
    os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


def report(
    invocation: Invocation,
    dynamodb: Any,
    resources: SubscriberResources,
    out: TextIO,
    *,
    own_queue: bool = True,
    raw: bool = False,
) -> None:
    print(f"\n<<< batch of {len(invocation.event['Records'])}: {json.dumps(invocation.response)}", file=out)
    for message in invocation.deleted:
        event_id = _event_id(message["Body"], raw=raw)
        item = dynamodb.get_item(
            TableName=resources.deletions_table_name, Key={"event_id": {"S": event_id or ""}}, ConsistentRead=True
        ).get("Item")
        recorded = {name: next(iter(value.values())) for name, value in sorted((item or {}).items())}
        print(f"done    {message['MessageId']}  event_id {event_id}\n  recorded: {json.dumps(recorded)}", file=out)
    for message in invocation.kept:
        of = f" of {resources.max_receive_count}" if own_queue else ""
        print(
            f"failed  {message['MessageId']}  receive {message['Attributes']['ApproximateReceiveCount']}{of}; "
            "delivered again after the visibility timeout",
            file=out,
        )
    out.flush()


def _event_id(body: str, *, raw: bool) -> str | None:
    """The event_id of a raw delivery's body, or of an SNS notification's Message: the shape the queue has."""
    try:
        parsed = json.loads(body)
        if not raw:
            parsed = json.loads(parsed["Message"])
        return str(parsed["event_id"])
    except (ValueError, KeyError, TypeError):
        return None


if __name__ == "__main__":
    sys.exit(main())
