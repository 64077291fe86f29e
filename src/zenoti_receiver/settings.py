"""The receiving function's environment variables (template.yaml sets them) as one model, checked at cold start:
a misconfigured function fails at init, naming every bad variable, not deep inside a request."""

import os
from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from zenoti_receiver.publisher_settings import ConfigurationError

__all__ = ["ConfigurationError", "Settings"]


Name = Annotated[str, Field(min_length=1)]
Seconds = Annotated[float, Field(ge=0)]


class Settings(BaseModel):
    """The receiving function (handler.py)."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    # Powertools reads this itself; checked here so a missing one fails at init, by name.
    metrics_namespace: Name = Field(alias="POWERTOOLS_METRICS_NAMESPACE")

    table_name: Name = Field(alias="EVENTS_TABLE_NAME")
    # Events expire this many days after they were received; 0 keeps them.
    event_retention_days: int = Field(0, alias="EVENT_RETENTION_DAYS", ge=0)
    held_table_name: Name = Field(alias="HELD_TABLE_NAME")
    token_secret_id: Name = Field(alias="TOKEN_SECRET_ARN")
    # A held body expires this many days after its first delivery (a repeat does not renew it).
    held_retention_days: int = Field(30, alias="HELD_RETENTION_DAYS", ge=1)
    token_cache_seconds: Seconds = Field(300, alias="TOKEN_CACHE_SECONDS")
    # How long the tokens read last stay good while Secrets Manager does not answer (throttled, 5xx,
    # unreachable); never when it refuses (adapters/token_secret.py). docs/security.md says why an hour.
    token_grace_seconds: Seconds = Field(3600, alias="TOKEN_GRACE_SECONDS")
    # Refuse (401) a delivery whose signature header does not match (logic/signature.py); off: only recorded.
    enforce_signatures: bool = Field(False, alias="ENFORCE_SIGNATURES")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Self:
        try:
            return cls.model_validate(dict(environ))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}" for problem in error.errors()
            )
            raise ConfigurationError(f"bad environment variable(s): {problems}") from None
