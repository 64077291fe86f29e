"""The Secrets Manager secret holding the webhook token, cached between requests: an outage trusts the tokens
read last for a bounded grace; a refusal (how an operator revokes the token) accepts none until it reads well."""

# Not Powertools' parameters utility: once a read fails it no longer returns the value it held, and the
# grace, the pacing of retries and the transient/revoking split would all stay here anyway.

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from zenoti_receiver.adapters.aws import client, failure_name, is_transient
from zenoti_receiver.errors import TemporaryFailure
from zenoti_receiver.logic.authentication import AcceptedTokens

logger = Logger(child=True)

DEPENDENCY = "secret"
# After a failed read, the next attempt waits this long: a read that times out costs the request
# that makes it seconds, which one request a minute may pay, not every request. After a revoking
# failure, the secret restored is seen within this long.
RETRY_SECONDS = 60.0


class SecretUnavailable(TemporaryFailure):
    """Secrets Manager did not answer: the tokens read last are trusted for the grace."""


class SecretRefused(TemporaryFailure):
    """The secret cannot be used (revoked, deleted, denied, malformed): no token is accepted."""


@dataclass(repr=False, eq=False)  # never shows the tokens it holds
class TokenSecret:
    """Reads `{"token": ..., "previous_token": ..., "signing_secret": ...}` at most once per `max_age` seconds."""

    secret_id: str
    max_age: float
    grace: float = 0.0
    secretsmanager: Any = None
    clock: Callable[[], float] = time.monotonic
    # Told of each transient failure the grace absorbs; a refusal is raised again, unread, for RETRY_SECONDS.
    on_stale_tokens: Callable[[TemporaryFailure], None] = lambda failure: None
    _cached: AcceptedTokens | None = field(default=None, init=False)
    _fetched_at: float = field(default=0.0, init=False)
    _retry_at: float = field(default=0.0, init=False)
    _refused_because: str | None = field(default=None, init=False)  # set while the last read refused every token

    def __post_init__(self) -> None:
        self.secretsmanager = self.secretsmanager or client("secretsmanager")

    def accepted_tokens(self) -> AcceptedTokens:
        now = self.clock()
        if self._cached is not None and now - self._fetched_at < self.max_age:
            return self._cached
        if now < self._retry_at:
            if self._refused_because is not None:
                raise SecretRefused(self._refused_because, DEPENDENCY)
            if self._cached is not None:
                return self._stale(self._cached, now)
        try:
            fresh = self._fetch()
        except SecretRefused as refused:
            # Revoked: nothing read before may be trusted again, not even through a later outage's grace.
            self._cached, self._refused_because, self._retry_at = None, str(refused), now + RETRY_SECONDS
            logger.error(
                "The token secret refuses to be used; every delivery is refused", extra={"detail": str(refused)}
            )
            raise
        except SecretUnavailable as failure:
            if self._cached is None:
                raise  # a cold start with nothing read: no token can be trusted
            self._retry_at = now + RETRY_SECONDS
            tokens = self._stale(self._cached, now)
            logger.warning(
                "Could not read the token secret; accepting the tokens read before",
                extra={"detail": str(failure), "read_seconds_ago": round(now - self._fetched_at)},
            )
            self.on_stale_tokens(failure)
            return tokens
        self._cached, self._fetched_at, self._refused_because = fresh, now, None
        return fresh

    def _stale(self, tokens: AcceptedTokens, now: float) -> AcceptedTokens:
        if now - self._fetched_at >= self.grace:
            raise SecretUnavailable(
                f"the token secret has not been read for {now - self._fetched_at:.0f} s, beyond the"
                f" {self.grace:.0f} s the last tokens read are trusted",
                DEPENDENCY,
            )
        return tokens

    def _fetch(self) -> AcceptedTokens:
        try:
            secret = self.secretsmanager.get_secret_value(SecretId=self.secret_id)
        except (ClientError, BotoCoreError) as error:
            what = failure_name(error)
            if is_transient(error):
                raise SecretUnavailable(f"reading the token secret failed: {what}", DEPENDENCY) from error
            raise SecretRefused(
                f"the token secret cannot be used ({what}): no token is accepted until it can", DEPENDENCY
            ) from error
        return _accepted_tokens(secret)


UNTIL_FIXED = ": no token is accepted until it is fixed"


def _accepted_tokens(secret: dict[str, Any]) -> AcceptedTokens:
    """The tokens a GetSecretValue answer holds; SecretRefused if it is not what the stack wrote."""
    try:
        value = json.loads(secret["SecretString"])
        token = value["token"]
        previous = value.get("previous_token")
        signing_secret = value.get("signing_secret")
    except (KeyError, TypeError, ValueError, AttributeError):
        # Our misconfiguration, not Zenoti's fault, and never its content in a message: 503, not a 401.
        raise SecretRefused(
            f'the token secret is not JSON of the form {{"token": "..."}}{UNTIL_FIXED}', DEPENDENCY
        ) from None
    if not isinstance(token, str) or not token or not isinstance(previous, (str, type(None))):
        raise SecretRefused(f"the token secret's 'token' must be a non-empty string{UNTIL_FIXED}", DEPENDENCY) from None
    if not isinstance(signing_secret, (str, type(None))):
        raise SecretRefused(f"the token secret's 'signing_secret' must be a string{UNTIL_FIXED}", DEPENDENCY) from None
    # The version id ties what a token stored or held to the secret's value it came from (ops forensics).
    version_id = secret.get("VersionId")
    return AcceptedTokens(
        token=token,
        previous_token=previous or None,
        version_id=version_id if isinstance(version_id, str) else "",
        signing_secret=signing_secret or None,
    )
