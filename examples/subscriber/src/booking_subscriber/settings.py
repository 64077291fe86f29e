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
    # The shape the queue's subscription delivers (its RawMessageDelivery), never guessed from a message:
    # a raw body that looks like SNS's envelope must stay what it is, a body (messages.py).
    raw_message_delivery: bool

    @property
    def idempotency_seconds(self) -> int:
        return self.idempotency_days * SECONDS_PER_DAY

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        # Powertools reads the last two itself; checked here so a missing one fails at init, by name.
        required = (
            "DELETIONS_TABLE_NAME",
            "IDEMPOTENCY_TABLE_NAME",
            "RAW_MESSAGE_DELIVERY",
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
        raw_message_delivery = environ["RAW_MESSAGE_DELIVERY"]
        if raw_message_delivery not in ("true", "false"):
            raise ConfigurationError(
                "RAW_MESSAGE_DELIVERY must be true or false, as the queue's subscription has RawMessageDelivery, "
                f"not {raw_message_delivery!r}"
            )
        return cls(
            deletions_table_name=environ["DELETIONS_TABLE_NAME"],
            idempotency_table_name=environ["IDEMPOTENCY_TABLE_NAME"],
            idempotency_days=idempotency_days,
            raw_message_delivery=raw_message_delivery == "true",
        )
