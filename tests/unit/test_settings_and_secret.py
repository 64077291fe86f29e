"""Configuration read at cold start, and the token secret's cache."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from zenoti_receiver.adapters.token_secret import TokenSecret
from zenoti_receiver.errors import TemporaryFailure
from zenoti_receiver.logic.authentication import AcceptedTokens
from zenoti_receiver.publisher_settings import PublisherSettings
from zenoti_receiver.settings import ConfigurationError, Settings

ENVIRONMENT = {
    "EVENTS_TABLE_NAME": "events",
    "HELD_TABLE_NAME": "held-bodies",
    "TOKEN_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:token",
    "POWERTOOLS_METRICS_NAMESPACE": "ZenotiWebhooks",
}


def test_settings_come_from_the_environment():
    settings = Settings.from_environment({**ENVIRONMENT, "TOKEN_CACHE_SECONDS": "60"})

    assert settings.table_name == "events"
    assert settings.token_cache_seconds == 60


@pytest.mark.parametrize("missing", sorted(ENVIRONMENT))
def test_a_missing_variable_fails_at_init_with_its_name(missing):
    environment = {name: value for name, value in ENVIRONMENT.items() if name != missing}

    with pytest.raises(ConfigurationError, match=missing):
        Settings.from_environment(environment)


@pytest.mark.parametrize("value", ["soon", "-1"])
def test_a_bad_cache_duration_fails_at_init(value):
    with pytest.raises(ConfigurationError, match="TOKEN_CACHE_SECONDS"):
        Settings.from_environment({**ENVIRONMENT, "TOKEN_CACHE_SECONDS": value})


class FakeSecretsManager:
    def __init__(self, value: str) -> None:
        self.value = value
        self.calls = 0

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        self.calls += 1
        return {"SecretString": self.value}


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_secret_is_read_once_per_cache_period():
    secrets = FakeSecretsManager(json.dumps({"token": "a", "previous_token": "b"}))
    clock = Clock()
    tokens = TokenSecret("id", max_age=300, secretsmanager=secrets, clock=clock)

    assert tokens.accepted_tokens() == AcceptedTokens("a", "b")
    clock.now = 299
    tokens.accepted_tokens()
    assert secrets.calls == 1

    secrets.value = json.dumps({"token": "a"})  # previous_token removed by hand
    clock.now = 300
    assert tokens.accepted_tokens() == AcceptedTokens("a")
    assert secrets.calls == 2


@pytest.mark.parametrize(
    "value", ["not json", "[]", "{}", '{"token": ""}', '{"token": 5}', '{"token": "a", "previous_token": 1}']
)
def test_a_malformed_secret_is_a_temporary_failure_not_a_rejection(value):
    tokens = TokenSecret("id", max_age=300, secretsmanager=FakeSecretsManager(value))

    with pytest.raises(TemporaryFailure, match="token secret"):
        tokens.accepted_tokens()


def test_every_bad_setting_is_named_at_once():
    environment = {name: value for name, value in ENVIRONMENT.items() if name != "EVENTS_TABLE_NAME"}

    with pytest.raises(ConfigurationError) as raised:
        Settings.from_environment({**environment, "TOKEN_CACHE_SECONDS": "soon", "TOKEN_GRACE_SECONDS": "-1"})

    for name in ("EVENTS_TABLE_NAME", "TOKEN_CACHE_SECONDS", "TOKEN_GRACE_SECONDS"):
        assert name in str(raised.value)


def test_the_publisher_needs_only_the_topic_and_fails_at_init_without_it():
    settings = PublisherSettings.from_environment(
        {
            "EVENTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:events",
            "POWERTOOLS_METRICS_NAMESPACE": "ZenotiWebhooks",
        }
    )

    assert settings.topic_arn == "arn:aws:sns:us-east-1:123456789012:events"
    with pytest.raises(ConfigurationError, match="EVENTS_TOPIC_ARN"):
        PublisherSettings.from_environment({"POWERTOOLS_METRICS_NAMESPACE": "ZenotiWebhooks"})


class FailingSecretsManager(FakeSecretsManager):
    """Answers like the fake until `down`, then fails as botocore would see an outage."""

    down = False

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        if self.down:
            self.calls += 1
            raise EndpointConnectionError(endpoint_url="https://secretsmanager.us-east-1.amazonaws.com")
        return super().get_secret_value(SecretId)


def outage() -> tuple[FailingSecretsManager, Clock, TokenSecret, list[TemporaryFailure]]:
    secrets = FailingSecretsManager(json.dumps({"token": "a"}))
    clock = Clock()
    absorbed: list[TemporaryFailure] = []
    tokens = TokenSecret(
        "id", max_age=300, grace=86_400, secretsmanager=secrets, clock=clock, on_stale_tokens=absorbed.append
    )
    return secrets, clock, tokens, absorbed


def test_during_an_outage_the_tokens_read_last_are_still_accepted_for_the_grace_period():
    secrets, clock, tokens, absorbed = outage()
    tokens.accepted_tokens()
    secrets.down = True

    clock.now = 301  # the cache has expired; the read fails
    assert tokens.accepted_tokens() == AcceptedTokens("a")
    assert len(absorbed) == 1
    assert absorbed[0].dependency == "secret"

    clock.now = 86_399  # almost a day later: still the last tokens read
    assert tokens.accepted_tokens() == AcceptedTokens("a")

    clock.now = 86_400  # the grace is over: nothing can be trusted any more
    with pytest.raises(TemporaryFailure, match="86400 s"):
        tokens.accepted_tokens()


def test_during_an_outage_a_read_is_retried_once_a_minute_not_on_every_request():
    secrets, clock, tokens, absorbed = outage()
    tokens.accepted_tokens()
    secrets.down = True

    for second in range(301, 421):  # two minutes of requests, one a second
        clock.now = second
        tokens.accepted_tokens()

    assert secrets.calls == 1 + 2  # the first read, then one failed read a minute
    assert len(absorbed) == 2


def test_once_the_secret_is_back_it_is_read_again():
    secrets, clock, tokens, _ = outage()
    tokens.accepted_tokens()
    secrets.down = True
    clock.now = 301
    tokens.accepted_tokens()

    secrets.down = False
    secrets.value = json.dumps({"token": "rotated"})
    clock.now = 301 + 60
    assert tokens.accepted_tokens() == AcceptedTokens("rotated")


def test_a_cold_start_that_cannot_read_the_secret_fails():
    secrets, _, tokens, absorbed = outage()
    secrets.down = True

    with pytest.raises(TemporaryFailure, match="token secret"):
        tokens.accepted_tokens()
    assert absorbed == []  # not absorbed: the handler counts it as the 5xx it becomes
