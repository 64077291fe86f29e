"""The first hour after a leaked webhook URL (docs/security.md), walked command by command against moto.

Someone holding the token plants an event_id Zenoti will use later and floods the held bodies; the
operator rotates, lists what the leaked token brought in, promotes the real event over the planted
one, purges the rest, and finishes the rotation. The subscriber receives the real event exactly once.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import boto3
import pytest

from devtools.local_stack.resources import LOCAL_TOKEN, REGION
from tests.conftest import Stack, with_body
from tests.ops.test_held import deploy_the_stack

FUTURE_ID = "6239c247a961750e01dda0ff"  # an id Zenoti has not used yet: its ids are a timestamp and a counter


def delivery(api_event: dict[str, Any], token: str, body: str, request_id: str) -> dict[str, Any]:
    event = with_body(api_event, body)
    event["queryStringParameters"] = {"token": token}
    event["requestContext"]["requestId"] = request_id
    return event


def secret_versions(stack: Stack) -> dict[str, str]:
    """Stage label -> version id: what `aws secretsmanager list-secret-version-ids` shows."""
    listed = boto3.client("secretsmanager", region_name=REGION).list_secret_version_ids(
        SecretId=stack.resources.secret_arn
    )["Versions"]
    return {stage: version["VersionId"] for version in listed for stage in version.get("VersionStages", [])}


@pytest.fixture
def deployed(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_CACHE_SECONDS", "0")  # the receiver reads each rotation at once
    deploy_the_stack(stack)  # the stack whose outputs ops reads: its tables, secret and webhook


def test_the_first_hour_after_a_leak(run, deployed, stack: Stack, invoke, api_event, raw_payload):
    real = json.loads(raw_payload)
    real["event_id"] = FUTURE_ID
    real_body = json.dumps(real)
    planted = copy.deepcopy(real)
    planted["data"]["guest_id"] = "0b9d8c7e-1a2b-4c3d-8e9f-a0b1c2d3e4f5"  # another guest's booking, "deleted"
    planted_body = json.dumps(planted)

    # The leak: the attacker plants the id Zenoti will use next, and floods the held bodies with junk.
    assert invoke(delivery(api_event, LOCAL_TOKEN, planted_body, "attacker-1")).body["status"] == "accepted"
    for number in range(30):
        assert invoke(delivery(api_event, LOCAL_TOKEN, f"junk {number}", f"attacker-junk-{number}")).status == 202
    [published] = stack.messages()
    assert published["Message"] == planted_body  # published before anyone knew; subscribers are told below
    leaked = secret_versions(stack)["AWSCURRENT"]

    # 1. Rotate: Zenoti's URL keeps working with the old token until it is changed.
    assert run("token", "rotate").code == 0
    rotated = secret_versions(stack)["AWSCURRENT"]
    new_token = json.loads(
        boto3.client("secretsmanager", region_name=REGION).get_secret_value(SecretId=stack.resources.secret_arn)[
            "SecretString"
        ]
    )["token"]

    # Zenoti's real event arrives, through the new URL: a conflicting duplicate of the planted id, held.
    answer = invoke(delivery(api_event, new_token, real_body, "zenoti-1"))
    assert (answer.status, answer.body["reason"]) == (200, "conflicting_duplicate")
    assert stack.messages() == []

    # 2. List what the leaked token brought in: the planted event and the junk; nothing of the new token's.
    leaked_token = ["--token", f"current:{leaked}", "--token", f"previous:{rotated}"]
    listed = run("forensics", "list", *leaked_token)
    assert listed.code == 0, listed.err
    assert f"Events stored with token current:{leaked} or previous:{rotated}: 1" in listed.out
    assert f'"event_id": "{FUTURE_ID}"' in listed.out
    assert f"Bodies held with token current:{leaked} or previous:{rotated}: 30" in listed.out

    # 3. Promote the real event over the planted one; the subscriber receives it once.
    held_list = run("held", "list", "--state", "held", "--limit", "100")
    [conflict_row] = [row for row in held_list.out.splitlines() if "conflicting_duplicate" in row]
    short_id = conflict_row.split()[0]
    promoted = run("held", "promote", short_id)
    assert promoted.code == 0, promoted.err
    [message] = stack.messages()
    assert message["Message"] == real_body
    assert stack.messages() == []  # once
    [item] = stack.items()
    assert item["token_used"] == {"S": f"current:{rotated}"}
    # Kept as long as the stack keeps any event (its EventRetentionDays), not for ever.
    assert int(item["expires_at"]["N"]) == pytest.approx(time.time() + 400 * 86_400, abs=60)
    # The planted body is held, with the token that brought it, for the record; bounded like any held body.
    planted_entries = [e for e in stack.held_bodies() if e.get("event_id") == {"S": FUTURE_ID}]
    assert {e["state"]["S"] for e in planted_entries} == {"held", "promoted"}
    [planted_entry] = [e for e in planted_entries if e["state"]["S"] == "held"]
    assert int(planted_entry["expires_at"]["N"]) == pytest.approx(time.time() + 20 * 86_400, abs=60)
    assert planted_entry["header_names"] == item["header_names"]

    # 4. Purge what the leaked token held (the junk and the planted body); what else is held stays.
    purged = run("held", "purge", *leaked_token)
    assert purged.code == 0, purged.err
    assert purged.out.strip() == "Purged 31 held bodies."
    assert [e["state"]["S"] for e in stack.held_bodies()] == ["promoted"]

    # 5. Finish the rotation once Zenoti's URL has the new token: the leaked token is refused from now on.
    assert run("token", "drop-previous").code == 0
    assert invoke(delivery(api_event, LOCAL_TOKEN, planted_body, "attacker-2")).status == 401


def test_only_a_held_conflicting_duplicate_is_promoted_and_only_once(run, deployed, stack: Stack, invoke, api_event):
    invoke(api_event)
    other = with_body(api_event, api_event["body"].replace("119986", "119987"))
    assert invoke(other).body["reason"] == "conflicting_duplicate"
    assert invoke(with_body(api_event, "{not an event")).status == 202
    stack.messages()
    by_reason = {entry["reason"]["S"]: entry["body_sha256"]["S"] for entry in stack.held_bodies()}

    not_a_conflict = run("held", "promote", by_reason["malformed_body"])
    first = run("held", "promote", by_reason["conflicting_duplicate"])
    again = run("held", "promote", by_reason["conflicting_duplicate"])

    assert not_a_conflict.code == 2
    assert "is not a conflicting duplicate: re-drive it instead" in not_a_conflict.err
    assert first.code == 0, first.err
    assert again.code == 2
    assert again.err.endswith("is promoted, not held: nothing to promote\n")
    [message] = stack.messages()  # the promoted body, once
    assert message["Message"] == other["body"]
