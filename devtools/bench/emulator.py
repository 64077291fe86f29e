"""The local stack's AWS emulator in a process of its own, as AWS is elsewhere: it shares no GIL and no CPU time
with the code measured. `python -m devtools.bench.emulator` is that process: it prints its URL, serves until EOF."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import boto3

from devtools.local_stack.guard import use_dummy_credentials
from devtools.local_stack.resources import LocalResources, create_resources
from devtools.local_stack.server import emulator
from devtools.local_stack.template import REPO
from ops.local import FAKE_CREDENTIALS, REGION


@contextmanager
def running_emulator() -> Iterator[tuple[str, LocalResources]]:
    """The emulator's endpoint, and the template's resources in it, each function's environment pointed at it."""
    command = [sys.executable, "-m", "devtools.bench.emulator"]
    pipe = subprocess.PIPE  # its stderr is ours: why it did not start, if it did not
    with subprocess.Popen(command, cwd=REPO, stdin=pipe, stdout=pipe, text=True) as process:  # noqa: S603
        assert process.stdout is not None
        endpoint = process.stdout.readline().strip()
        if not endpoint.startswith("http://"):
            raise RuntimeError("the emulator did not start (its error is above)")
        use_dummy_credentials()
        # A prefix of its own: another run may share nothing with this one.
        resources = create_resources(prefix=f"bench-{uuid.uuid4().hex[:8]}", endpoint_url=endpoint)
        # With the demo's SQS subscriber, moto's publish slows down with every message the queue holds
        # (+3 ms per 200 messages), which AWS's does not: publishing to a topic without subscribers stays flat.
        sns = boto3.session.Session(region_name=REGION).client("sns", endpoint_url=endpoint)
        for subscription in sns.list_subscriptions_by_topic(TopicArn=resources.topic_arn)["Subscriptions"]:
            sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
        for environment in (resources.function_environment, resources.publisher_environment):
            environment.update(FAKE_CREDENTIALS, AWS_ENDPOINT_URL=endpoint)
        yield endpoint, resources  # leaving Popen closes its stdin, which stops it, and waits for it


if __name__ == "__main__":
    with emulator("127.0.0.1", 0) as serving:
        print(serving, flush=True)
        sys.stdin.read()  # until the benchmark closes our stdin (or dies)
