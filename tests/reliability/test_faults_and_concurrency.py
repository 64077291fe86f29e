"""AWS failing at every step, concurrent deliveries and token rotation: count what is lost (zero)."""

from __future__ import annotations

import copy
import json
import random
import threading
import time
from collections import Counter
from typing import Any

import boto3
import pytest

from devtools.local_stack.resources import LOCAL_TOKEN, REGION
from tests.conftest import LambdaContext, Stack
from zenoti_receiver.adapters.aws import BOUNDED

ZENOTI_RETRIES = 5
CALLS = [
    ("secrets-manager", "GetSecretValue"),
    ("dynamodb", "PutItem"),
    ("sns", "Publish"),  # the publisher's, after the answer
]
KINDS = ["server_error", "throttling", "timeout"]


def event_with_id(api_event: dict[str, Any], event_id: str) -> dict[str, Any]:
    event = copy.deepcopy(api_event)
    payload = json.loads(event["body"])
    payload["event_id"] = event_id
    event["body"] = json.dumps(payload)
    return event


def deliver_like_zenoti(invoke, event: dict[str, Any]) -> list[int]:
    """The first delivery and up to five retries, stopping at the first 2xx."""
    statuses = []
    for _ in range(1 + ZENOTI_RETRIES):
        statuses.append(invoke(event).status)
        if statuses[-1] < 300:
            break
    return statuses


def published_event_ids(stack: Stack) -> Counter[str]:
    """What the topic has sent, once the stream has been read until nothing is left (as Lambda's poller does)."""
    for _ in range(10):  # a failed batch is retried by the next poll, as Lambda retries it
        if not stack.publish().failed:
            break
    published: Counter[str] = Counter()
    while batch := stack.messages(publish=False):
        published.update(json.loads(message["Message"])["event_id"] for message in batch)
    return published


# Only a failure to store the event may be a 5xx; anything after the put is the stack's to finish.
STORING = {("secrets-manager", "GetSecretValue"), ("dynamodb", "PutItem")}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("service", "operation"), CALLS)
def test_a_fault_at_any_step_loses_nothing(invoke, stack: Stack, api_event, service, operation, kind):
    # The fault lasts for both botocore attempts of the first call, then clears.
    stack.faults.fail(service, operation, kind, times=BOUNDED.retries["total_max_attempts"])

    statuses = deliver_like_zenoti(invoke, api_event)
    published = published_event_ids(stack)  # the publisher's first attempt meets the fault if it is SNS's

    if (service, operation) in STORING:
        assert statuses[-1] == 200
        assert set(statuses[:-1]) == {503}
    else:
        assert statuses == [200]
    assert len(stack.items()) == 1
    assert published == Counter({json.loads(api_event["body"])["event_id"]: 1})


@pytest.mark.deep
def test_random_faults_over_many_events_lose_none(invoke, stack: Stack, api_event):
    chance = random.Random(20261124)
    event_ids = [f"fault{number:04d}" for number in range(120)]
    answered: dict[str, list[int]] = {}
    for event_id in event_ids:
        service, operation = chance.choice(CALLS)
        stack.faults.fail(service, operation, chance.choice(KINDS), times=chance.randint(0, 4))
        answered[event_id] = deliver_like_zenoti(invoke, event_with_id(api_event, event_id))
        stack.publish()  # Lambda's poller reads the stream meanwhile: it may meet the fault too
        stack.faults.clear()

    accepted = {event_id for event_id, statuses in answered.items() if statuses[-1] == 200}
    stored = {item["event_id"]["S"] for item in stack.items()}
    published = published_event_ids(stack)
    lost = [event_id for event_id in accepted if event_id not in stored or not published[event_id]]
    assert lost == []
    assert set(published.values()) == {1}  # and none twice: no crash happened
    assert accepted == set(event_ids)  # five retries were always enough
    assert all(status in (200, 503) for statuses in answered.values() for status in statuses)
    assert any(len(statuses) > 1 for statuses in answered.values())  # faults did happen


def test_one_slow_call_cannot_outlast_zenotis_wait():
    per_attempt = BOUNDED.connect_timeout + BOUNDED.read_timeout
    assert per_attempt * BOUNDED.retries["total_max_attempts"] < 10


# --- Token rotation ----------------------------------------------------------------------------


@pytest.fixture
def one_second_token_cache(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_CACHE_SECONDS", "1")


def test_rotation_keeps_both_tokens_then_revokes_the_old_one(one_second_token_cache, invoke, stack: Stack, api_event):
    secrets = boto3.client("secretsmanager", region_name=REGION)
    old_url = copy.deepcopy(api_event)
    new_url = copy.deepcopy(api_event)
    new_url["queryStringParameters"] = {"token": "the-new-token"}
    assert invoke(event_with_id(old_url, "r1")).status == 200

    secrets.put_secret_value(
        SecretId=stack.resources.secret_arn,
        SecretString=json.dumps({"token": "the-new-token", "previous_token": LOCAL_TOKEN}),
    )
    time.sleep(1.1)
    assert invoke(event_with_id(old_url, "r2")).status == 200
    assert invoke(event_with_id(new_url, "r3")).status == 200

    secrets.put_secret_value(SecretId=stack.resources.secret_arn, SecretString=json.dumps({"token": "the-new-token"}))
    time.sleep(1.1)
    assert invoke(event_with_id(old_url, "r4")).status == 401
    assert invoke(event_with_id(new_url, "r5")).status == 200


@pytest.fixture
def no_token_cache(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_CACHE_SECONDS", "0")  # every request reads the secret again


def test_secrets_manager_down_after_a_read_keeps_the_webhook_alive(no_token_cache, invoke, stack: Stack, api_event):
    assert invoke(event_with_id(api_event, "before")).status == 200
    stack.faults.fail("secrets-manager", "GetSecretValue")  # from now on, for good

    right = invoke(event_with_id(api_event, "during"))
    wrong = copy.deepcopy(event_with_id(api_event, "forged"))
    wrong["queryStringParameters"] = {"token": "not-the-token"}

    assert right.status == 200
    assert invoke(wrong).status == 401
    assert {item["event_id"]["S"] for item in stack.items()} == {"before", "during"}


def test_a_secret_scheduled_for_deletion_refuses_even_the_right_token_at_once(
    no_token_cache, invoke, stack: Stack, api_event
):
    assert invoke(event_with_id(api_event, "before")).status == 200
    # What an operator does in an incident; the warm function read the secret a moment ago.
    boto3.client("secretsmanager", region_name=REGION).delete_secret(
        SecretId=stack.resources.secret_arn, RecoveryWindowInDays=7
    )

    refused = invoke(event_with_id(api_event, "after"))

    assert (refused.status, refused.body["reason"]) == (503, "temporarily_unavailable")  # Zenoti sends it again
    assert {item["event_id"]["S"] for item in stack.items()} == {"before"}


# --- Concurrency against the emulator server --------------------------------------------------


# Threads share Powertools' metric set (a Lambda environment never runs two requests at once), so
# one thread may flush another's metrics and leave its own flush empty.
@pytest.mark.deep
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_fifty_concurrent_deliveries_of_one_event_store_once_and_publish_once(served_handler, api_event):
    handler, resources, stream = served_handler
    start = threading.Barrier(50)
    answers: list[tuple[int, str]] = []

    def deliver(number: int) -> None:
        event = copy.deepcopy(api_event)
        event["requestContext"]["requestId"] = f"concurrent-{number}"
        start.wait()
        result = handler.lambda_handler(event, LambdaContext(aws_request_id=f"concurrent-{number}"))
        answers.append((result["statusCode"], json.loads(result["body"])["status"]))

    threads = [threading.Thread(target=deliver, args=(number,)) for number in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert Counter(answers) == {(200, "accepted"): 1, (200, "duplicate"): 49}
    client = boto3.client("dynamodb")
    assert client.scan(TableName=resources.table_name)["Count"] == 1
    stream.drain()
    sqs = boto3.client("sqs")
    messages = []
    while batch := sqs.receive_message(QueueUrl=resources.subscriber_queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        messages += batch
    assert len(messages) == 1
