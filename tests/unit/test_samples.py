"""The sample events under events/: one of each type of every family, and what shows them.

`make demo`, `make serve`'s banner, `make check-schema` and the README send these files; a type
missing from one of them is a type a new user never sees work.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from devtools.local_stack.__main__ import FAMILY
from devtools.local_stack.api_gateway import WEBHOOK_PATH
from tests.conftest import EVENTS, ROOT, load_event
from zenoti_receiver.models import catalog
from zenoti_receiver.models.class_booking import EVENT_TYPES


def file_type(event_type: str) -> str:
    """The <type> of events/booking_<type>.json: Class.Booking.NoShow -> no_show."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", event_type.removeprefix("Class.Booking.")).lower()


def sample_name(event_type: str) -> str:
    """The <name> of events/<name>.json: Guest.Membership.Freeze -> guest_membership_freeze, Class.Booking.NoShow ->
    booking_no_show (the Class booking family's were named before the others came)."""
    family = catalog.family_of(event_type)
    assert family is not None, event_type
    kind = re.sub(r"(?<!^)(?=[A-Z])", "_", event_type.removeprefix(family.prefix)).lower()
    return f"booking_{kind}" if family is catalog.CLASS_BOOKING else f"{family.name.replace('-', '_')}_{kind}"


# The bodies under events/: every file but the API Gateway events and the rest (events/README.md).
BODIES = sorted(
    path.name
    for path in EVENTS.glob("*.json")
    if not path.name.startswith("apigw_") and not path.name.startswith("stream_") and path.name != "sam-local-env.json"
)


def body(name: str) -> dict[str, object]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_there_is_one_body_of_each_type_with_an_event_id_of_its_own():
    bodies = {path.name: body(path.name) for path in EVENTS.glob("booking_*.json")}

    assert {name: sample["event_type"] for name, sample in bodies.items()} == {
        f"booking_{file_type(event_type)}.json": event_type for event_type in EVENT_TYPES
    }
    assert len({sample["event_id"] for sample in bodies.values()}) == len(EVENT_TYPES)  # six events, not one


def test_every_family_has_one_body_of_each_type_and_every_body_is_a_type_with_an_event_id_of_its_own():
    bodies = {name: body(name) for name in BODIES}

    assert {name: sample["event_type"] for name, sample in bodies.items()} == {
        f"{sample_name(event_type)}.json": event_type for event_type in catalog.EVENT_TYPES
    }
    assert len({sample["event_id"] for sample in bodies.values()}) == len(catalog.EVENT_TYPES)


def test_events_readme_says_where_every_body_came_from():
    readme = (EVENTS / "README.md").read_text(encoding="utf-8")
    rows = {match[1] for match in re.finditer(r"^\| `([\w.]+\.json)` \|", readme, re.MULTILINE)}

    assert set(BODIES) <= rows


def test_rejected_carries_the_data_zenoti_publishes_for_approved_and_rejected():
    assert body("booking_rejected.json")["data"] == body("booking_approved.json")["data"]


@pytest.mark.parametrize("event_type", catalog.EVENT_TYPES)
def test_each_api_gateway_event_delivers_its_body_byte_for_byte_on_the_webhook_path(event_type):
    name = f"{sample_name(event_type)}.json"
    event = load_event(f"apigw_{name}")
    text = (EVENTS / name).read_text(encoding="utf-8")

    assert event["body"] == text
    assert event["headers"]["content-length"] == str(len(text.encode()))
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == WEBHOOK_PATH
    assert event["routeKey"] == event["requestContext"]["routeKey"] == f"POST {WEBHOOK_PATH}"


def make_dry_run(target: str) -> str:
    # The recipe as make would run it; the venv's stamp is said to be up to date, so nothing is installed.
    run = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", ".venv/bin/.installed", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return run.stdout


def test_make_demo_invokes_one_event_of_each_family_and_serve_sends_the_same():
    # The first type of each family, in the catalog's order: what serve's banner curls, what demo invokes.
    samples = [sample_name(family.event_types[0]) for family in catalog.FAMILIES]
    samples[0] = "booking_deleted"  # the Class booking family's: the type this project was founded on

    assert list(FAMILY) == samples
    demo = make_dry_run("demo")
    assert re.findall(r"events/apigw_(\w+)\.json", demo) == samples


def test_check_schema_validates_every_body_against_its_familys_schema():
    validated: dict[str, str] = {}
    for line in make_dry_run("check-schema").splitlines():
        if match := re.search(r"--schemafile schema/(\S+)\.v1\.schema\.json (.*)", line):
            validated.update(dict.fromkeys(match[2].split(), match[1]))

    assert validated == {
        f"events/{sample_name(event_type)}.json": family.name
        for family in catalog.FAMILIES
        for event_type in family.event_types
    }
