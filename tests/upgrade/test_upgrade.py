"""An upgrade of a deployed stack, from any released version to this template, keeps what it must.

Checked from the templates (no AWS account here): what an upgrade would replace, remove or refuse to do.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from devtools.local_stack.template import load_template
from tests.upgrade.releases import RELEASES, kept_resources, release_manifest, webhook_routes

RELEASED = sorted(RELEASES.glob("*.json"))


def released(path: Any) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_there_is_a_release_to_upgrade_from():
    assert RELEASED, "CHANGELOG.md names a release: tests/upgrade/releases/ must hold its manifest"


@pytest.fixture(scope="module")
def today() -> dict[str, Any]:
    return load_template()


@pytest.mark.parametrize("release", RELEASED, ids=lambda path: path.stem)
def test_no_kept_resource_is_replaced_or_removed(release, today):
    before, now = released(release)["resources"], kept_resources(today)

    for logical_id, was in before.items():
        assert logical_id in now, f"{logical_id} would be deleted by an upgrade from {release.stem}"
        assert now[logical_id]["Type"] == was["Type"], logical_id
        # A new table, secret, topic or queue: the data, the token, the subscriptions would be lost.
        assert now[logical_id]["Replacing"] == was["Replacing"], f"{logical_id} would be replaced"
        # A resource that existed unconditionally must not become optional (it would be deleted).
        assert was["Condition"] is None or now[logical_id]["Condition"] == was["Condition"], logical_id


@pytest.mark.parametrize("release", RELEASED, ids=lambda path: path.stem)
def test_each_table_changes_at_most_one_index_per_upgrade(release, today):
    # DynamoDB creates or deletes one global secondary index per update: more fails the whole upgrade.
    before, now = released(release)["resources"], kept_resources(today)

    for logical_id, was in before.items():
        changed = set(was["Indexes"]) ^ set(now[logical_id]["Indexes"])
        assert len(changed) <= 1, f"{logical_id}: an upgrade from {release.stem} would change indexes {changed}"


@pytest.mark.parametrize("release", RELEASED, ids=lambda path: path.stem)
def test_every_url_zenoti_was_given_keeps_working(release, today):
    assert set(released(release)["routes"]) <= set(webhook_routes(today))


@pytest.mark.parametrize("release", RELEASED, ids=lambda path: path.stem)
def test_the_outputs_and_parameters_a_deployed_stack_was_given_remain(release, today):
    # Scripts read the outputs; `sam deploy` passes the parameters a stack was deployed with.
    manifest = release_manifest(today)
    assert set(released(release)["outputs"]) <= set(manifest["outputs"])
    assert set(released(release)["parameters"]) <= set(manifest["parameters"])
