"""The AWS emulator the benchmark runs against: the local stack's (moto's server) in a process of its own.

Its own process, like AWS is elsewhere: the emulator's work neither shares the GIL with the code
being measured nor counts in its CPU time. It listens on a free port of 127.0.0.1 and the function
reaches it through the standard AWS_ENDPOINT_URL setting, as `make serve` does.

`python -m devtools.bench.emulator` is that process: it prints `<host> <port>` and serves until its stdin closes.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import uuid
from types import TracebackType
from typing import IO

import boto3

from devtools.bench.events import REPO
from devtools.local_stack.guard import use_dummy_credentials
from devtools.local_stack.resources import LocalResources, create_resources
from devtools.local_stack.server import emulator
from ops.local import FAKE_CREDENTIALS, REGION

HOST = "127.0.0.1"


class Emulator:
    """The emulator process, with the template's tables (the events table's stream too), topic and secret in it."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None
        self.endpoint = ""
        self.resources: LocalResources | None = None

    def __enter__(self) -> Emulator:
        self._log = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "devtools.bench.emulator"],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().split()
        if len(line) != 2:
            self._log.seek(0)
            raise RuntimeError(f"the emulator did not start: {self._log.read()[-2000:]}")
        self.endpoint = f"http://{line[0]}:{line[1]}"
        use_dummy_credentials()
        # A prefix of its own: another run may share nothing with this one.
        self.resources = create_resources(prefix=f"bench-{uuid.uuid4().hex[:8]}", endpoint_url=self.endpoint)
        self._unsubscribe_all(self.resources.topic_arn)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()  # the emulator stops when its stdin closes
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._log is not None:
            self._log.close()

    def _unsubscribe_all(self, topic_arn: str) -> None:
        # With the demo's SQS subscriber, moto's publish slows down with every message the queue
        # holds (measured: +3 ms per 200 messages), which AWS's does not: the emulator must not
        # drift during the run. Publishing to a topic without subscribers stays flat.
        sns = boto3.session.Session(region_name=REGION).client("sns", endpoint_url=self.endpoint)
        for subscription in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]:
            sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])

    def function_environment(self) -> dict[str, str]:
        """The environment the template gives the receiving function, pointed at the emulator."""
        assert self.resources is not None
        return {**self.resources.function_environment, **FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    @property
    def topic_arn(self) -> str:
        assert self.resources is not None
        return self.resources.topic_arn

    def publisher_environment(self) -> dict[str, str]:
        """The environment the template gives the publisher, pointed at the emulator."""
        assert self.resources is not None
        return {**self.resources.publisher_environment, **FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}


def serve() -> None:
    with emulator(HOST, 0) as endpoint:
        print(HOST, endpoint.rsplit(":", 1)[1], flush=True)
        sys.stdin.read()  # until the benchmark closes our stdin (or dies)


if __name__ == "__main__":
    serve()
