"""boto3 clients bounded (timing.py) so that a failing AWS call ends well within Zenoti's 10 s."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from zenoti_receiver.errors import TemporaryFailure
from zenoti_receiver.timing import AWS_CALL, CallBounds


def bounded(bounds: CallBounds) -> Config:
    """botocore's settings for calls that must end within `bounds` (timing.py)."""
    return Config(
        connect_timeout=bounds.connect_seconds,
        read_timeout=bounds.read_seconds,
        retries={"mode": "standard", "total_max_attempts": bounds.attempts},
        tcp_keepalive=True,
        # Our requests are built by this code, not by users; AWS validates them anyway. Skipping
        # botocore's client-side check saves about 90 us of CPU per event (docs/performance.md).
        parameter_validation=False,
    )


BOUNDED = bounded(AWS_CALL)


def client(service: str, config: Config = BOUNDED) -> Any:
    """A client for `service`; AWS_ENDPOINT_URL, if set, points it at an emulator."""
    return boto3.client(service, config=config)


@contextmanager
def unavailable_on_failure(action: str, dependency: str) -> Iterator[None]:
    """Turn an AWS failure (botocore's client and transport errors) into TemporaryFailure.

    Keep the block to the AWS call itself: build the request before it, so that a mistake of ours in
    building it is not reported as the dependency failing.
    """
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        raise TemporaryFailure(f"{action} failed: {code}", dependency) from error
    except BotoCoreError as error:
        # Timeouts, connection errors, unparsable answers. Anything else is a bug of ours, and must
        # look like one (handler.py), not like an AWS outage.
        raise TemporaryFailure(f"{action} failed: {type(error).__name__}", dependency) from error
