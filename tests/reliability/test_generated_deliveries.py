"""Property: whatever body and headers arrive, the answer is a deliberate 2xx or 4xx, never a 5xx,
and every accepted event is stored and published exactly once; every held body is kept."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.local_stack.resources import LOCAL_TOKEN
from tests.conftest import EVENTS, Stack, load_event

SAMPLE: dict[str, Any] = json.loads((EVENTS / "booking_deleted.json").read_text(encoding="utf-8"))
FIELDS = [(key,) for key in SAMPLE if key != "data"] + [("data", key) for key in SAMPLE["data"]]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@st.composite
def mutated_samples(draw: st.DrawFn) -> str:
    """Zenoti's sample with some fields replaced by arbitrary JSON, removed, or a fresh event_id."""
    payload = copy.deepcopy(SAMPLE)
    payload["event_id"] = draw(st.from_regex(r"[0-9a-f]{24}", fullmatch=True))
    for path in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        target = payload if len(path) == 1 else payload["data"]
        if draw(st.booleans()):
            target[path[-1]] = draw(json_values)
        else:
            target.pop(path[-1], None)
    return json.dumps(payload)


bodies = st.one_of(
    mutated_samples(),
    json_values.map(json.dumps),
    st.text(max_size=300),
    st.binary(max_size=300),
)
tokens = st.one_of(
    st.none(),
    st.just(LOCAL_TOKEN),
    st.text(max_size=24),
    st.sampled_from([LOCAL_TOKEN.upper(), LOCAL_TOKEN + " ", LOCAL_TOKEN[:-1], f"{LOCAL_TOKEN},{LOCAL_TOKEN}"]),
)


@pytest.mark.deep
def test_generated_deliveries_get_deliberate_answers_and_lose_nothing(invoke, stack: Stack, log_stream) -> None:
    accepted: set[str] = set()
    holdable: set[str] = set()  # sha256 of the bodies held
    delivered: list[int] = []

    @settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        body=bodies,
        query_token=tokens,
        header_token=tokens,
        base64_flag=st.booleans(),
        method=st.sampled_from(["POST", "PUT", "PATCH", "POST", "GET"]),
    )
    def deliver(body: str | bytes, query_token: str | None, header_token: str | None, base64_flag: bool, method: str):
        event = load_event("apigw_booking_deleted.json")
        event["requestContext"]["http"]["method"] = method
        event["queryStringParameters"] = None if query_token is None else {"token": query_token}
        if header_token is not None:
            event["headers"]["x-webhook-token"] = header_token
        raw = body if isinstance(body, bytes) else body.encode("utf-8", errors="surrogatepass")
        if isinstance(body, bytes) or base64_flag:
            event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
        else:
            event["body"], event["isBase64Encoded"] = body, False

        response = invoke(event)
        delivered.append(response.status)

        assert response.status in (200, 202, 401, 405, 413), response.body
        presented = {token for token in (query_token, header_token) if token}
        if response.status == 200 and response.body["status"] == "test":
            # Zenoti's "test your trigger" button: an empty body with the token, nothing kept.
            assert (raw, presented) == (b"", {LOCAL_TOKEN})
        elif response.status == 200:
            assert response.body["status"] in ("accepted", "duplicate")
            accepted.add(response.body["event_id"])
        elif response.status == 202:
            assert (response.body["status"], presented) == ("held", {LOCAL_TOKEN})
        else:
            assert response.body["status"] == "refused"
            assert response.body["message"]
        if response.status == 202 or response.body.get("reason") == "conflicting_duplicate":
            holdable.add(hashlib.sha256(raw).hexdigest())

    deliver()

    assert len(delivered) >= 1000
    assert accepted, "the generated deliveries must include accepted events"
    assert {item["event_id"]["S"] for item in stack.items()} == accepted
    published = Counter(json.loads(message["Message"])["event_id"] for message in drain(stack))
    assert published == Counter(accepted)  # each accepted event exactly once
    assert {entry["body_sha256"]["S"] for entry in stack.held_bodies()} == holdable
    assert LOCAL_TOKEN not in log_stream.getvalue()


def drain(stack: Stack) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while batch := stack.messages():
        messages += batch
    return messages
