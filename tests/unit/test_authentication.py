"""The token check: what passes, what does not."""

from __future__ import annotations

import pytest

from zenoti_receiver.errors import Unauthorized
from zenoti_receiver.logic.authentication import AcceptedTokens, TokenUsed, authenticate

ACCEPTED = AcceptedTokens(token="current-token", previous_token="old-token", version_id="v-2")


@pytest.mark.parametrize(
    ("presented", "slot"),
    [
        (("current-token", None), "current"),
        ((None, "current-token"), "current"),
        (("current-token", "current-token"), "current"),
        (("old-token", None), "previous"),
    ],
)
def test_accepted_tokens_pass_and_say_which_token_they_are(presented, slot):
    # What is recorded with the event or held body: after a leak, which of them the leaked token brought.
    assert authenticate(presented, ACCEPTED) == TokenUsed(slot, "v-2")


@pytest.mark.parametrize(
    ("presented", "message"),
    [
        ((None, None), "missing token"),
        (("", ""), "missing token"),
        (("current-toke", None), "invalid token"),
        (("current-tokenx", None), "invalid token"),
        (("Current-token", None), "invalid token"),
        (("current-token ", None), "invalid token"),
        (("current-token", "old-token"), "invalid token"),
        (("current-token", "wrong"), "invalid token"),
        (("prévu", None), "invalid token"),
    ],
)
def test_anything_else_is_unauthorized(presented, message):
    with pytest.raises(Unauthorized, match=message) as raised:
        authenticate(presented, ACCEPTED)

    assert raised.value.status == 401


def test_without_a_previous_token_the_old_one_is_refused():
    with pytest.raises(Unauthorized):
        authenticate(("old-token", None), AcceptedTokens(token="current-token"))


def test_an_empty_previous_token_never_matches_an_empty_presented_one():
    with pytest.raises(Unauthorized):
        authenticate(("", None), AcceptedTokens(token="current-token", previous_token=""))


@pytest.mark.parametrize(
    "presented",
    [
        ("\ud800", None),  # a lone surrogate: text that has no UTF-8 encoding
        (None, "current-token\udfff"),
        ("current-token", "current-token\ud800"),
        ("\udcff\udcfe", None),
    ],
)
def test_a_token_that_is_not_encodable_text_is_unauthorized_not_a_crash(presented):
    with pytest.raises(Unauthorized, match="invalid token"):
        authenticate(presented, ACCEPTED)


@pytest.mark.parametrize("odd", [42, 4.2, True, ["current-token"], {"token": "current-token"}])
def test_a_token_that_is_not_text_is_unauthorized_not_a_crash(odd):
    with pytest.raises(Unauthorized, match="invalid token"):
        authenticate((odd, None), ACCEPTED)
    with pytest.raises(Unauthorized, match="invalid token"):
        authenticate(("current-token", odd), ACCEPTED)
