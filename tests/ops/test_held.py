"""Listing and showing the held bodies, and re-driving one through the webhook once the cause is fixed."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlsplit
from urllib.request import Request, urlopen

import boto3
import pytest
from botocore.stub import Stubber

import ops.held
from devtools.local_stack.resources import LOCAL_TOKEN, REGION, local_names
from ops.target import Deployment, TargetOptions
from tests.conftest import EVENTS, Stack, load_event, with_body
from tests.ops.conftest import Recorder
from tests.ops.test_target import deploy
from zenoti_receiver.adapters.event_table import compressed, stored_payload
from zenoti_receiver.adapters.held_bodies import held_body
from zenoti_receiver.logic import parsing
from zenoti_receiver.logic.signature import SIGNATURE_HEADER, expected_signature

INVALID = load_event("apigw_invalid_body.json")
HEADERS = ["accept-encoding", "content-length", "content-type", "host", "user-agent"]  # the sample request's


def test_list_shows_each_body_once_with_its_delivery_count(run, stack: Stack, invoke, api_event):
    invoke(INVALID)
    invoke(INVALID)
    invoke(with_body(api_event, "{not json"))
    table = ["--table", stack.resources.held_table_name]

    listed = run("held", "list", *table)
    as_json = run("held", "list", *table, "--format", "jsonl")

    assert listed.code == 0, listed.err
    header, *rows, count = listed.out.splitlines()
    assert header.split() == [
        "id", "state", "reason", "why", "event_type", "deliveries", "first_seen", "token_used", "event_id"
    ]  # fmt: skip
    assert count == "(2 bodies, 2 still held)"
    by_reason = {row.split()[2]: row for row in rows}
    invalid = hashlib.sha256(INVALID["body"].encode()).hexdigest()
    assert by_reason["invalid_event"].split()[:3] == [invalid[:12], "held", "invalid_event"]
    assert ": missing (+1)" in by_reason["invalid_event"]  # its first field error, and how many more
    entries = {entry["reason"]: entry for entry in map(json.loads, as_json.out.splitlines())}
    assert entries["invalid_event"]["deliveries"] == 2
    assert entries["malformed_body"]["deliveries"] == 1
    assert {error["field"] for error in entries["invalid_event"]["errors"]} == {"data.guest_id", "data.registration_id"}
    assert entries["malformed_body"]["header_names"] == HEADERS
    assert all("body" not in entry and "body_zlib" not in entry for entry in entries.values())  # never read


def test_show_says_why_when_and_what_came(run, stack: Stack, invoke):
    invoke(INVALID)
    key = hashlib.sha256(INVALID["body"].encode()).hexdigest()

    shown = run("held", "show", key, "--table", stack.resources.held_table_name)

    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert f"body_sha256:      {key}" in lines
    assert "reason:           invalid_event" in lines
    assert f"header_names:     {' '.join(HEADERS)}" in lines
    assert any(line.startswith("error:            data.guest_id: ") for line in lines)
    assert shown.out.endswith("body:\n" + INVALID["body"] + "\n")
    assert run("held", "show", key[:12], "--table", stack.resources.held_table_name).out == shown.out


def test_an_event_of_a_type_nobody_documents_is_listed_by_its_type_and_for_its_type(
    run, stack: Stack, invoke, api_event
):
    card = json.loads(api_event["body"])
    card["event_type"] = "GiftCard.Redeemed"  # no family of Zenoti's documents it
    card["event_resource"] = "GiftCard"
    del card["data"]["registration_id"], card["data"]["class_id"], card["data"]["session_id"]
    invoke(with_body(api_event, json.dumps(card)))

    listed = run("held", "list", "--table", stack.resources.held_table_name)

    [row] = listed.out.splitlines()[1:-1]
    assert "GiftCard.Redeemed" in row.split()
    assert "wrong type" in row  # not one line per field of a model it is not


def test_an_event_invalid_for_its_own_type_is_listed_for_its_first_field(run, stack: Stack, invoke, api_event):
    guest = json.loads((EVENTS / "guest_created.json").read_text(encoding="utf-8"))
    del guest["data"]["id"]
    invoke(with_body(api_event, json.dumps(guest)))

    listed = run("held", "list", "--table", stack.resources.held_table_name)

    [row] = listed.out.splitlines()[1:-1]
    assert "Guest.Created" in row.split()
    assert "data.id: missing" in row


def test_a_prefix_shared_by_two_bodies_is_a_one_line_error(run, stack: Stack):
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for key in ("abcdef01" + "0" * 56, "abcdef02" + "0" * 56):
        item = {"body_sha256": {"S": key}, "body_zlib": {"B": compressed(b"{}")}, "state": {"S": "held"}}
        dynamodb.put_item(TableName=stack.resources.held_table_name, Item=item)

    result = run("held", "show", "abcdef0", "--table", stack.resources.held_table_name)

    assert result.code == 2
    assert result.err == "error: abcdef0 is the start of more than one held body's id: give more of it\n"


def test_a_flood_is_listed_a_page_at_a_time(run, stack: Stack, invoke, api_event):
    for number in range(120):
        assert invoke(with_body(api_event, f"junk {number}")).status == 202
    table = ["--table", stack.resources.held_table_name]

    seen: set[str] = set()
    after: list[str] = []
    pages = 0
    while True:
        page = run("held", "list", *table, "--limit", "50", "--format", "table", *after)
        assert page.code == 0, page.err
        lines = page.out.splitlines()
        more = lines[-1] if lines[-1].startswith("More: --after ") else None
        rows = lines[1 : -2 if more else -1]
        assert len(rows) <= 50
        seen |= {row.split()[0] for row in rows}
        pages += 1
        if more is None:
            break
        after = ["--after", more.removeprefix("More: --after ")]

    assert (len(seen), pages) == (120, 3)


def test_purge_by_time_range_deletes_only_what_came_then(run, stack: Stack, invoke, api_event, monkeypatch):
    invoke(with_body(api_event, "early junk"))
    early = stack.held_bodies()[0]["first_seen"]["S"]
    invoke(with_body(api_event, "late junk"))
    table = ["--table", stack.resources.held_table_name]
    late = max(entry["first_seen"]["S"] for entry in stack.held_bodies())
    assert late > early

    dry = run("held", "purge", *table, "--until", late, "--dry-run")
    purged = run("held", "purge", *table, "--until", late)

    assert dry.out.strip() == "Would purge 1 held body (dry run)."
    assert purged.code == 0, purged.err
    assert purged.out.strip() == "Purged 1 held body."
    [kept] = stack.held_bodies()
    assert held_body(kept) == b"late junk"
    assert run("held", "purge", *table).code == 2  # nothing chosen: nothing purged


def with_held_bodies_alarm(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployed stack whose HeldBodiesAlarm is zenoti-HeldBodiesAlarm-1A2B (in moto's CloudWatch)."""
    boto3.client("cloudwatch", region_name=REGION).put_metric_alarm(
        AlarmName="zenoti-HeldBodiesAlarm-1A2B", MetricName="EventsHeld", Namespace="ZenotiWebhooks",
        Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )  # fmt: skip
    deploy("zenoti-webhooks", {"HeldBodiesTableName": stack.resources.held_table_name})
    # What list_stack_resources names for the stack's alarm (moto's CloudFormation makes no alarms).
    monkeypatch.setattr(Deployment, "alarm_names", lambda self: {"HeldBodiesAlarm": "zenoti-HeldBodiesAlarm-1A2B"})


def test_dismiss_looks_for_another_held_entry_of_its_reason_a_page_at_a_time(
    run, stack: Stack, invoke, api_event, monkeypatch
):
    # 60 bodies held for another reason, read before the one of this reason is found: a request an entry would
    # be 60 Scans (a flood of thousands, thousands).
    for number in range(60):
        assert invoke(with_body(api_event, f"junk {number}")).status == 202
    invoke(INVALID)
    with_held_bodies_alarm(stack, monkeypatch)
    [invalid] = [entry for entry in stack.held_bodies() if entry["reason"]["S"] == "invalid_event"]
    scans: list[dict[str, Any]] = []
    every_item = ops.held.every_item

    def counted(operation: Any, request: dict[str, Any]) -> Any:
        return every_item(lambda **page: scans.append(page) or operation(**page), request)

    monkeypatch.setattr(ops.held, "every_item", counted)
    result = run("held", "dismiss", invalid["body_sha256"]["S"])

    assert result.code == 0, result.err
    assert "HeldBodiesAlarm set to OK" in result.out
    assert len(scans) <= 3, f"{len(scans)} Scan requests"


@pytest.mark.parametrize("limit", ["0", "-1", "ten"])
def test_a_limit_below_one_is_a_usage_error(run, stack: Stack, limit, capsys):
    with pytest.raises(SystemExit) as exited:
        run("held", "list", "--table", stack.resources.held_table_name, "--limit", limit)

    assert exited.value.code == 2
    assert f"argument --limit: {limit!r} is not a whole number from 1" in capsys.readouterr().err


def test_dismissing_the_last_held_body_of_a_reason_sets_its_alarm_to_ok(
    run, stack: Stack, invoke, api_event, monkeypatch
):
    with_held_bodies_alarm(stack, monkeypatch)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)

    def alarm_state() -> str:
        [alarm] = cloudwatch.describe_alarms(AlarmNames=["zenoti-HeldBodiesAlarm-1A2B"])["MetricAlarms"]
        return str(alarm["StateValue"])

    invoke(INVALID)
    test_delivery = json.loads(INVALID["body"])
    test_delivery["event_id"] = "zenoti-test-button"
    invoke(with_body(api_event, json.dumps(test_delivery)))
    cloudwatch.set_alarm_state(AlarmName="zenoti-HeldBodiesAlarm-1A2B", StateValue="ALARM", StateReason="held")
    first, second = (entry["body_sha256"]["S"] for entry in stack.held_bodies())

    one = run("held", "dismiss", first[:10], "--note", "Zenoti's test button")

    assert one.code == 0, one.err
    assert "HeldBodiesAlarm stays as it is: other entries held for invalid_event need action." in one.out
    assert alarm_state() == "ALARM"

    both = run("held", "dismiss", second)

    assert both.code == 0, both.err
    assert "HeldBodiesAlarm set to OK: the next body held for invalid_event notifies again." in both.out
    assert alarm_state() == "OK"
    states = {entry["body_sha256"]["S"]: entry for entry in stack.held_bodies()}
    assert states[first]["state"] == {"S": "dismissed"}
    assert states[first]["dismissed_note"] == {"S": "Zenoti's test button"}
    assert run("held", "list", "--state", "held").out.splitlines()[-1] == "(0 bodies, 0 still held)"


def test_the_held_table_comes_from_the_stack_outputs(run, stack: Stack, invoke):
    invoke(INVALID)
    deploy(
        "zenoti-webhooks",
        {
            "EventsTableName": stack.resources.table_name,
            "HeldBodiesTableName": stack.resources.held_table_name,
            "EventsTopicArn": stack.resources.topic_arn,
        },
    )

    listed = run("held", "list")

    assert listed.code == 0, listed.err
    assert listed.out.splitlines()[-1] == "(1 body, 1 still held)"


def test_redriving_or_showing_an_unknown_body_is_a_one_line_error(run, stack: Stack):
    result = run("held", "redrive", "0" * 64, "--local", "--endpoint-url", "http://127.0.0.1:1")
    shown = run("held", "show", "0" * 64, "--table", stack.resources.held_table_name)

    for refused in (result, shown):
        assert refused.code == 2
        assert refused.err.startswith("error: ")
        assert len(refused.err.splitlines()) == 1


# --- Re-driving: stored and published exactly once, as a delivery would be ---------------------------


WEBHOOK_PATH = "/zenoti/class-booking-deleted"
# The stack's own API, as the template's WebhookUrl names it (the front door's type: moto's CloudFormation
# has no HTTP API).
WEBHOOK_API = {"WebhookApi": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "webhook"}}}
OWN_WEBHOOK_URL = {"Fn::Sub": "https://${WebhookApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}" + WEBHOOK_PATH}


# A deployed stack's retention, as describe_stacks gives it (the template's defaults are 35 and 30).
RETENTION = {"EventRetentionDays": "400", "HeldRetentionDays": "20"}


def deploy_the_stack(stack: Stack, name: str = "zenoti-webhooks", webhook_url: Any = OWN_WEBHOOK_URL) -> str:
    """A stack `ops` finds by name, with an API of its own, its outputs naming the local resources; its WebhookUrl."""
    deploy(
        name,
        {
            "EventsTableName": stack.resources.table_name,
            "HeldBodiesTableName": stack.resources.held_table_name,
            "WebhookUrl": webhook_url,
            "WebhookTokenSecretArn": stack.resources.secret_arn,
        },
        resources=WEBHOOK_API,
        parameters=RETENTION,
    )
    [described] = boto3.client("cloudformation", region_name=REGION).describe_stacks(StackName=name)["Stacks"]
    return next(o["OutputValue"] for o in described["Outputs"] if o["OutputKey"] == "WebhookUrl")


@pytest.fixture
def through_the_handler(stack: Stack, invoke, api_event, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployed stack (in moto) whose webhook is the real handler, in this process: redrive's POST is
    delivered to it as API Gateway would, with the token from the URL."""
    webhook_url = deploy_the_stack(stack)

    def post(url: str, body: bytes, signature: str | None = None) -> tuple[int, dict[str, Any]]:
        assert url.startswith(webhook_url + "?")
        event = with_body(api_event, body, base64_encoded=True)
        event["queryStringParameters"] = {"token": parse_qs(urlsplit(url).query)["token"][0]}
        if signature is not None:
            event["headers"][SIGNATURE_HEADER] = signature
        answer = invoke(event)
        return answer.status, answer.body

    monkeypatch.setattr(ops.held, "_post", post)


def test_a_held_body_redriven_once_its_cause_is_fixed_is_stored_and_published_once(
    run, stack: Stack, invoke, api_event, raw_payload, through_the_handler, monkeypatch
):
    # A receiver stricter than ours holds Zenoti's sample: it finds it nested too deeply.
    monkeypatch.setattr(parsing, "MAX_DEPTH", 1)
    assert invoke(api_event).body["reason"] == "undeliverable"
    key = hashlib.sha256(raw_payload.encode()).hexdigest()

    still = run("held", "redrive", key)

    assert still.code == 1, still.err
    assert (
        still.out.splitlines()[-1] == "Still held (undeliverable): the entry stays held (its delivery count went up)."
    )
    assert (stack.items(), stack.messages()) == ([], [])

    monkeypatch.setattr(parsing, "MAX_DEPTH", 64)  # the cause, fixed and deployed
    fixed = run("held", "redrive", key)

    assert fixed.code == 0, fixed.err
    assert fixed.out.splitlines()[-1] == f"Stored (accepted): entry {key} marked redriven."
    [item] = stack.items()
    assert stored_payload(item) == raw_payload
    [message] = stack.messages()
    assert message["Message"] == raw_payload
    assert message["MessageAttributes"]["event_type"]["Value"] == "Class.Booking.Deleted"

    again = run("held", "redrive", key)  # by mistake: the event is stored, nothing more is sent

    assert again.code == 0, again.err
    assert again.out.splitlines()[-1] == f"Stored (duplicate): entry {key} marked redriven."
    assert stack.messages() == []
    entry = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=stack.resources.held_table_name, Key={"body_sha256": {"S": key}}
    )["Item"]
    assert (entry["state"], entry["deliveries"]) == ({"S": "redriven"}, {"N": "2"})
    assert run("held", "list").out.splitlines()[-1] == "(1 body, 0 still held)"


def test_a_conflicting_duplicate_redriven_stays_held(
    run, stack: Stack, invoke, api_event, raw_payload, through_the_handler
):
    invoke(api_event)
    forged = raw_payload.replace("119986", "119987")
    assert invoke(with_body(api_event, forged)).body["reason"] == "conflicting_duplicate"
    stack.messages()

    result = run("held", "redrive", hashlib.sha256(forged.encode()).hexdigest())

    assert result.code == 1, result.err
    assert "Still held (conflicting_duplicate)" in result.out
    [item] = stack.items()
    assert stored_payload(item) == raw_payload  # the first stays the event of record
    assert stack.messages() == []


def post(url: str, body: bytes) -> int:
    request = Request(f"{url}?token={LOCAL_TOKEN}", data=body, method="POST")
    try:
        with urlopen(request, timeout=10) as response:
            return int(response.status)
    except HTTPError as error:
        return error.code


def test_redrive_through_the_local_webhook(run, served, raw_payload):
    webhook, emulator = served
    local = ["--local", "--endpoint-url", emulator]
    through = [*local, "--webhook-url", webhook]
    client_options = {"endpoint_url": emulator, "region_name": REGION}
    credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    dynamodb = boto3.client("dynamodb", **client_options, **credentials)
    held_table = local_names().held_table_name

    # Zenoti sends a body the receiver does not store: it is held.
    refused = INVALID["body"].encode()
    assert post(webhook, refused) == 202
    refused_key = hashlib.sha256(refused).hexdigest()
    assert refused_key[:12] in run("held", "list", *local).out

    # Re-driving it before the cause is fixed: held again, counted.
    again = run("held", "redrive", refused_key, *through)
    assert again.code == 1
    assert "HTTP 202" in again.out
    entry = dynamodb.get_item(TableName=held_table, Key={"body_sha256": {"S": refused_key}})["Item"]
    assert (entry["state"]["S"], entry["deliveries"]["N"]) == ("held", "2")

    # A body held before its cause was fixed (an operator fixed the model since), that the receiver now accepts.
    fixed = raw_payload.encode()
    fixed_key = hashlib.sha256(fixed).hexdigest()
    dynamodb.put_item(
        TableName=held_table,
        Item={"body_sha256": {"S": fixed_key}, "body_zlib": {"B": compressed(fixed)}, "state": {"S": "held"}},
    )

    redriven = run("held", "redrive", fixed_key, *through)

    assert redriven.code == 0, redriven.err
    assert '"status": "accepted"' in redriven.out
    entry = dynamodb.get_item(TableName=held_table, Key={"body_sha256": {"S": fixed_key}})["Item"]
    assert entry["state"] == {"S": "redriven"}
    stored = dynamodb.get_item(
        TableName=local_names().table_name, Key={"event_id": {"S": json.loads(fixed)["event_id"]}}
    )
    assert stored_payload(stored["Item"]) == raw_payload


# --- Where the token may go ---------------------------------------------------------------------

PRODUCTION_TOKEN = "production-token-4f9a"


@dataclass(frozen=True)
class Deployed:
    key: str  # the held body's
    webhook_url: str  # the stack's WebhookUrl: https://<its API's id>.execute-api.us-east-1.amazonaws.com/...

    @property
    def host(self) -> str:
        return str(urlsplit(self.webhook_url).hostname)


@pytest.fixture
def deployed(stack: Stack, invoke) -> Deployed:
    """A deployed stack (in moto) with its production token, and one body it held."""
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=stack.resources.secret_arn, SecretString=json.dumps({"token": PRODUCTION_TOKEN})
    )
    invoke({**INVALID, "queryStringParameters": {"token": PRODUCTION_TOKEN}})
    webhook_url = deploy_the_stack(stack)
    return Deployed(hashlib.sha256(INVALID["body"].encode()).hexdigest(), webhook_url)


@pytest.fixture
def posted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs redrive POSTs to (no network here); each answered as an accepted delivery."""
    urls: list[str] = []

    def post(url: str, body: bytes, signature: str | None = None) -> tuple[int, dict[str, Any]]:
        urls.append(url)
        return 200, {"status": "accepted", "event_id": "x"}

    monkeypatch.setattr(ops.held, "_post", post)
    return urls


@pytest.mark.parametrize("chosen", ["the stack's", "given", "given in capitals"])
def test_the_production_token_goes_to_the_stacks_own_webhook_url(run, deployed: Deployed, posted, chosen):
    given = {"the stack's": [], "given": ["--webhook-url", deployed.webhook_url]}.get(chosen) or [
        "--webhook-url",
        deployed.webhook_url.replace("https://", "HTTPS://").replace(deployed.host, deployed.host.upper()),
    ]

    result = run("held", "redrive", deployed.key, *given)

    assert result.code == 0, result.err
    assert posted == [f"{deployed.webhook_url}?token={PRODUCTION_TOKEN}"]


def test_a_body_whose_token_was_rotated_away_is_redriven_only_when_the_operator_says_with_which(
    run, stack: Stack, deployed: Deployed, posted
):
    # The token the body came with is rotated away (perhaps it leaked): the new one must not launder it.
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=stack.resources.secret_arn, SecretString=json.dumps({"token": "after-the-leak"})
    )

    asked = run("held", "redrive", deployed.key[:12])
    vouched = run("held", "redrive", deployed.key[:12], "--with-token", "current")

    assert asked.code == 2
    assert asked.err.startswith(f"error: entry {deployed.key} came with a token the secret no longer accepts")
    assert "--with-token current" in asked.err
    assert vouched.code == 0, vouched.err
    assert posted == [f"{deployed.webhook_url}?token=after-the-leak"]


def test_during_a_rotation_a_body_is_redriven_with_the_token_it_came_with(
    run, stack: Stack, deployed: Deployed, posted
):
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=stack.resources.secret_arn,
        SecretString=json.dumps({"token": "rotated-in", "previous_token": PRODUCTION_TOKEN}),
    )

    result = run("held", "redrive", deployed.key)

    assert result.code == 0, result.err
    assert posted == [f"{deployed.webhook_url}?token={PRODUCTION_TOKEN}"]


# {own}: the stack's WebhookUrl; {host}: its host.
OTHER_WEBHOOK_URLS = [
    "https://attacker.example/zenoti/class-booking-deleted",  # another host
    "https://zzzzzzzzzz.execute-api.us-east-1.amazonaws.com/zenoti/class-booking-deleted",  # anyone's API
    "http://{host}/zenoti/class-booking-deleted",  # in clear
    "https://{host}.attacker.example/zenoti/class-booking-deleted",
    "https://{host}:8443/zenoti/class-booking-deleted",
    "https://{host}/other-path",
    "https://attacker.example@{host}/zenoti/class-booking-deleted",  # user info
    "{own}?next=https://attacker.example",
    "ftp://{host}/zenoti/class-booking-deleted",
    "file:///etc/passwd",
    "http://127.0.0.1:3000/zenoti/class-booking-deleted",  # the local stack, without --local
]


@pytest.mark.parametrize("webhook_url", OTHER_WEBHOOK_URLS)
def test_any_other_webhook_url_is_refused_before_the_token_is_sent(run, deployed: Deployed, posted, webhook_url):
    other = webhook_url.format(own=deployed.webhook_url, host=deployed.host)

    result = run("held", "redrive", deployed.key, "--webhook-url", other)

    assert result.code == 2
    assert result.err.startswith("error: --webhook-url ")
    assert len(result.err.splitlines()) == 1
    assert PRODUCTION_TOKEN not in result.err
    assert posted == []


def test_a_stack_whose_webhook_url_is_not_https_is_refused(run, stack: Stack, deployed: Deployed, posted):
    deploy_the_stack(stack, "plain-http", deployed.webhook_url.replace("https", "http"))

    result = run("held", "redrive", deployed.key, "--stack-name", "plain-http")

    assert result.code == 2
    assert result.err.startswith("error: the stack's WebhookUrl http://")
    assert posted == []


@pytest.mark.parametrize(
    "forged",
    [
        "https://attacker.example/zenoti/class-booking-deleted",
        "https://{host}.attacker.example/zenoti/class-booking-deleted",
        "https://execute-api.attacker.example/zenoti/class-booking-deleted",
        # An API Gateway API on AWS, over https, but not one this stack created: anyone can make one.
        "https://zzzzzzzzzz.execute-api.us-east-1.amazonaws.com/zenoti/class-booking-deleted",
        # The stack's API id, in another region or partition: another API, someone else's.
        "https://{api}.execute-api.eu-west-1.amazonaws.com/zenoti/class-booking-deleted",
        "https://{api}.execute-api.us-east-1.amazonaws.com.cn/zenoti/class-booking-deleted",
        "https://{host}:8443/zenoti/class-booking-deleted",
    ],
)
def test_a_stack_whose_webhook_url_is_not_its_own_api_gets_no_token(
    run, stack: Stack, deployed: Deployed, posted, forged
):
    url = forged.format(host=deployed.host, api=deployed.host.split(".")[0])
    deploy_the_stack(stack, "forged", url)

    result = run("held", "redrive", deployed.key, "--stack-name", "forged")

    assert result.code == 2
    assert result.err == (
        f"error: the stack's WebhookUrl {url} is not the execute-api URL of an API of stack forged: "
        "the production token is not sent there\n"
    )
    assert posted == []


def test_the_webhook_may_be_the_http_api_or_the_front_door():
    # What Deployment.webhook_hosts reads from CloudFormation, for a stack with both APIs (WafFrontDoor=true).
    resources = [
        {
            "LogicalResourceId": "WebhookApi",
            "ResourceType": "AWS::ApiGatewayV2::Api",
            "PhysicalResourceId": "a1b2c3d4e5",
        },
        {
            "LogicalResourceId": "FrontDoorApi",
            "ResourceType": "AWS::ApiGateway::RestApi",
            "PhysicalResourceId": "f0f0f0f0f0",
        },
        {
            "LogicalResourceId": "EventsTopic",
            "ResourceType": "AWS::SNS::Topic",
            "PhysicalResourceId": "arn:aws:sns:...",
        },
    ]
    cloudformation = boto3.client(
        "cloudformation", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubbed = Stubber(cloudformation)
    stubbed.add_response(
        "list_stack_resources",
        {
            "StackResourceSummaries": [
                {**resource, "LastUpdatedTimestamp": "2026-01-01T00:00:00Z", "ResourceStatus": "CREATE_COMPLETE"}
                for resource in resources
            ]
        },
        {"StackName": "zenoti-webhooks"},
    )

    class OneClient:
        def client(self, service: str, **_: Any) -> Any:
            return cloudformation

    with stubbed:
        hosts = Deployment(TargetOptions(region="eu-west-1"), OneClient()).webhook_hosts()

    assert hosts == {"a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", "f0f0f0f0f0.execute-api.eu-west-1.amazonaws.com"}


def test_a_redirected_secrets_manager_is_refused_before_the_secret_is_asked_for(
    run, deployed: Deployed, posted, recorder: Recorder, monkeypatch
):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", recorder.url)

    result = run("held", "redrive", deployed.key)

    assert result.code == 2
    assert (
        f"sends Secrets Manager calls to {recorder.url}, which is not AWS's own Secrets Manager endpoint" in result.err
    )
    assert recorder.requests == []
    assert posted == []


def test_a_stack_without_the_webhook_outputs_is_a_one_line_error(run, stack: Stack, deployed: Deployed, posted):
    deploy(
        "older-stack",
        {"EventsTableName": stack.resources.table_name, "HeldBodiesTableName": stack.resources.held_table_name},
    )

    result = run("held", "redrive", deployed.key, "--stack-name", "older-stack")

    assert result.code == 2
    assert result.err == (
        "error: stack older-stack in us-east-1 (CREATE_COMPLETE) has no output WebhookUrl; "
        "is it this project's stack, fully deployed?\n"
    )


def held_in(recorder: Recorder, body: bytes) -> str:
    """The stand-in emulator holds one body; its key."""
    key = hashlib.sha256(body).hexdigest()
    item = {"body_sha256": {"S": key}, "body_zlib": {"B": base64.b64encode(compressed(body)).decode()}}
    recorder.answers["DynamoDB_20120810.GetItem"] = (200, {"Item": item})
    return key


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_with_local_the_local_token_goes_to_this_machine(run, recorder: Recorder, host):
    body = INVALID["body"].encode()
    key = held_in(recorder, body)
    recorder.answers["POST"] = (202, {"status": "held", "reason": "invalid_event", "message": "still"})
    webhook = recorder.url.replace("127.0.0.1", host) + "/zenoti/class-booking-deleted"

    result = run("held", "redrive", key, "--local", "--endpoint-url", recorder.url, "--webhook-url", webhook)

    assert result.code == 1, result.err
    assert "HTTP 202" in result.out
    [redriven] = [request for request in recorder.requests if "x-amz-target" not in request.headers]
    assert redriven.path == f"/zenoti/class-booking-deleted?token={LOCAL_TOKEN}"
    assert redriven.body == body


def test_with_local_an_ipv6_loopback_webhook_is_allowed():
    url = "http://[::1]:3000/zenoti/class-booking-deleted"

    assert ops.held.local_webhook_url(url) == url


@pytest.mark.parametrize(
    "webhook_url",
    [
        "http://attacker.example:3000/zenoti/class-booking-deleted",
        "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/zenoti/class-booking-deleted",
        "http://127.0.0.1.attacker.example/zenoti/class-booking-deleted",
        "http://127.0.0.1:3000@attacker.example/zenoti/class-booking-deleted",
        "http://127.0.0.1:3000.attacker.example/zenoti/class-booking-deleted",
        "file:///etc/passwd",
    ],
)
def test_with_local_a_webhook_elsewhere_is_refused(run, recorder: Recorder, webhook_url):
    result = run("held", "redrive", "0" * 64, "--local", "--endpoint-url", recorder.url, "--webhook-url", webhook_url)

    assert result.code == 2
    assert result.err.startswith("error: --webhook-url ")
    assert len(result.err.splitlines()) == 1
    assert recorder.requests == []  # refused before the table is even read


def test_an_answer_that_is_not_json_is_reported_not_a_crash(run, recorder: Recorder):
    key = held_in(recorder, b"{}")
    recorder.answers["POST"] = (403, b"<html><body>Forbidden by the firewall</body></html>")
    webhook = f"{recorder.url}/zenoti/class-booking-deleted"

    result = run("held", "redrive", key, "--local", "--endpoint-url", recorder.url, "--webhook-url", webhook)

    assert result.code == 1, result.err
    assert result.out.startswith('HTTP 403: {"not_json": "<html><body>Forbidden by the firewall')
    assert "Refused: the entry stays held." in result.out


@pytest.fixture
def enforcing_signatures(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> str:
    """The stack deployed with EnforceSignatures=true, its token secret holding a signing secret."""
    monkeypatch.setenv("ENFORCE_SIGNATURES", "true")
    signing_secret = "the-signing-secret"
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=stack.resources.secret_arn,
        SecretString=json.dumps({"token": LOCAL_TOKEN, "signing_secret": signing_secret}),
    )
    return signing_secret


def test_where_signatures_are_enforced_a_redrive_is_signed_and_stored(
    enforcing_signatures, run, stack: Stack, invoke, api_event, raw_payload, through_the_handler, monkeypatch
):
    monkeypatch.setattr(parsing, "MAX_DEPTH", 1)
    signed = copy.deepcopy(api_event)
    signed["headers"][SIGNATURE_HEADER] = expected_signature(raw_payload.encode(), enforcing_signatures)
    assert invoke(signed).body["reason"] == "undeliverable"
    monkeypatch.setattr(parsing, "MAX_DEPTH", 64)

    fixed = run("held", "redrive", hashlib.sha256(raw_payload.encode()).hexdigest())

    assert fixed.code == 0, fixed.err
    [item] = stack.items()
    assert item["signature"] == {"S": "matched"}
