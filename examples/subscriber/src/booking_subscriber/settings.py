"""Configuration, read once from environment variables at cold start and checked there."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

SECONDS_PER_DAY = 24 * 3600


class ConfigurationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    deletions_table_name: str
    idempotency_table_name: str
    idempotency_days: int

    @property
    def idempotency_seconds(self) -> int:
        return self.idempotency_days * SECONDS_PER_DAY

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        # Powertools reads the last two itself; checked here so a missing one fails at init, by name.
        required = (
            "DELETIONS_TABLE_NAME",
            "IDEMPOTENCY_TABLE_NAME",
            "POWERTOOLS_SERVICE_NAME",
            "POWERTOOLS_METRICS_NAMESPACE",
        )
        missing = [name for name in required if not environ.get(name)]
        if missing:
            raise ConfigurationError(f"missing environment variable(s): {', '.join(missing)}")
        raw_days = environ.get("IDEMPOTENCY_DAYS", "30")
        try:
            idempotency_days = int(raw_days)
        except ValueError:
            raise ConfigurationError(f"IDEMPOTENCY_DAYS must be a whole number of days, not {raw_days!r}") from None
        if idempotency_days < 1:
            raise ConfigurationError(f"IDEMPOTENCY_DAYS must be at least 1, not {idempotency_days}")
        return cls(
            deletions_table_name=environ["DELETIONS_TABLE_NAME"],
            idempotency_table_name=environ["IDEMPOTENCY_TABLE_NAME"],
            idempotency_days=idempotency_days,
        )
