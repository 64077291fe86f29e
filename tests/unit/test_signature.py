"""The signature header: how Zenoti is said to write it, and each outcome the receiver records."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from zenoti_receiver.logic.signature import check_signature, expected_signature

BODY = b'{"event_type": "Employee.Created"}'
SECRET = "whsec-of-the-test"


def test_the_signature_is_hmac_sha256_of_the_raw_body_in_dash_separated_hex_pairs():
    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()

    signature = expected_signature(BODY, SECRET)

    assert signature.split("-") == [f"{byte:02X}" for byte in digest]
    assert len(signature) == 32 * 3 - 1


@pytest.mark.parametrize(
    ("presented", "secret", "outcome"),
    [
        (expected_signature(BODY, SECRET), SECRET, "matched"),
        (expected_signature(BODY, SECRET).lower(), SECRET, "matched"),  # the case of hex digits is not the bytes
        (f" {expected_signature(BODY, SECRET)} ", SECRET, "matched"),
        (expected_signature(BODY + b" ", SECRET), SECRET, "mismatched"),  # another body
        (expected_signature(BODY, "another secret"), SECRET, "mismatched"),
        (expected_signature(BODY, SECRET).replace("-", ""), SECRET, "mismatched"),  # not the documented form
        ("\udcff", SECRET, "mismatched"),  # a lone surrogate from a header is simply wrong
        (None, SECRET, "missing"),
        ("", SECRET, "missing"),
        (expected_signature(BODY, SECRET), None, "unchecked"),  # no secret configured: nothing to say
    ],
)
def test_each_outcome(presented, secret, outcome):
    assert check_signature(BODY, presented, secret) == outcome
