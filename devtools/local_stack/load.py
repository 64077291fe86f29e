"""A bounded load run over the local HTTP stack: distinct events from concurrent senders (`make load`).
Exits 1 unless every event was accepted, stored once and received once, with no 5xx (docs/local.md)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stdout
from http.client import HTTPConnection
from typing import TextIO
from urllib.parse import urlsplit

import boto3

from devtools.local_stack.resources import take_messages
from devtools.local_stack.server import RunningStack, local_stack
from devtools.local_stack.template import REPO, relative
from ops.local import LOCAL_TOKEN, REGION

SAMPLE = json.loads((REPO / "events" / "booking_deleted.json").read_text())
# The function runs in this process and prints a log line and its metrics for each event: thousands of
# lines that would bury the summary.
FUNCTION_LOG = REPO / ".aws-sam" / "local" / "logs" / "load.log"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.local_stack.load", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="distinct events to send (default 2000)")
    parser.add_argument("--senders", type=int, default=8, help="concurrent senders (default 8)")
    parser.add_argument("--timeout", type=float, default=300, help="give up after this many seconds (default 300)")
    arguments = parser.parse_args(argv)
    report = sys.stdout
    FUNCTION_LOG.parent.mkdir(parents=True, exist_ok=True)
    print(
        f"Sending {arguments.events:,} events from {arguments.senders} concurrent senders through the local HTTP"
        f" stack (2,000 take a minute or two on 2 cores); the function's output goes to {relative(FUNCTION_LOG)}",
        flush=True,
    )
    with (
        FUNCTION_LOG.open("w", encoding="utf-8") as function_log,
        redirect_stdout(function_log),
        local_stack(0, "127.0.0.1", 0, report=False) as stack,
    ):
        return run(stack, arguments.events, arguments.senders, arguments.timeout, report)


def run(stack: RunningStack, events: int, senders: int, timeout: float, out: TextIO) -> int:
    target = urlsplit(stack.webhook_url)
    deadline = time.monotonic() + timeout
    bodies = [_event(number) for number in range(events)]
    shares = [bodies[sender::senders] for sender in range(senders)]

    def send_share(share: list[bytes]) -> list[tuple[int, float]]:
        connection = HTTPConnection(target.netloc, timeout=30)
        answers = []
        for body in share:
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            connection.request("POST", f"{target.path}?token={LOCAL_TOKEN}", body, {"content-type": "application/json"})
            response = connection.getresponse()
            response.read()
            answers.append((response.status, time.perf_counter() - started))
        connection.close()
        return answers

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=senders + 1) as pool:
        # The subscriber reads while the senders send, as a real one would.
        receiving = pool.submit(_receive, stack, events, deadline)
        answers = [answer for share_answers in pool.map(send_share, shares) for answer in share_answers]
        elapsed = time.perf_counter() - started
        received = receiving.result()

    statuses = Counter(status for status, _ in answers)
    latencies = sorted(seconds for _, seconds in answers)
    scan = boto3.client("dynamodb", region_name=REGION).get_paginator("scan")
    stored = sum(page["Count"] for page in scan.paginate(TableName=stack.resources.table_name, Select="COUNT"))
    server_errors = sum(count for status, count in statuses.items() if status >= 500)
    print(f"events sent:        {len(answers)} of {events}, by {senders} concurrent senders", file=out)
    print(f"answers:            {dict(sorted(statuses.items()))}", file=out)
    print(f"5xx answers:        {server_errors}", file=out)
    print(f"items stored:       {stored}", file=out)
    distinct = len(set(received))
    print(f"messages received:  {len(received)} ({distinct} distinct events) by the subscriber queue", file=out)
    print(f"elapsed:            {elapsed:.1f} s, {len(answers) / elapsed:.0f} events/s", file=out)
    if latencies:
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        median = statistics.median(latencies)
        print(f"latency:            median {median * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms", file=out)
    # Every event answered 200 (so every one was sent), stored, and received once.
    expected = [f"load{number:06d}" for number in range(events)]
    complete = statuses == Counter({200: events}) and stored == events and sorted(received) == expected
    print(f"result:             {'PASS' if complete else 'FAIL'}: {events} of {events} expected everywhere", file=out)
    return 0 if complete else 1


def _event(number: int) -> bytes:
    return json.dumps(dict(SAMPLE, event_id=f"load{number:06d}", id=f"call{number:06d}")).encode()


def _receive(stack: RunningStack, expected: int, deadline: float) -> list[str]:
    """Event ids of the messages the stack's subscriber queue received (taking them off it as it goes)."""
    sqs = boto3.client("sqs", region_name=REGION)
    received: list[str] = []
    idle_since = time.monotonic()
    while len(received) < expected and time.monotonic() < deadline:
        if messages := take_messages(sqs, stack.resources.subscriber_queue_url, wait_seconds=1):
            idle_since = time.monotonic()
            received += [json.loads(message["Body"])["event_id"] for message in messages]
        elif time.monotonic() - idle_since > 10:
            break  # nothing for 10 s: the rest is not coming
    return received


if __name__ == "__main__":
    sys.exit(main())
