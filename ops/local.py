"""The stack `make serve` runs, as `python -m ops --local` finds it: its names, ports, token and credentials; here, for
ops stands on src/ and AWS alone, and devtools builds its stack from these names (it imports ops, never the reverse)."""

from __future__ import annotations

from dataclasses import dataclass

REGION = "us-east-1"
LOCAL_ACCOUNT = "123456789012"  # moto's default account
LOCAL_PREFIX = "zenoti-local"
LOCAL_TOKEN = "local-demo-token"  # noqa: S105 - the emulator's token, printed to the user on purpose
# The emulator accepts any credentials: these, never a developer's own.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": REGION}
WEBHOOK_PATH = "/zenoti/webhook"  # the one URL of every family (template.yaml's WebhookUrl)
# The path stacks gave Zenoti before the family, still routed to the function for every verb.
EARLIER_WEBHOOK_PATH = "/zenoti/class-booking-deleted"
WEBHOOK_PORT = 3000
EMULATOR_PORT = 5000
LOCAL_ENDPOINT = f"http://127.0.0.1:{EMULATOR_PORT}"
LOCAL_WEBHOOK = f"http://127.0.0.1:{WEBHOOK_PORT}{WEBHOOK_PATH}"
# The parameters `make serve`'s stack runs with: template.yaml's defaults (tests/ops/test_target.py holds them).
LOCAL_PARAMETERS = {"EventRetentionDays": "35", "HeldRetentionDays": "30"}


@dataclass(frozen=True)
class LocalNames:
    """What the local stack calls things: the same on every run, so tools can find them."""

    table_name: str
    held_table_name: str
    topic_name: str
    secret_name: str
    queue_name: str  # the template's subscriber queue (SubscriberQueue=true)
    dead_letter_queue_name: str
    publication_failures_queue_name: str  # what the publisher's stream mapping gives up on


def local_names(prefix: str = LOCAL_PREFIX) -> LocalNames:
    return LocalNames(
        table_name=f"{prefix}-events",
        held_table_name=f"{prefix}-held-bodies",
        topic_name=f"{prefix}-events",
        secret_name=f"{prefix}-webhook-token",
        queue_name=f"{prefix}-subscriber",
        dead_letter_queue_name=f"{prefix}-subscriber-dead-letters",
        publication_failures_queue_name=f"{prefix}-publication-failures",
    )
