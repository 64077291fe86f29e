"""The publisher's environment variables, checked at cold start by hand: pydantic would be a sixth of its cold start."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self


class ConfigurationError(RuntimeError):
    """A function's environment is not what template.yaml sets: it fails at init, naming each variable."""


@dataclass(frozen=True)
class PublisherSettings:
    """The publisher (publisher_handler.py)."""

    metrics_namespace: str  # POWERTOOLS_METRICS_NAMESPACE: Powertools reads it itself; a missing one fails here
    topic_arn: str  # EVENTS_TOPIC_ARN

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Self:
        names = {"metrics_namespace": "POWERTOOLS_METRICS_NAMESPACE", "topic_arn": "EVENTS_TOPIC_ARN"}
        if missing := [variable for variable in names.values() if not environ.get(variable)]:
            problems = "; ".join(f"{name}: missing or empty" for name in missing)
            raise ConfigurationError(f"bad environment variable(s): {problems}")
        return cls(**{field: environ[variable] for field, variable in names.items()})
