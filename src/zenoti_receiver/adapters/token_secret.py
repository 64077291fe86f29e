"""The Secrets Manager secret holding the webhook token, cached between requests.

When the secret cannot be read again (Secrets Manager is down, or someone wrote it malformed), the
tokens read last keep being accepted for a bounded time, so an outage of a service that does not
hold the event cannot cost us Zenoti's webhook. Only a cold start with nothing read yet must fail.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from zenoti_receiver.adapters.aws import client, unavailable_on_failure
from zenoti_receiver.errors import TemporaryFailure
from zenoti_receiver.logic.authentication import AcceptedTokens

logger = Logger(child=True)

DEPENDENCY = "secret"
# After a failed read, the next attempt waits this long: a read that times out costs the request
# that makes it seconds, which one request a minute may pay, not every request.
RETRY_SECONDS = 60.0


class TokenSecret:
    """Reads `{"token": ..., "previous_token": ...}` at most once per `max_age` seconds.

    If a read fails, the tokens read last are still accepted until `grace` seconds after that read
    succeeded; `on_stale_tokens` is told of each failed read that this absorbs (the handler counts
    it as a failure of the secret; a failure it does not absorb reaches the handler as an error).
    """

    def __init__(
        self,
        secret_id: str,
        max_age: float,
        grace: float = 0.0,
        secretsmanager: Any = None,
        clock: Callable[[], float] = time.monotonic,
        on_stale_tokens: Callable[[TemporaryFailure], None] = lambda failure: None,
    ) -> None:
        self._secret_id = secret_id
        self._max_age = max_age
        self._grace = grace
        self._secretsmanager = secretsmanager or client("secretsmanager")
        self._clock = clock
        self._on_stale_tokens = on_stale_tokens
        self._cached: AcceptedTokens | None = None
        self._fetched_at = 0.0
        self._retry_at = 0.0

    def accepted_tokens(self) -> AcceptedTokens:
        now = self._clock()
        if self._cached is not None and now - self._fetched_at < self._max_age:
            return self._cached
        if self._cached is not None and now < self._retry_at:
            return self._stale(self._cached, now)
        try:
            fresh = self._fetch()
        except TemporaryFailure as failure:
            if self._cached is None:
                raise  # a cold start with nothing read: no token can be trusted
            self._retry_at = now + RETRY_SECONDS
            tokens = self._stale(self._cached, now)
            logger.warning(
                "Could not read the token secret; accepting the tokens read before",
                extra={"detail": str(failure), "read_seconds_ago": round(now - self._fetched_at)},
            )
            self._on_stale_tokens(failure)
            return tokens
        self._cached, self._fetched_at = fresh, now
        return fresh

    def _stale(self, tokens: AcceptedTokens, now: float) -> AcceptedTokens:
        if now - self._fetched_at >= self._grace:
            raise TemporaryFailure(
                f"the token secret has not been read for {now - self._fetched_at:.0f} s, beyond the"
                f" {self._grace:.0f} s the last tokens read are trusted",
                DEPENDENCY,
            )
        return tokens

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
