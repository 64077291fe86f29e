"""The signature header Zenoti is said to send, observed: does it match the body, keyed with the signing secret?
Only recorded by default (nobody here has seen one); a stack may enforce it (docs/security.md)."""

# Zenoti's documentation names no header; one public integration says `zenoti-webhook-signature`, the
# HMAC-SHA256 of the raw body, as .NET's BitConverter.ToString writes it ("3F-A0-...").

import hashlib
import hmac
from typing import Literal

SIGNATURE_HEADER = "zenoti-webhook-signature"

# unchecked: no signing secret configured; missing: a secret, but no header; matched or mismatched.
SignatureCheck = Literal["unchecked", "missing", "matched", "mismatched"]


def expected_signature(body: bytes, secret: str) -> str:
    """The header's value for this body, as Zenoti is said to write it: upper-case hex pairs joined by dashes."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return "-".join(f"{byte:02X}" for byte in digest)


def check_signature(body: bytes, presented: str | None, secret: str | None) -> SignatureCheck:
    """Whether the presented signature is the body's HMAC under the secret; never raises, never logs a value."""
    if not secret:
        return "unchecked"
    if not presented:
        return "missing"
    # The case of the hex digits is not something a sender is known to keep; the bytes are what count.
    offered = presented.strip().upper().encode("utf-8", errors="surrogatepass")
    return "matched" if hmac.compare_digest(offered, expected_signature(body, secret).encode()) else "mismatched"
