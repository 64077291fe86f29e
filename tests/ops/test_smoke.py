"""`python -m ops smoke`: after a deploy, a made-up event through the stack's own URL, stored, then published."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

import ops.held
import ops.smoke
from devtools.local_stack.resources import REGION
from tests.conftest import Stack, with_body
from tests.ops.test_held import OWN_WEBHOOK_URL, WEBHOOK_API
from tests.ops.test_target import deploy

LOG_GROUP = "/aws/lambda/zenoti-webhooks-PublisherFunction-Ab12"


@pytest.fixture
def deployed(stack: Stack, invoke, api_event, logs, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A deployed stack in moto: its webhook the real handler; the publisher's lines shipped to its log group."""
    resources = {
        **WEBHOOK_API,
        "PublisherLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": LOG_GROUP}},
    }
    outputs = {
        "EventsTableName": stack.resources.table_name,
        "HeldBodiesTableName": stack.resources.held_table_name,
        "WebhookUrl": OWN_WEBHOOK_URL,
        "WebhookTokenSecretArn": stack.resources.secret_arn,
    }
    deploy("zenoti-webhooks", outputs, resources=resources)
    cloudwatch_logs = boto3.client("logs", region_name=REGION)
    cloudwatch_logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName="publisher")
    sent: dict[str, Any] = {"published": True}

    def post(url: str, body: bytes, signature: str | None = None) -> tuple[int, dict[str, Any]]:
        event = with_body(api_event, body, base64_encoded=True)
        event["queryStringParameters"] = {"token": parse_qs(urlsplit(url).query)["token"][0]}
        answer = invoke(event)
        sent["url"] = url.split("?")[0]
        if sent["published"]:
            stack.publish()  # the stream, then the publisher, whose stdout Lambda ships to its log group
            lines = [line for line in logs() if line["message"] == "Event published"]
            cloudwatch_logs.put_log_events(
                logGroupName=LOG_GROUP,
                logStreamName="publisher",
                logEvents=[{"timestamp": int(time.time() * 1000), "message": json.dumps(line)} for line in lines],
            )
        return answer.status, answer.body

    monkeypatch.setattr(ops.held, "_post", post)
    monkeypatch.setattr(ops.smoke, "POLL_SECONDS", 0.01)
    return sent


def test_smoke_delivers_to_the_stacks_own_url_and_sees_the_event_stored_and_published(run, deployed, stack: Stack):
    result = run("smoke")

    assert result.code == 0, result.out + result.err
    ours = ("delivered ", "stored: ", "published: ")
    delivered, stored, published = [line for line in result.out.splitlines() if line.startswith(ours)]
    assert delivered.startswith("delivered smoke-")
    assert '200 {"status": "accepted"' in delivered
    assert deployed["url"].startswith("https://")
    assert ".execute-api.us-east-1." in deployed["url"]
    assert stored.startswith("stored: yes, received ")
    [message] = stack.messages()
    assert published == f"published: message {message['MessageId']}"
    # A made-up center: a subscriber filtering on its centers never receives it.
    assert json.loads(message["Message"])["data"]["center_id"] == ops.smoke.CENTER


def test_smoke_fails_when_the_publication_never_shows(run, deployed, monkeypatch):
    deployed["published"] = False
    monkeypatch.setattr(ops.smoke, "WAIT_SECONDS", 0.05)

    result = run("smoke")

    assert result.code == 1
    assert result.out.splitlines()[-1].startswith("published: not within")
