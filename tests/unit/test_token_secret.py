"""The token secret fails open only for an outage, and closed for a revocation.

Each failure is raised as botocore raises it (its own exception classes, a ClientError built from the
answer's error code and HTTP status, as botocore's parser builds it).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.retries import standard

from devtools.local_stack.template import load_template
from zenoti_receiver.adapters.aws import TRANSIENT_ERROR_CODES
from zenoti_receiver.adapters.token_secret import (
    RETRY_SECONDS,
    SecretRefused,
    SecretUnavailable,
    TokenSecret,
)
from zenoti_receiver.errors import TemporaryFailure
from zenoti_receiver.logic.authentication import AcceptedTokens
from zenoti_receiver.settings import Settings

ENDPOINT = "https://secretsmanager.us-east-1.amazonaws.com"
GRACE = 3600
CACHE = 300


def answered(code: str, status: int, message: str = "") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetSecretValue"
    )


TRANSIENT = {
    "throttled": answered("ThrottlingException", 400, "Rate exceeded"),
    "too many requests": answered("TooManyRequestsException", 429),
    "request limit": answered("RequestLimitExceeded", 400),
    "internal service error": answered("InternalServiceError", 500),
    "a 503 of any code": answered("ServiceUnavailableException", 503),
    "connect timeout": ConnectTimeoutError(endpoint_url=ENDPOINT),
    "read timeout": ReadTimeoutError(endpoint_url=ENDPOINT),
    "no connection": EndpointConnectionError(endpoint_url=ENDPOINT),
    "connection closed": ConnectionClosedError(endpoint_url=ENDPOINT),
}

REVOKING = {
    "access denied": answered("AccessDeniedException", 400, "not authorized to perform GetSecretValue"),
    "deleted": answered("ResourceNotFoundException", 400, "Secrets Manager can't find the specified secret."),
    "scheduled for deletion": answered(
        "InvalidRequestException",
        400,
        "You can't perform this operation on the secret because it was marked for deletion.",
    ),
    "kms refuses to decrypt": answered("DecryptionFailure", 400, "the KMS key is disabled"),
    "no credentials": NoCredentialsError(),
}

# The likely mistakes: the token written bare, a key misspelt, and values of the wrong type.
MALFORMED = [
    "s3cret-bare-token",
    '{"tokn": "s3cret"}',
    "[]",
    '{"token": ""}',
    '{"token": 5}',
    '{"token": "a", "previous_token": 1}',
    '{"token": "a", "signing_secret": ["s3cret"]}',
]


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


class SecretsManager:
    """Answers GetSecretValue with `value`, or raises `failure` as botocore would."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.failure: Exception | None = None
        self.calls = 0

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        self.calls += 1
        if self.failure is not None:
            raise self.failure
        return {"SecretString": self.value}


def read_once() -> tuple[SecretsManager, Clock, TokenSecret, list[TemporaryFailure]]:
    """A warm environment: the secret read once, its cache now expired."""
    secrets, clock, absorbed = SecretsManager(json.dumps({"token": "a", "previous_token": "b"})), Clock(), []
    tokens = TokenSecret(
        "id", max_age=CACHE, grace=GRACE, secretsmanager=secrets, clock=clock, on_stale_tokens=absorbed.append
    )
    assert tokens.accepted_tokens() == AcceptedTokens("a", "b")
    clock.now = CACHE
    return secrets, clock, tokens, absorbed


@pytest.mark.parametrize("failure", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_an_outage_keeps_the_tokens_read_last_for_the_grace_then_no_longer(failure):
    secrets, clock, tokens, absorbed = read_once()
    secrets.failure = failure

    assert tokens.accepted_tokens() == AcceptedTokens("a", "b")
    assert [type(failed) for failed in absorbed] == [SecretUnavailable]  # counted: TokenSecretAlarm
    clock.now = GRACE - 1
    assert tokens.accepted_tokens() == AcceptedTokens("a", "b")

    clock.now = GRACE
    with pytest.raises(SecretUnavailable, match=f"{GRACE} s"):
        tokens.accepted_tokens()


@pytest.mark.parametrize("failure", REVOKING.values(), ids=REVOKING.keys())
def test_a_revoked_secret_refuses_every_token_at_once(failure):
    secrets, _, tokens, absorbed = read_once()
    secrets.failure = failure

    with pytest.raises(SecretRefused, match="no token is accepted") as refused:
        tokens.accepted_tokens()

    assert isinstance(refused.value, TemporaryFailure)  # 503, nothing stored: Zenoti sends it again
    assert refused.value.dependency == "secret"
    assert absorbed == []  # not absorbed: the handler counts the 503 it becomes


@pytest.mark.parametrize("value", MALFORMED)
def test_a_malformed_secret_refuses_every_token_without_showing_its_value(value):
    secrets, _, tokens, _ = read_once()
    secrets.value = value

    with pytest.raises(SecretRefused, match="no token is accepted") as refused:
        tokens.accepted_tokens()
    assert "s3cret" not in str(refused.value)


def test_after_a_revocation_the_secret_is_read_again_once_a_minute_and_trusted_once_restored():
    secrets, clock, tokens, _ = read_once()
    secrets.failure = REVOKING["access denied"]
    with pytest.raises(SecretRefused):
        tokens.accepted_tokens()

    for second in range(int(CACHE), int(CACHE + RETRY_SECONDS)):  # a minute of requests, one a second
        clock.now = second
        with pytest.raises(SecretRefused, match="AccessDeniedException"):
            tokens.accepted_tokens()
    assert secrets.calls == 2  # the first read, the refused one; no read per request

    secrets.failure, secrets.value = None, json.dumps({"token": "restored"})
    clock.now = CACHE + RETRY_SECONDS
    assert tokens.accepted_tokens() == AcceptedTokens("restored")


def test_tokens_read_before_a_revocation_are_not_trusted_through_a_later_outage():
    secrets, clock, tokens, absorbed = read_once()
    secrets.failure = REVOKING["scheduled for deletion"]
    with pytest.raises(SecretRefused):
        tokens.accepted_tokens()

    secrets.failure = TRANSIENT["throttled"]
    clock.now = CACHE + RETRY_SECONDS
    with pytest.raises(SecretUnavailable):  # nothing left to trust: as at a cold start
        tokens.accepted_tokens()
    assert absorbed == []


def test_a_cold_start_during_an_outage_trusts_nothing():
    secrets = SecretsManager(json.dumps({"token": "a"}))
    secrets.failure = TRANSIENT["throttled"]

    with pytest.raises(SecretUnavailable, match="ThrottlingException"):
        TokenSecret("id", max_age=CACHE, grace=GRACE, secretsmanager=secrets).accepted_tokens()


def test_transient_means_what_botocore_retries_as_throttled_or_transient():
    retried = {
        *standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES,
        *standard.TransientRetryableChecker._TRANSIENT_ERROR_CODES,
    }

    assert retried <= TRANSIENT_ERROR_CODES
    assert not {"AccessDeniedException", "ResourceNotFoundException", "InvalidRequestException"} & TRANSIENT_ERROR_CODES


def test_the_grace_is_an_hour_in_the_function_and_the_template():
    parameter = load_template()["Parameters"]["TokenGraceSeconds"]
    environment = {
        "EVENTS_TABLE_NAME": "events",
        "HELD_TABLE_NAME": "held-bodies",
        "EVENTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:events",
        "TOKEN_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:token",
        "POWERTOOLS_METRICS_NAMESPACE": "ZenotiWebhooks",
    }

    assert parameter["Default"] == Settings.from_environment(environment).token_grace_seconds == GRACE


def test_the_signing_secret_is_read_with_the_tokens_and_never_shown():
    secrets, _, tokens, _ = read_once()
    secrets.value = json.dumps({"token": "a", "signing_secret": "s3cret-signing"})

    accepted = tokens.accepted_tokens()

    assert (accepted.token, accepted.previous_token) == ("a", None)  # it authenticates nothing
    assert accepted.signing_secret == "s3cret-signing"
    assert "s3cret" not in repr(accepted)
