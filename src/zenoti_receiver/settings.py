"""Configuration, read once from environment variables at cold start and checked there."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class ConfigurationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    table_name: str
    quarantine_table_name: str
    topic_arn: str
    token_secret_id: str
    token_cache_seconds: float
    record_after_answer: bool = True
    lambda_runtime_api: str | None = None  # set by Lambda (and by `sam local`), absent elsewhere

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        # Powertools reads these itself; checked here so a missing one fails at init, by name.
        required = (
            "EVENTS_TABLE_NAME",
            "QUARANTINE_TABLE_NAME",
            "EVENTS_TOPIC_ARN",
            "TOKEN_SECRET_ARN",
            "POWERTOOLS_METRICS_NAMESPACE",
        )
        missing = [name for name in required if not environ.get(name)]
        if missing:
            raise ConfigurationError(f"missing environment variable(s): {', '.join(missing)}")
        raw_seconds = environ.get("TOKEN_CACHE_SECONDS", "300")
        try:
            token_cache_seconds = float(raw_seconds)
        except ValueError:
            raise ConfigurationError(f"TOKEN_CACHE_SECONDS must be a number of seconds, not {raw_seconds!r}") from None
        if token_cache_seconds < 0:
            raise ConfigurationError("TOKEN_CACHE_SECONDS must not be negative")
        record_after_answer = environ.get("RECORD_AFTER_ANSWER", "true").lower()
        if record_after_answer not in ("true", "false"):
            raise ConfigurationError(f"RECORD_AFTER_ANSWER must be true or false, not {record_after_answer!r}")
        return cls(
            table_name=environ["EVENTS_TABLE_NAME"],
            quarantine_table_name=environ["QUARANTINE_TABLE_NAME"],
            topic_arn=environ["EVENTS_TOPIC_ARN"],
            token_secret_id=environ["TOKEN_SECRET_ARN"],
            token_cache_seconds=token_cache_seconds,
            record_after_answer=record_after_answer == "true",
            lambda_runtime_api=environ.get("AWS_LAMBDA_RUNTIME_API") or None,
        )
