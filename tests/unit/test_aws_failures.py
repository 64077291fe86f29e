"""An AWS call that AWS did not answer is an outage (503, retried); one AWS judged and refused is our bug.

Each failure is raised as botocore raises it: a ClientError built from the answer's error code and HTTP
status, or botocore's own exception classes for the transport.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from zenoti_receiver.adapters.aws import unavailable_on_failure
from zenoti_receiver.errors import TemporaryFailure

ENDPOINT = "https://dynamodb.us-east-1.amazonaws.com"


def answered(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutItem"
    )


OUTAGES = {
    "throttled": answered("ThrottlingException", 400),
    "over provisioned throughput": answered("ProvisionedThroughputExceededException", 400),
    "request limit": answered("RequestLimitExceeded", 400),
    "SNS throttled (429)": answered("Throttled", 429),
    "internal server error": answered("InternalServerError", 500),
    "service unavailable": answered("ServiceUnavailable", 503),
    "read timeout": ReadTimeoutError(endpoint_url=ENDPOINT),
    "no connection": EndpointConnectionError(endpoint_url=ENDPOINT),
}

REFUSALS = {
    "access denied": answered("AccessDeniedException", 400),
    "validation": answered("ValidationException", 400),
    "no such table": answered("ResourceNotFoundException", 400),
    "SNS not authorized": answered("AuthorizationError", 403),
    "SNS topic's key disabled": answered("KMSDisabled", 400),
}


@pytest.mark.parametrize("error", OUTAGES.values(), ids=OUTAGES.keys())
def test_an_outage_is_a_temporary_failure_of_the_dependency(error):
    with pytest.raises(TemporaryFailure) as raised, unavailable_on_failure("storing the event", "events_table"):
        raise error

    assert raised.value.dependency == "events_table"
    assert raised.value.status == 503
    assert str(raised.value).startswith("storing the event failed: ")


@pytest.mark.parametrize("error", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refusal_is_not_reported_as_an_outage(error):
    # It reaches the handler as it is, which answers 500 and counts UnexpectedErrors
    # (tests/integration/test_refused_calls.py).
    with pytest.raises(ClientError) as raised, unavailable_on_failure("storing the event", "events_table"):
        raise error

    assert raised.value is error
    assert not isinstance(raised.value, TemporaryFailure)
