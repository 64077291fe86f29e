"""boto3 clients bounded so that a failing AWS call ends in a 5xx well within Zenoti's 10 s."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from zenoti_receiver.errors import TemporaryFailure

# Worst case per call: 2 attempts x (1 s connect + 2 s read) plus one short backoff. Three calls
# in a row could still exceed that budget; the function's timeout is the hard stop, and API
# Gateway then answers 5xx, which is what Zenoti needs to retry.
BOUNDED = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "total_max_attempts": 2},
    tcp_keepalive=True,
    # Our requests are built by this code, not by users; AWS validates them anyway. Skipping
    # botocore's client-side check saves about 90 us of CPU per event (README, "Performance").
    parameter_validation=False,
)


# Publishing may fail without failing the delivery (the stack publishes what is pending), so it
# gets a shorter read: the receiver answers Zenoti within PUBLISH_BUDGET_SECONDS of a slow topic.
PUBLISHING = BOUNDED.merge(Config(read_timeout=1))


def client(service: str, config: Config = BOUNDED) -> Any:
    """A client for `service`; AWS_ENDPOINT_URL, if set, points it at an emulator."""
    return boto3.client(service, config=config)


@contextmanager
def unavailable_on_failure(action: str, dependency: str) -> Iterator[None]:
    """Turn any AWS failure that escapes the block into TemporaryFailure (a 5xx: Zenoti retries)."""
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        raise TemporaryFailure(f"{action} failed: {code}", dependency) from error
    except Exception as error:
        # Timeouts, connection errors, unparsable answers: botocore has more kinds than BotoCoreError.
        raise TemporaryFailure(f"{action} failed: {type(error).__name__}", dependency) from error
