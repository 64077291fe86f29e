"""The Secrets Manager secret holding the webhook token, cached between requests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from zenoti_receiver.adapters.aws import client, unavailable_on_failure
from zenoti_receiver.errors import TemporaryFailure
from zenoti_receiver.logic.authentication import AcceptedTokens

DEPENDENCY = "secret"


class TokenSecret:
    """Reads `{"token": ..., "previous_token": ...}` at most once per `max_age` seconds."""

    def __init__(
        self,
        secret_id: str,
        max_age: float,
        secretsmanager: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secret_id = secret_id
        self._max_age = max_age
        self._secretsmanager = secretsmanager or client("secretsmanager")
        self._clock = clock
        self._cached: AcceptedTokens | None = None
        self._fetched_at = 0.0

    def accepted_tokens(self) -> AcceptedTokens:
        now = self._clock()
        if self._cached is None or now - self._fetched_at >= self._max_age:
            self._cached = self._fetch()
            self._fetched_at = now
        return self._cached

    def _fetch(self) -> AcceptedTokens:
        with unavailable_on_failure("reading the token secret", DEPENDENCY):
            secret = self._secretsmanager.get_secret_value(SecretId=self._secret_id)
        try:
            value = json.loads(secret["SecretString"])
            token = value["token"]
            previous = value.get("previous_token")
        except (KeyError, TypeError, ValueError, AttributeError):
            # Our misconfiguration, not Zenoti's fault: answer 5xx so the event is retried, not lost.
            raise TemporaryFailure('the token secret is not JSON of the form {"token": "..."}', DEPENDENCY) from None
        if not isinstance(token, str) or not token or not isinstance(previous, (str, type(None))):
            raise TemporaryFailure("the token secret's 'token' must be a non-empty string", DEPENDENCY) from None
        return AcceptedTokens(token=token, previous_token=previous or None)
