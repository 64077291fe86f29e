"""Configuration read at cold start, and the token secret's cache."""

from __future__ import annotations

import json
from typing import Any

import pytest

from zenoti_receiver.adapters.token_secret import TokenSecret
from zenoti_receiver.errors import TemporaryFailure
from zenoti_receiver.settings import ConfigurationError, Settings

ENVIRONMENT = {
    "EVENTS_TABLE_NAME": "events",
    "QUARANTINE_TABLE_NAME": "quarantine",
    "EVENTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:events",
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


@pytest.mark.parametrize(("value", "expected"), [(None, True), ("true", True), ("FALSE", False)])
def test_recording_after_the_answer_is_on_unless_turned_off(value, expected):
    environment = ENVIRONMENT if value is None else {**ENVIRONMENT, "RECORD_AFTER_ANSWER": value}

    assert Settings.from_environment(environment).record_after_answer is expected


def test_a_bad_switch_for_recording_after_the_answer_fails_at_init():
    with pytest.raises(ConfigurationError, match="RECORD_AFTER_ANSWER"):
        Settings.from_environment({**ENVIRONMENT, "RECORD_AFTER_ANSWER": "yes"})


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

    assert tokens.accepted_tokens().values() == ("a", "b")
    clock.now = 299
    tokens.accepted_tokens()
    assert secrets.calls == 1

    secrets.value = json.dumps({"token": "a"})  # previous_token removed by hand
    clock.now = 300
    assert tokens.accepted_tokens().values() == ("a",)
    assert secrets.calls == 2


@pytest.mark.parametrize(
    "value", ["not json", "[]", "{}", '{"token": ""}', '{"token": 5}', '{"token": "a", "previous_token": 1}']
)
def test_a_malformed_secret_is_a_temporary_failure_not_a_rejection(value):
    tokens = TokenSecret("id", max_age=300, secretsmanager=FakeSecretsManager(value))

    with pytest.raises(TemporaryFailure, match="token secret"):
        tokens.accepted_tokens()
