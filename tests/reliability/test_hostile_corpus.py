"""A corpus of hostile or broken deliveries: each gets its expected status, never a 5xx, and
leaves behind exactly what it should (an event, a held body among the held bodies, or nothing) and no
secret in the logs. Every authenticated body that can be held is answered 2xx: refused are only a
missing or wrong token (401), a verb Zenoti never uses (405) and a body too large to hold (413)."""

from __future__ import annotations

import base64
import copy
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from devtools.local_stack.resources import LOCAL_TOKEN
from tests.conftest import (
    EVENTS,
    LambdaContext,
    Response,
    Stack,
    fresh_handler,
    load_event,
    mocked_stack,
)
from zenoti_receiver.adapters.event_table import stored_payload
from zenoti_receiver.adapters.held_bodies import held_body
from zenoti_receiver.logic.parsing import MAX_BODY_BYTES

# A value that must never reach a log line: the logs may name ids, nothing else of the payload.
CANARY = "canary-7f3a9c-guest-note"
SAMPLE: dict[str, Any] = json.loads((EVENTS / "booking_deleted.json").read_text(encoding="utf-8"))


def sample(**top: Any) -> dict[str, Any]:
    payload = copy.deepcopy(SAMPLE)
    payload["note"] = CANARY
    payload.update(top)
    return payload


def with_data(**fields: Any) -> dict[str, Any]:
    payload = sample()
    payload["data"].update(fields)
    return payload


def without(*path: str) -> dict[str, Any]:
    payload = sample()
    target = payload
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return payload


def sized_body(size: int) -> str:
    """A valid event whose JSON text is exactly `size` bytes."""
    payload = sample(padding="")
    base = len(json.dumps(payload).encode())
    payload["padding"] = "x" * (size - base)
    body = json.dumps(payload)
    assert len(body.encode()) == size
    return body


@dataclass
class Case:
    body: str | bytes | None = None  # None: the sample; bytes: sent base64-encoded
    status: int = 200
    reason: str | None = None  # why it is held (202)
    query_token: str | None = LOCAL_TOKEN
    header_token: str | None = None
    method: str = "POST"
    base64_flag: bool | None = None  # force the flag regardless of the body
    other_headers: dict[str, str] | None = None
    drop_body: bool = False  # no "body" key at all in the event
    answer: str | None = None  # the answer's status when not the one its HTTP status implies

    @property
    def authenticated(self) -> bool:
        presented = {token for token in (self.query_token, self.header_token) if token}
        return presented == {LOCAL_TOKEN}

    def event(self) -> dict[str, Any]:
        event = load_event("apigw_booking_deleted.json")
        event["requestContext"]["http"]["method"] = self.method
        body: str | bytes | None = json.dumps(sample()) if self.body is None else self.body
        if isinstance(body, bytes):
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        else:
            event["body"], event["isBase64Encoded"] = body, False
        if self.base64_flag is not None:
            event["isBase64Encoded"] = self.base64_flag
        if self.drop_body:
            del event["body"]
        event["queryStringParameters"] = {"token": self.query_token} if self.query_token is not None else None
        if self.header_token is not None:
            event["headers"]["x-webhook-token"] = self.header_token
        event["headers"].update(self.other_headers or {})
        return event


def dumps(payload: Any, *, ascii: bool = True) -> str:
    return json.dumps(payload, ensure_ascii=ascii)


def nested(depth: int) -> str:
    return json.dumps(sample())[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"


SIBLINGS = ["Class.Booking.Created", "Class.Booking.Cancelled", "Class.Booking.Approved"]
SIBLINGS += ["Class.Booking.Rejected", "Class.Booking.NoShow"]

CASES: dict[str, Case] = {
    # --- tokens ---------------------------------------------------------------------------------
    "no token": Case(status=401, query_token=None),
    "empty token": Case(status=401, query_token=""),
    "token one character different": Case(status=401, query_token=LOCAL_TOKEN[:-1] + "X"),
    "token in upper case": Case(status=401, query_token=LOCAL_TOKEN.upper()),
    "token with a trailing space": Case(status=401, query_token=LOCAL_TOKEN + " "),
    "token with a leading space": Case(status=401, query_token=" " + LOCAL_TOKEN),
    "token missing its last character": Case(status=401, query_token=LOCAL_TOKEN[:-1]),
    "token with an extra character": Case(status=401, query_token=LOCAL_TOKEN + "a"),
    "token repeated in the query": Case(status=401, query_token=f"{LOCAL_TOKEN},{LOCAL_TOKEN}"),
    "query valid, header different": Case(status=401, header_token="something-else"),
    "header valid, query different": Case(status=401, query_token="something-else", header_token=LOCAL_TOKEN),
    "token as a bearer authorization": Case(
        status=401, query_token=None, other_headers={"authorization": f"Bearer {LOCAL_TOKEN}"}
    ),
    "wrong token and a broken body": Case(body="{", status=401, query_token="nope"),
    "token with a lone surrogate in the query": Case(status=401, query_token="\ud800"),
    "valid query, lone surrogate in the header": Case(status=401, header_token=LOCAL_TOKEN + "\udfff"),
    "header token only": Case(status=200, query_token=None, header_token=LOCAL_TOKEN),
    # --- bodies that are not JSON ---------------------------------------------------------------
    "invalid UTF-8": Case(
        body=json.dumps(sample()).encode().replace(b"v1", b"v\xff\xfe"), status=202, reason="malformed_body"
    ),
    "truncated JSON": Case(body=json.dumps(sample())[:200], status=202, reason="malformed_body"),
    # Zenoti's "test your trigger" button: answered, nothing kept.
    "empty body": Case(body="", answer="test"),
    "no body at all": Case(drop_body=True, answer="test"),
    "whitespace only": Case(body="  \n\t ", status=202, reason="malformed_body"),
    "byte order mark": Case(body="\ufeff" + json.dumps(sample()), status=200),
    "trailing garbage": Case(body=json.dumps(sample()) + " x", status=202, reason="malformed_body"),
    "two objects": Case(body=json.dumps(sample()) * 2, status=202, reason="malformed_body"),
    "single quotes": Case(body=json.dumps(sample()).replace('"', "'"), status=202, reason="malformed_body"),
    "lone surrogate escape": Case(
        body=json.dumps(sample())[:-1] + ', "x": "\\ud800"}', status=202, reason="malformed_body"
    ),
    "NaN constant": Case(body=json.dumps(sample())[:-1] + ', "x": NaN}', status=202, reason="malformed_body"),
    "Infinity constant": Case(
        body=json.dumps(sample())[:-1] + ', "x": -Infinity}', status=202, reason="malformed_body"
    ),
    "nesting deeper than the parser allows": Case(body=nested(5000), status=202, reason="undeliverable"),
    "integer past Python's 4,300-digit limit": Case(
        body=json.dumps(sample())[:-1] + ', "big": ' + "9" * 4301 + "}", status=202, reason="undeliverable"
    ),
    # --- what subscribers cannot take --------------------------------------------------------------
    "huge number in an unknown field": Case(
        body=json.dumps(sample())[:-1] + ', "big": 1' + "0" * 400 + "}", status=202, reason="undeliverable"
    ),
    "float beyond double range in an unknown field": Case(
        body=json.dumps(sample())[:-1] + ', "big": -1e99999}', status=202, reason="undeliverable"
    ),
    "nesting of 65 levels": Case(body=nested(64), status=202, reason="undeliverable"),
    "an integer past 2^53 - 1 deep in an unknown field": Case(
        body=dumps(sample(guests=[{"ids": [1, -(2**53) - 1]}])), status=202, reason="undeliverable"
    ),
    "an event dressed as an SNS notification, another event in its Message": Case(
        body=dumps(
            sample(
                Type="Notification",
                MessageId="5b8a3f6e-2c1d-4e8f-9a7b-3c2d1e0f9a8b",
                TopicArn="arn:aws:sns:us-east-1:123456789012:zenoti-local-events",
                Message=dumps(sample(event_id="smuggled")),
                MessageAttributes={"replay": {"Type": "String", "Value": "true"}},
                UnsubscribeURL="https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
            )
        ),
        status=202,
        reason="undeliverable",
    ),
    "SNS's Type alone, in lower case": Case(
        body=dumps(sample(type="Notification")), status=202, reason="undeliverable"
    ),
    "SNS's field names inside data": Case(body=dumps(with_data(Type="Notification", Message="x", TopicArn="arn"))),
    "U+FFFF in a string": Case(body=dumps(sample(note2="a\uffffb"), ascii=False), status=202, reason="undeliverable"),
    "U+FFFE in a key": Case(body=dumps(sample(**{"\ufffe": 1}), ascii=False), status=202, reason="undeliverable"),
    # --- JSON that parsers read differently: subscribers get the body verbatim --------------------
    "duplicate key, the last one invalid": Case(
        body=json.dumps(sample())[:-1] + ', "event_type": "Class.Booking.Created"}', status=202, reason="malformed_body"
    ),
    "duplicate key, the last one valid": Case(
        body=json.dumps(sample(event_type="x"))[:-1] + ', "event_type": "Class.Booking.Deleted"}',
        status=202,
        reason="malformed_body",
    ),
    "duplicate event_id, the first one stored": Case(
        body=json.dumps(sample())[:-1] + ', "event_id": "6239c247a961750e01dda999"}',
        status=202,
        reason="malformed_body",
    ),
    "duplicate guest_id in data": Case(
        body=json.dumps(sample()).replace('"data": {', '"data": {"guest_id": "00000000-0000-4000-8000-000000000000", '),
        status=202,
        reason="malformed_body",
    ),
    "duplicate key spelt with an escape": Case(
        body=json.dumps(sample())[:-1] + ', "event\\u005fid": "6239c247a961750e01dda999"}',
        status=202,
        reason="malformed_body",
    ),
    "duplicate key in an unknown field": Case(
        body=json.dumps(sample())[:-1] + ', "x": [{"a": 1, "a": 2}]}', status=202, reason="malformed_body"
    ),
    "key differing only in case": Case(
        body=json.dumps(sample())[:-1] + ', "EVENT_ID": "6239c247a961750e01dda999"}',
        status=202,
        reason="malformed_body",
    ),
    "flagged base64 but not base64": Case(
        body=json.dumps(sample()), base64_flag=True, status=202, reason="malformed_body"
    ),
    "flagged base64 with bad padding": Case(body="eyJ", base64_flag=True, status=202, reason="malformed_body"),
    # --- JSON that is not an event --------------------------------------------------------------
    "a list": Case(body="[]", status=202, reason="invalid_event"),
    "a list holding the event": Case(body=dumps([sample()]), status=202, reason="invalid_event"),
    "a string": Case(body='"Class.Booking.Deleted"', status=202, reason="invalid_event"),
    "a number": Case(body="42", status=202, reason="invalid_event"),
    "null": Case(body="null", status=202, reason="invalid_event"),
    "true": Case(body="true", status=202, reason="invalid_event"),
    "empty object": Case(body="{}", status=202, reason="invalid_event"),
    "missing data": Case(body=dumps(without("data")), status=202, reason="invalid_event"),
    "data is null": Case(body=dumps(sample(data=None)), status=202, reason="invalid_event"),
    "data is a list": Case(body=dumps(sample(data=[SAMPLE["data"]])), status=202, reason="invalid_event"),
    "data is a string": Case(body=dumps(sample(data="{}")), status=202, reason="invalid_event"),
    "missing id": Case(body=dumps(without("id")), status=202, reason="invalid_event"),
    "missing event_id": Case(body=dumps(without("event_id")), status=202, reason="invalid_event"),
    "missing event_timestamp": Case(body=dumps(without("event_timestamp")), status=202, reason="invalid_event"),
    "missing registration_id": Case(body=dumps(without("data", "registration_id")), status=202, reason="invalid_event"),
    "missing center_id": Case(body=dumps(without("data", "center_id")), status=202, reason="invalid_event"),
    "id is a number": Case(body=dumps(sample(id=6239)), status=202, reason="invalid_event"),
    "id is null": Case(body=dumps(sample(id=None)), status=202, reason="invalid_event"),
    "id is an object": Case(body=dumps(sample(id={"$oid": "6239"})), status=202, reason="invalid_event"),
    "id too long": Case(body=dumps(sample(id="a" * 129)), status=202, reason="invalid_event"),
    "event_id is null": Case(body=dumps(sample(event_id=None)), status=202, reason="invalid_event"),
    "event_id is empty": Case(body=dumps(sample(event_id="")), status=202, reason="invalid_event"),
    "event_id is a number": Case(body=dumps(sample(event_id=1)), status=202, reason="invalid_event"),
    "event_id is a boolean": Case(body=dumps(sample(event_id=True)), status=202, reason="invalid_event"),
    "event_id with a space": Case(body=dumps(sample(event_id="62 39")), status=202, reason="invalid_event"),
    "event_id with a newline": Case(
        body=dumps(sample(event_id="6239\nforged log line")), status=202, reason="invalid_event"
    ),
    "event_id with a huge string": Case(
        body=dumps(sample(event_id="e" * 20_000)), status=202, reason="invalid_event"
    ),  # within the body limit
    "event_type is null": Case(body=dumps(sample(event_type=None)), status=202, reason="invalid_event"),
    "event_type in lower case": Case(
        body=dumps(sample(event_type="class.booking.deleted")), status=202, reason="invalid_event"
    ),
    **{f"sibling event {name}": Case(body=dumps(sample(event_type=name)), status=200) for name in SIBLINGS},
    "unknown event_schema": Case(body=dumps(sample(event_schema="v2")), status=202, reason="invalid_event"),
    "event_schema is null": Case(body=dumps(sample(event_schema=None)), status=202, reason="invalid_event"),
    "event_resource is Appointment": Case(
        body=dumps(sample(event_resource="Appointment")), status=202, reason="invalid_event"
    ),
    "timestamp is a number": Case(body=dumps(sample(event_timestamp=1647952455)), status=202, reason="invalid_event"),
    "timestamp without offset": Case(
        body=dumps(sample(event_timestamp="2022-03-22T12:34:15.3797492")), status=202, reason="invalid_event"
    ),
    "timestamp with ten fractional digits": Case(
        body=dumps(sample(event_timestamp="2022-03-22T12:34:15.3797492123Z")), status=202, reason="invalid_event"
    ),
    "timestamp on February 30th": Case(
        body=dumps(sample(event_timestamp="2022-02-30T12:34:15Z")), status=202, reason="invalid_event"
    ),
    "timestamp with a trailing newline": Case(
        body=dumps(sample(event_timestamp="2022-03-22T12:34:15Z\n")), status=202, reason="invalid_event"
    ),
    "timestamp in Arabic-Indic digits": Case(
        body=dumps(sample(event_timestamp="\u0662\u0660\u0662\u0662-03-22T12:34:15Z")),
        status=202,
        reason="invalid_event",
    ),
    "timestamp before year 1 in UTC": Case(
        body=dumps(sample(event_timestamp="0001-01-01T00:00:00+01:00")), status=202, reason="invalid_event"
    ),
    "timestamp after year 9999 in UTC": Case(
        body=dumps(sample(event_timestamp="9999-12-31T23:59:59.9999999-01:00")), status=202, reason="invalid_event"
    ),
    "registration_id as a string": Case(
        body=dumps(with_data(registration_id="119986")), status=202, reason="invalid_event"
    ),
    "registration_id as a float": Case(
        body=dumps(with_data(registration_id=119986.5)), status=202, reason="invalid_event"
    ),
    "registration_id is null": Case(body=dumps(with_data(registration_id=None)), status=202, reason="invalid_event"),
    "registration_id is true": Case(body=dumps(with_data(registration_id=True)), status=202, reason="invalid_event"),
    "registration_id is negative": Case(body=dumps(with_data(registration_id=-1)), status=202, reason="invalid_event"),
    "registration_id beyond 64 bits": Case(
        body=dumps(with_data(registration_id=10**30)), status=202, reason="undeliverable"
    ),
    "registration_id of 2^53, which JavaScript cannot tell from 2^53 + 1": Case(
        body=dumps(with_data(registration_id=2**53)), status=202, reason="undeliverable"
    ),
    "registration_id of 2^53 - 1": Case(body=dumps(with_data(registration_id=2**53 - 1))),
    "class_id as a string": Case(body=dumps(with_data(class_id="11370")), status=202, reason="invalid_event"),
    "session_id is null": Case(body=dumps(with_data(session_id=None)), status=202, reason="invalid_event"),
    "session_id is a list": Case(body=dumps(with_data(session_id=[89607])), status=202, reason="invalid_event"),
    "center_id is not a UUID": Case(body=dumps(with_data(center_id="center-1")), status=202, reason="invalid_event"),
    "center_id is a number": Case(body=dumps(with_data(center_id=1)), status=202, reason="invalid_event"),
    "center_id is null": Case(body=dumps(with_data(center_id=None)), status=202, reason="invalid_event"),
    "guest_id is a list": Case(
        body=dumps(with_data(guest_id=[SAMPLE["data"]["guest_id"]])), status=202, reason="invalid_event"
    ),
    "guest_id is a truncated UUID": Case(
        body=dumps(with_data(guest_id=SAMPLE["data"]["guest_id"][:-1])), status=202, reason="invalid_event"
    ),
    "centre id in upper case": Case(body=dumps(with_data(center_id=SAMPLE["data"]["center_id"].upper())), status=200),
    "guest id in braces": Case(
        body=dumps(with_data(guest_id="{" + SAMPLE["data"]["guest_id"] + "}")), status=202, reason="invalid_event"
    ),
    "guest id as a URN": Case(
        body=dumps(with_data(guest_id="urn:uuid:" + SAMPLE["data"]["guest_id"])), status=202, reason="invalid_event"
    ),
    "centre id without hyphens": Case(
        body=dumps(with_data(center_id=SAMPLE["data"]["center_id"].replace("-", ""))),
        status=202,
        reason="invalid_event",
    ),
    # --- sizes ----------------------------------------------------------------------------------
    "body exactly at the limit": Case(body=sized_body(MAX_BODY_BYTES), status=200),
    "body one byte over the limit": Case(body=sized_body(MAX_BODY_BYTES + 1), status=413),
    "base64 body one byte over the limit": Case(body=sized_body(MAX_BODY_BYTES + 1).encode(), status=413),
    "body of a megabyte": Case(body=dumps(sample(padding="x" * 2**20)), status=413),
    # --- accepted although unusual: Zenoti's leniency, documented in the README ------------------
    "extra fields everywhere": Case(body=dumps({**with_data(room={"id": 7}), "tenant": [1, {"a": None}]})),
    "real number as large as a double takes": Case(body=json.dumps(sample())[:-1] + ', "big": 1' + "0" * 300 + ".5}"),
    "nesting of 64 levels": Case(body=nested(63)),
    "U+FFFF escaped in a string": Case(body=dumps(sample(note2="a\uffffb"))),
    "NaN inside a string": Case(body=dumps(sample(note2="NaN and Infinity"))),
    "the same key in different objects": Case(body=dumps(sample(extra={"event_id": "x", "data": {"id": 1}}))),
    "NUL character inside a string": Case(body=dumps(sample(note2="a\u0000b"))),
    "text/plain content type": Case(other_headers={"content-type": "text/plain"}),
    "sent base64-encoded": Case(body=dumps(sample()).encode()),
    "PUT": Case(method="PUT"),
    "PATCH": Case(method="PATCH"),
    # --- wrong verbs ----------------------------------------------------------------------------
    "GET": Case(method="GET", status=405),
    "DELETE": Case(method="DELETE", status=405),
}


def test_the_corpus_is_large_enough():
    hostile = [case for case in CASES.values() if case.status != 200]
    assert len(hostile) >= 60
    assert all(case.reason for case in CASES.values() if case.status == 202)
    # Only what is not Zenoti's, or cannot be held at all, is refused.
    assert {case.status for case in CASES.values()} == {200, 202, 401, 405, 413}


@pytest.fixture(scope="module")
def warm() -> Iterator[tuple[Stack, ModuleType, io.StringIO]]:
    """One account and one warm execution environment for the whole corpus (each case starts from empty)."""
    with pytest.MonkeyPatch.context() as monkeypatch, mocked_stack(monkeypatch) as stack:
        stream = io.StringIO()
        yield stack, fresh_handler(stream), stream
        sys.modules.pop("zenoti_receiver.handler", None)


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_delivery(name: str, warm: tuple[Stack, ModuleType, io.StringIO]) -> None:
    stack, handler, log_stream = warm
    stack.reset()
    log_stream.seek(0)
    log_stream.truncate()
    case = CASES[name]
    event = case.event()

    result = handler.lambda_handler(event, LambdaContext(aws_request_id=event["requestContext"]["requestId"]))
    response = Response(result["statusCode"], json.loads(result["body"]), result["headers"])

    assert response.status == case.status, response.body
    assert response.status < 500
    assert response.body["status"] == case.answer or {200: "accepted", 202: "held"}.get(case.status, "refused")
    held = stack.held_bodies()
    if case.answer == "test":
        assert (stack.items(), held, stack.messages()) == ([], [], [])
        return
    if case.status == 200:
        [item] = stack.items()
        assert stored_payload(item).encode() == _sent_bytes(event).removeprefix(b"\xef\xbb\xbf")
        assert len(stack.messages()) == 1
        assert held == []
        return
    assert response.body["reason"]
    assert response.body["message"]
    assert stack.items() == []
    assert stack.messages() == []
    if case.status == 202:
        assert case.authenticated
        assert response.body["reason"] == case.reason
        [entry] = held
        assert held_body(entry) == _sent_bytes(event)
        assert entry["reason"] == {"S": case.reason}
    else:
        assert held == []
    logs = log_stream.getvalue()
    assert LOCAL_TOKEN not in logs
    assert LOCAL_TOKEN.upper() not in logs
    assert CANARY not in logs


def _sent_bytes(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event["isBase64Encoded"]:
        try:
            return base64.b64decode(body, validate=True)
        except ValueError:
            pass
    return str(body).encode("utf-8", errors="surrogatepass")
