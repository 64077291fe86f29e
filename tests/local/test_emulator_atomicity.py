"""The emulator answers DynamoDB requests one at a time, as DynamoDB applies each atomically."""

from __future__ import annotations

import threading
import time
from typing import Any

from local_stack.server import OneDynamoDBRequestAtATime


class SlowApp:
    """A WSGI app that takes a while on each request and records how many it handles at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_at_once = 0
        self._count = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self._count:
            self.inside += 1
            self.most_at_once = max(self.most_at_once, self.inside)
        time.sleep(0.05)  # reading the item, parsing the condition: where moto lets another request in
        with self._count:
            self.inside -= 1
        start_response("200 OK", [])
        return [b"{}"]


def concurrently(app: Any, target: str, requests: int = 6) -> None:
    barrier = threading.Barrier(requests)

    def call() -> None:
        barrier.wait()
        app({"HTTP_X_AMZ_TARGET": target}, lambda status, headers, exc_info=None: None)

    threads = [threading.Thread(target=call) for _ in range(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)


def test_dynamodb_requests_are_answered_one_at_a_time():
    slow = SlowApp()

    concurrently(OneDynamoDBRequestAtATime(slow), "DynamoDB_20120810.UpdateItem")

    assert slow.most_at_once == 1  # a conditional write is checked and applied before the next is read


def test_other_services_are_not_held_up_by_it():
    slow = SlowApp()

    concurrently(OneDynamoDBRequestAtATime(slow), "AmazonSQS.ReceiveMessage")

    assert slow.most_at_once > 1  # an SQS long poll does not stop DynamoDB, nor another poll
