"""Checking the shared token that Zenoti sends in the webhook URL (or a header)."""

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from zenoti_receiver.errors import Unauthorized


@dataclass(frozen=True)
class AcceptedTokens:
    """The token in force and, during a rotation, the one it replaces, as one version of the secret holds them."""

    token: str
    previous_token: str | None = None
    version_id: str = ""  # Secrets Manager's VersionId of the value read ("" when it is not known)
    # Read from the same secret (its optional "signing_secret" key): logic/signature.py checks, never authenticates.
    signing_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TokenUsed:
    """Which token authenticated a delivery: recorded with what it brought in, for an operator after a leak."""

    slot: Literal["current", "previous"]  # the token in force, or the one a rotation replaces
    version_id: str


def authenticate(presented: Iterable[object], accepted: AcceptedTokens) -> TokenUsed:
    """Which accepted token every presented token is; Unauthorized unless they are all the same and one matches."""
    # In the query string and a header both, they must agree: a stale URL is not rescued by a header.
    offered = [value for value in presented if value]
    if not offered:
        raise Unauthorized("missing token: pass it as the 'token' query parameter or the X-Webhook-Token header")
    # Whatever the request carried is refused unless it is text; checked before hashing (a list is not hashable).
    if not all(isinstance(value, str) for value in offered) or len(set(offered)) > 1:
        raise Unauthorized("invalid token")
    candidate = _token_bytes(str(offered[0]))
    # Compare against every accepted token, without stopping early, in constant time (without a previous
    # token, against b"", which nothing offered is).
    current = hmac.compare_digest(candidate, _token_bytes(accepted.token))
    previous = hmac.compare_digest(candidate, _token_bytes(accepted.previous_token or ""))
    if current:
        return TokenUsed("current", accepted.version_id)
    if previous:
        return TokenUsed("previous", accepted.version_id)
    raise Unauthorized("invalid token")


def _token_bytes(token: str) -> bytes:
    # A query string or header may decode to a lone surrogate, which has no UTF-8 encoding; kept as
    # the bytes Python would write for it, it can never equal a real token, so it is simply wrong.
    return token.encode("utf-8", errors="surrogatepass")
