"""boto3 clients bounded (timing.py) so that a failing AWS call ends well within Zenoti's 10 s."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from zenoti_receiver.errors import TemporaryFailure
from zenoti_receiver.timing import AWS_CALL, CallBounds

# The error codes botocore's standard retry mode retries (botocore/retries/standard.py: throttled and
# transient), and the services' own for a failure on their side: the request was not judged, only not
# answered. tests/unit/test_token_secret.py holds this list to botocore's.
TRANSIENT_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalServiceError",
        "InternalFailure",
        "ServiceUnavailable",
    }
)


def is_transient(error: Exception) -> bool:
    """Whether a failed call says only that AWS did not answer (throttled, 5xx, no connection), not that it refused."""
    if isinstance(error, (BotocoreConnectionError, HTTPClientError)):
        return True  # connect and read timeouts, refused, reset or closed connections
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in TRANSIENT_ERROR_CODES or status == 429 or status >= 500
    return False  # no credentials, an unreadable answer, ...: nothing says it will pass by itself


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
    """Turn an AWS outage (throttling, a 5xx, a timeout or lost connection) into TemporaryFailure.

    An answer that judged the request (access denied, a validation error, a table that does not exist)
    is left as it is: retrying will not change it, it is our bug or our stack's, and the handler reports
    it as one (500, UnexpectedErrors), not as AWS failing. Keep the block to the AWS call itself: build
    the request before it, so that a mistake of ours in building it is not reported as the dependency
    failing.
    """
    try:
        yield
    except ClientError as error:
        if not is_transient(error):
            raise
        code = error.response.get("Error", {}).get("Code")
        raise TemporaryFailure(f"{action} failed: {code}", dependency) from error
    except BotoCoreError as error:
        # Timeouts, connection errors, unparsable answers. Anything else is a bug of ours, and must
        # look like one (handler.py), not like an AWS outage.
        raise TemporaryFailure(f"{action} failed: {type(error).__name__}", dependency) from error
