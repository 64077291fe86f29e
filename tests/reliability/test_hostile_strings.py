"""Property: whatever text, numbers or types a request carries, the use case accepts the event, holds
the body (authenticated, and held), or raises one of the WebhookRefused family
(401, 413) - never another exception, which the handler would answer with a 5xx. Driven with
in-memory stand-ins for the table, topic and held_bodies, so thousands of hostile deliveries take
seconds; test_generated_deliveries.py proves the same end to end against moto,
test_hostile_corpus.py names the concrete cases found here."""

from __future__ import annotations

import base64
import copy
import json
import math
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.conftest import EVENTS
from zenoti_receiver.errors import WebhookRefused
from zenoti_receiver.logic.authentication import AcceptedTokens
from zenoti_receiver.logic.parsing import MAX_SAFE_INTEGER
from zenoti_receiver.logic.ports import AlreadyStored, Delivery, HeldDelivery, ReceivedEvent
from zenoti_receiver.logic.receiving import Accepted, Held, Receipt, TriggerTested, WebhookReceiver
from zenoti_receiver.models.class_booking import ClassBookingEvent, parse_event_timestamp

TOKEN = "t0ken-of-the-test"
SAMPLE_TEXT = (EVENTS / "booking_deleted.json").read_text(encoding="utf-8")
SAMPLE: dict[str, Any] = json.loads(SAMPLE_TEXT)
FIELDS = [(key,) for key in SAMPLE if key != "data"] + [("data", key) for key in SAMPLE["data"]]

# --- hostile ingredients -------------------------------------------------------------------------

# Every code point: lone surrogates, controls, noncharacters, other scripts' digits.
any_text = st.text(st.characters(), max_size=30)
nasty_text = st.sampled_from(
    ["\ud800", "\udfff", "\x00", "\x1f", "\x7f", "\u2028", "\ufeff", "\uffff", "\U0010ffff", "٢٠٢٢", "\n", "", " "]
)
hostile_text = st.one_of(any_text, nasty_text, st.lists(nasty_text | any_text, max_size=4).map("".join))

# Raw JSON number texts that json.dumps cannot produce: beyond every integer and float range,
# past Python's 4,300-digit int conversion limit, and the constants JSON does not have.
number_texts = st.one_of(
    st.integers(min_value=4290, max_value=4310).map(lambda digits: "9" * digits),
    st.integers(min_value=1, max_value=400).map(lambda digits: "-" + "1" * digits),
    st.sampled_from(["1e99999", "-1e99999", "1e-99999", "0.0000000000000000000001", "-0", "1E400", "1.0"]),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "0x10", "01", "+1", ".5", "1."]),
    st.integers().map(str),
)
extreme_ints = st.one_of(
    st.integers(),
    st.integers(min_value=MAX_SAFE_INTEGER - 2, max_value=MAX_SAFE_INTEGER + 2),
    st.integers(min_value=-MAX_SAFE_INTEGER - 2, max_value=-MAX_SAFE_INTEGER + 2),
    st.integers(min_value=2**63 - 2, max_value=2**64 + 1),
    st.integers(max_value=-(2**63) + 1, min_value=-(2**64)),
    st.sampled_from([0, -1, 1, 2**31, 2**53 - 1, 2**53, 2**53 + 1, 2**63 - 1, 2**63, 10**100]),
)


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """ISO 8601 shapes at and past every edge: years 0 and 1 and 9999 with offsets that leave them."""
    year = draw(st.sampled_from([0, 1, 2, 1970, 2022, 9998, 9999]) | st.integers(0, 9999))
    month, day = draw(st.integers(0, 13)), draw(st.sampled_from([0, 1, 28, 29, 30, 31, 32]))
    hour, minute, second = draw(st.integers(0, 25)), draw(st.integers(0, 61)), draw(st.integers(0, 61))
    fraction = draw(st.text("0123456789", max_size=11))
    offset = draw(
        st.just("Z")
        | st.builds(
            lambda sign, hours, minutes: f"{sign}{hours:02d}:{minutes:02d}",
            st.sampled_from("+-"),
            st.sampled_from([0, 1, 12, 14, 23, 24, 99]) | st.integers(0, 99),
            st.sampled_from([0, 1, 59, 60, 99]),
        )
    )
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    text += f".{fraction}" if fraction or draw(st.booleans()) else ""
    return text + offset + draw(st.sampled_from(["", "", "", "\n", " ", "Z", "\x00"]))


json_values = st.recursive(
    st.none() | st.booleans() | extreme_ints | st.floats() | hostile_text | timestamps(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(hostile_text, children, max_size=3),
    max_leaves=8,
)


@st.composite
def mutated_samples(draw: st.DrawFn) -> str:
    """Zenoti's sample with fields replaced by hostile values (or removed), serialised either way."""
    payload = copy.deepcopy(SAMPLE)
    for path in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3, unique=True)):
        target = payload if len(path) == 1 else payload["data"]
        if path == ("event_timestamp",):
            target[path[-1]] = draw(timestamps() | hostile_text)
        elif draw(st.integers(0, 4)):
            target[path[-1]] = draw(json_values)
        else:
            target.pop(path[-1], None)
    # ensure_ascii=False puts lone surrogates into the text raw; True writes them as \\ud800 escapes.
    return json.dumps(payload, ensure_ascii=draw(st.booleans()), allow_nan=True)


@st.composite
def spliced_samples(draw: st.DrawFn) -> str:
    """The sample's own text with raw JSON spliced in: numbers, repeated keys, depth, odd escapes."""
    # SNS's envelope fields too, spelt as SNS, as Powertools and as Go would match them, and escaped.
    dressed = ["Type", "Message", "TopicArn", "message", "Messag\\u0065", "UnsubscribeUrl"]
    key = draw(
        st.sampled_from([*SAMPLE, *SAMPLE["data"], "x", "event_\\u0069d", "\\ud800", "EVENT_ID", "Guest_Id", *dressed])
    )
    nested = draw(st.integers(0, 3000))
    value = draw(
        number_texts
        | st.just("[" * nested + "]" * nested)
        | st.just('{"a":' * nested + "1" + "}" * nested)
        | st.sampled_from(['"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"', '"\\x41"', '"\t"', "[1,]", "{,}", "nul"])
        | hostile_text.map(json.dumps)
    )
    at = draw(st.sampled_from(["top", "data"]))
    if at == "top":
        return SAMPLE_TEXT.rstrip()[:-1] + f', "{key}": {value}}}'
    return SAMPLE_TEXT.replace('"data": {', f'"data": {{"{key}": {value},', 1)


texts = st.one_of(mutated_samples(), spliced_samples(), hostile_text, json_values.map(json.dumps))
odd_types = st.one_of(st.integers(), st.floats(), st.booleans(), st.binary(max_size=8), st.lists(st.text(), max_size=2))
tokens = st.one_of(
    st.none(),
    st.just(TOKEN),
    st.just(TOKEN),
    hostile_text,
    hostile_text.map(lambda noise: TOKEN + noise),
    odd_types,
    st.just([TOKEN]),
)


@st.composite
def deliveries(draw: st.DrawFn) -> Delivery:
    # Mostly the right token, so that most deliveries reach the body.
    if draw(st.integers(0, 3)):
        tokens_presented = draw(st.sampled_from([(TOKEN, None), (None, TOKEN), (TOKEN, TOKEN)]))
    else:
        tokens_presented = (draw(tokens), draw(tokens))
    kind = draw(st.sampled_from(["text", "text", "text", "base64 of bytes", "flagged base64", "odd type"]))
    if kind == "text":
        body, is_base64 = draw(texts), False
    elif kind == "base64 of bytes":
        raw = draw(st.binary(max_size=200) | texts.map(lambda text: text.encode("utf-8", "surrogatepass")))
        body, is_base64 = base64.b64encode(raw).decode(), True
    elif kind == "flagged base64":
        body, is_base64 = draw(texts), True
    else:
        body, is_base64 = draw(st.none() | odd_types | st.dictionaries(st.text(), st.text(), max_size=2)), False
    return Delivery(request_id="req-1", presented_tokens=tokens_presented, body=body, body_is_base64=is_base64)


# --- in-memory stand-ins, as strict as AWS about what they are handed -----------------------------


@dataclass
class Store:
    stored: list[ReceivedEvent] = field(default_factory=list)

    def store_once(self, received: ReceivedEvent) -> AlreadyStored | None:
        event = received.event
        # What any store must compute from the event: AWS takes text only as valid UTF-8.
        for text in (received.payload, event.event_id, event.id, event.event_timestamp, str(event.data.guest_id)):
            text.encode("utf-8")
        assert event.occurred_at.tzinfo is UTC
        # ...and the message attributes, which SNS takes as text only.
        for value in received.attributes.values():
            value.encode("utf-8")
        self.stored.append(received)
        return None


@dataclass
class Kept:
    kept: list[HeldDelivery] = field(default_factory=list)

    def keep(self, held: HeldDelivery) -> None:
        assert isinstance(held.body, bytes)
        json.dumps(held.errors).encode("utf-8")
        held.message.encode("utf-8")
        self.kept.append(held)


class Tokens:
    def accepted_tokens(self) -> AcceptedTokens:
        return AcceptedTokens(token=TOKEN)


def deliver(delivery: Delivery) -> None:
    """Receive one delivery and check it ended the way a deliberate answer does."""
    store, held_bodies = Store(), Kept()
    receiver = WebhookReceiver(tokens=Tokens(), store=store, held_bodies=held_bodies)
    offered = [token for token in delivery.presented_tokens if token]
    authenticated = bool(offered) and all(token == TOKEN for token in offered)
    try:
        receipt: Receipt | WebhookRefused = receiver.receive(delivery)
    except WebhookRefused as refused:  # any other exception fails the test
        receipt = refused
    if isinstance(receipt, WebhookRefused):
        rejection = receipt
        event(f"refused {rejection.status}")
        assert rejection.status in (401, 413)
        assert (rejection.status == 401) == (not authenticated)
        json.dumps({"message": rejection.message}).encode("utf-8")  # into the JSON answer and a log line
        assert (store.stored, held_bodies.kept) == ([], [])
        return
    if isinstance(receipt, TriggerTested):  # an empty body: Zenoti's test button
        event("test")
        assert authenticated
        assert not delivery.body
        assert (store.stored, held_bodies.kept) == ([], [])
        return
    if isinstance(receipt, Held):
        held = receipt.why
        event(f"held {held.reason}")
        assert authenticated
        # The message and errors go into the JSON answer and a log line.
        json.dumps({"message": held.message, "errors": held.errors}).encode("utf-8")
        assert store.stored == []
        [kept] = held_bodies.kept
        assert kept.reason == held.reason
        return
    event("accepted")
    assert authenticated
    assert isinstance(receipt, Accepted)
    [received] = store.stored
    assert receipt.event_id == received.event.event_id
    assert held_bodies.kept == []
    # Subscribers get the body verbatim: whichever way their parser reads it, it is the event we stored.
    stored = received.event
    identity = (stored.event_id, stored.event_timestamp, str(stored.data.center_id), str(stored.data.guest_id))
    for read in (json.loads, first_key_wins, keys_ignoring_case):
        message = read(received.payload)
        data = message["data"]
        assert (message["event_id"], message["event_timestamp"], data["center_id"], data["guest_id"]) == identity
    # ...and every subscriber can take it: SQS's characters, numbers a double holds, at most 64 levels deep.
    assert all(ord(c) in (0x9, 0xA, 0xD) or 0x20 <= ord(c) <= 0xFFFD or ord(c) > 0xFFFF for c in received.payload)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in received.payload)
    as_doubles = json.loads(received.payload, parse_int=float)
    assert depth(as_doubles) <= 64
    assert all(math.isfinite(number) for number in numbers(as_doubles))
    # ...every integer as JavaScript reads it, exactly...
    as_written = json.loads(received.payload)
    assert all(abs(number) <= MAX_SAFE_INTEGER for number in integers(as_written))
    # ...and none can take it for SNS's envelope and read another event in its Message.
    assert not {key.casefold() for key in as_written} & SNS_ENVELOPE


def depth(value: Any) -> int:
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
    return 0 if children is None else 1 + max(map(depth, children), default=0)


def numbers(value: Any) -> list[float]:
    if isinstance(value, dict | list):
        return [number for child in (value.values() if isinstance(value, dict) else value) for number in numbers(child)]
    return [value] if isinstance(value, float) else []


def integers(value: Any) -> list[int]:
    if isinstance(value, dict | list):
        children = value.values() if isinstance(value, dict) else value
        return [number for child in children for number in integers(child)]
    return [value] if isinstance(value, int) and not isinstance(value, bool) else []


# What Powertools' SNS model and SNS's documentation name in a notification and a confirmation.
SNS_ENVELOPE = {
    "type",
    "messageid",
    "token",
    "topicarn",
    "subject",
    "message",
    "timestamp",
    "signatureversion",
    "signature",
    "signingcerturl",
    "subscribeurl",
    "unsubscribeurl",
    "messageattributes",
}


def first_key_wins(text: str) -> Any:
    return json.loads(text, object_pairs_hook=lambda pairs: dict(reversed(pairs)))


def keys_ignoring_case(text: str) -> Any:
    """As Go's encoding/json fills a struct: any spelling of a field's name in any case, the last one counts."""
    return json.loads(text, object_pairs_hook=lambda pairs: {key.casefold(): value for key, value in pairs})


def runs(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@runs(300)
@given(deliveries())
@example(Delivery("r", (TOKEN, None), SAMPLE_TEXT))  # the property covers acceptance too
@example(Delivery("r", ("\ud800", None), SAMPLE_TEXT))
@example(Delivery("r", (TOKEN, None), SAMPLE_TEXT.replace("2022-03-22T12:34:15.3797492Z", "0001-01-01T00:00:00+01:00")))
@example(Delivery("r", (TOKEN, None), SAMPLE_TEXT.replace("119986", str(2**53))))
@example(Delivery("r", (TOKEN, None), SAMPLE_TEXT.replace('"data": {', '"Type": "Notification", "data": {', 1)))
def test_hostile_deliveries_end_in_an_acceptance_or_a_deliberate_refusal(delivery: Delivery) -> None:
    deliver(delivery)


@pytest.mark.deep
@runs(20_000)
@given(deliveries())
def test_many_hostile_deliveries_end_in_an_acceptance_or_a_deliberate_refusal(delivery: Delivery) -> None:
    deliver(delivery)


@runs(500)
@given(timestamps() | hostile_text)
def test_any_timestamp_is_read_in_utc_or_refused_as_a_field_error(text: str) -> None:
    try:
        moment = parse_event_timestamp(text)
    except ValueError:
        payload = copy.deepcopy(SAMPLE) | {"event_timestamp": text}
        with pytest.raises(ValidationError) as raised:
            ClassBookingEvent.model_validate(payload)
        assert [error["loc"] for error in raised.value.errors()] == [("event_timestamp",)]
        return
    assert moment.tzinfo is UTC
    assert text.isascii()
    assert text.isprintable()
