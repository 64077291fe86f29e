"""What a deployed stack keeps across an upgrade: each release's stateful resources, as its template declared them.

`python -m tests.upgrade.releases VERSION` writes releases/VERSION.json from today's template.yaml: run it
once, when a version is released (CHANGELOG.md), and commit the file. test_upgrade.py then holds every
later template to it: an upgrade from any released version replaces none of what holds data or what
Zenoti and subscribers were given (the tables, the secret, the topic, the queues, the API and its routes).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from devtools.local_stack.template import load_template

RELEASES = Path(__file__).resolve().parent / "releases"

# What is kept, and the properties whose change makes CloudFormation replace it (a new table is an empty
# table; a new secret a new token; a new topic or queue, subscriptions and consumers pointing nowhere; a
# new API, a new URL in Zenoti). From each resource type's "Update requires: Replacement" properties.
KEPT: dict[str, tuple[str, ...]] = {
    "AWS::DynamoDB::Table": ("TableName", "KeySchema"),
    "AWS::SecretsManager::Secret": ("Name", "GenerateSecretString"),
    "AWS::SNS::Topic": ("TopicName", "FifoTopic"),
    "AWS::SQS::Queue": ("QueueName", "FifoQueue"),
    "AWS::Serverless::HttpApi": (),
}


def kept_resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each kept resource by logical id: its type, replacement properties, indexes and conditions."""
    kept: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] not in KEPT:
            continue
        properties = resource.get("Properties", {})
        kept[logical_id] = {
            "Type": resource["Type"],
            "Condition": resource.get("Condition"),
            "Replacing": {name: properties.get(name) for name in KEPT[resource["Type"]]},
            "Indexes": sorted(index["IndexName"] for index in properties.get("GlobalSecondaryIndexes", [])),
        }
    return kept


def webhook_routes(template: dict[str, Any]) -> list[str]:
    """The receiver's routes (method and path) under the logical ids of the events SAM makes them from."""
    events = template["Resources"]["ReceiverFunction"]["Properties"]["Events"]
    return sorted(
        f"{name} {event['Properties']['Method']} {event['Properties']['Path']}" for name, event in events.items()
    )


def release_manifest(template: dict[str, Any]) -> dict[str, Any]:
    return {
        "resources": kept_resources(template),
        "routes": webhook_routes(template),
        "outputs": sorted(template["Outputs"]),
        "parameters": sorted(template["Parameters"]),
    }


def main(version: str) -> None:
    RELEASES.mkdir(exist_ok=True)
    path = RELEASES / f"{version}.json"
    path.write_text(json.dumps(release_manifest(load_template()), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
