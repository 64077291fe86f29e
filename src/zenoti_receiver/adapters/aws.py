"""boto3 clients bounded (timing.py) so that a failing AWS call ends well within Zenoti's 10 s."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from zenoti_receiver.errors import TemporaryFailure
from zenoti_receiver.timing import AWS_ATTEMPTS, AWS_CONNECT_SECONDS, AWS_READ_SECONDS

# The error codes botocore's standard retry mode retries (botocore/retries/standard.py: throttled and
# transient), and the services' own for a failure on their side: the request was not judged, only not
# answered. tests/unit/test_token_secret.py holds this list to botocore's.
TRANSIENT_ERROR_CODES = frozenset(
    {
        *("Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "RequestThrottled"),
        *("EC2ThrottledException", "TooManyRequestsException", "ProvisionedThroughputExceededException", "SlowDown"),
        *("RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "TransactionInProgressException"),
        *("PriorRequestNotComplete", "RequestTimeout", "RequestTimeoutException"),
        *("InternalServiceError", "InternalFailure", "ServiceUnavailable"),
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


BOUNDED = Config(
    connect_timeout=AWS_CONNECT_SECONDS,
    read_timeout=AWS_READ_SECONDS,
    retries={"mode": "standard", "total_max_attempts": AWS_ATTEMPTS},
    tcp_keepalive=True,
    # Our requests are built by this code, not by users, and AWS validates them anyway: skipping
    # botocore's client-side check saves CPU on every event (docs/performance.md).
    parameter_validation=False,
)


def client(service: str) -> Any:
    """A client for `service`, bounded (timing.py); AWS_ENDPOINT_URL, if set, points it at an emulator."""
    return boto3.client(service, config=BOUNDED)


@contextmanager
def unavailable_on_failure(action: str, dependency: str) -> Iterator[None]:
    """Turn an AWS outage (throttling, a 5xx, a timeout or lost connection) into TemporaryFailure."""
    # An answer that judged the request (access denied, a validation error) is left as it is: our bug or our
    # stack's (500, UnexpectedErrors). So keep the block to the AWS call itself, the request built before it.
    try:
        yield
    except (ClientError, BotoCoreError) as error:  # BotoCoreError: timeouts, lost connections, unparsable answers
        if isinstance(error, ClientError) and not is_transient(error):
            raise
        raise TemporaryFailure(f"{action} failed: {failure_name(error)}", dependency) from error


def failure_name(error: ClientError | BotoCoreError) -> str:
    """AWS's error code, or botocore's exception's name."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "error"))
    return type(error).__name__
