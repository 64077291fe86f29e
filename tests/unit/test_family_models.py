"""Every family's model: each sample read, what is required, the none sentinels, and what the receiver stores of it.

The Class booking family has its own, older tests (test_class_booking_model.py); it is here too
where every family must behave alike (the catalog, the attributes).
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from tests.conftest import EVENTS, ROOT
from tests.unit.test_samples import sample_name
from zenoti_receiver.models import catalog
from zenoti_receiver.models.catalog import FAMILIES, family_of, model_for
from zenoti_receiver.models.class_booking import EVENT_TYPES as CLASS_BOOKING_TYPES
from zenoti_receiver.models.class_booking import ClassBookingEvent
from zenoti_receiver.models.envelope import Person, ZenotiEvent

NO_ID = "00000000-0000-0000-0000-000000000000"


def body(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def read(document: dict[str, Any]) -> ZenotiEvent:
    model = model_for(document["event_type"])
    assert model is not None, document["event_type"]
    return model.model_validate_json(json.dumps(document))


def changed(document: dict[str, Any], path: tuple[str, ...], value: Any = ...) -> dict[str, Any]:
    """A copy with the field at path set to value, or removed when no value is given."""
    document = copy.deepcopy(document)
    holder = document
    for key in path[:-1]:
        holder = holder[key]
    if value is ...:
        del holder[path[-1]]
    else:
        holder[path[-1]] = value
    return document


@pytest.mark.parametrize("event_type", catalog.EVENT_TYPES)
def test_every_sample_is_read_by_its_familys_model(event_type):
    text = (EVENTS / f"{sample_name(event_type)}.json").read_text(encoding="utf-8")
    model = model_for(event_type)
    family = family_of(event_type)
    assert model is not None
    assert family is not None

    event = model.model_validate_json(text)

    assert event.event_type == event_type
    assert event.occurred_at.tzinfo is UTC


# One sample of each shape: the resource's id, the center and the person, as stored and published.
ATTRIBUTES = {
    "booking_deleted": (
        "119986",
        "e1693623-bda5-4b3e-a2a7-611ea4f1f7ad",
        ("guest", "ef44e802-505c-4129-9744-0978c094c8f2"),
    ),
    "class_schedule_created": ("89604", "e1693623-bda5-4b3e-a2a7-611ea4f1f7ad", None),
    "guest_created": (
        "b9e61937-d5ce-46d5-be26-2659280d5eb9",
        "34aac717-e7df-4231-afc8-14420213957c",
        ("guest", "b9e61937-d5ce-46d5-be26-2659280d5eb9"),
    ),
    "guest_opted_out": (
        "b9e61937-d5ce-46d5-be26-2659280d5eb9",
        None,
        ("guest", "b9e61937-d5ce-46d5-be26-2659280d5eb9"),
    ),
    "guest_membership_created": (
        "c602e0d1-f9d2-4f37-809e-ceb882e59af4",
        "b787e08d-f393-4a26-a332-6050c8848d2a",
        ("guest", "5dbd3f94-9961-41eb-a7b0-480a8c49db4f"),
    ),
    # No guest_id: the member Zenoti marks "(Primary)".
    "guest_membership_reinstate": (
        "01192853-a6b5-4ff4-b299-e36b9efe61ac",
        "a11f578a-1b81-4de0-8834-915f79e5362b",
        ("guest", "557f207c-c3c0-46ae-9bea-3815d90f16c8"),
    ),
    "guest_membership_freeze": ("01192853-a6b5-4ff4-b299-e36b9efe61ac", "a11f578a-1b81-4de0-8834-915f79e5362b", None),
    # Sent in upper case: read as the canonical lower case.
    "guest_pass_redeemed": (
        "52923cdb-ea9b-420e-b787-1b2b4ce993ab",
        None,
        ("guest", "184772fc-58bf-4257-b932-8d91be2b5736"),
    ),
    "guest_package_redemption": ("fe645486-7165-41de-8948-7f476c856824", "a11f578a-1b81-4de0-8834-915f79e5362b", None),
    "appointment_started": ("1832089f-d2bc-402e-a56f-249e70492e2a", "9a895b3c-1994-42c0-bc61-efda4a6e2828", None),
    "appointment_group_created": (
        "883ce749-12a8-497b-bc50-2c3206c50e91",
        "1aab4fd2-2ff3-4ede-bca2-74aa2ccb54b6",
        ("guest", "d08327d8-f928-4c37-8be3-87b93c90ac56"),
    ),
    "appointment_group_status": ("53ef8c73-ded2-48cf-b6b2-0492a0463f9b", None, None),
    "employee_deleted": (
        "6285ff42-40d7-43e8-875a-eb127ebf6938",
        "99d6833e-ceb9-4232-85c8-05fb78bd2519",
        ("employee", "6285ff42-40d7-43e8-875a-eb127ebf6938"),
    ),
    "invoice_closed": (
        "7e4e1a62-5982-4b3c-b9ac-da0f122e7ae5",
        "5528ee09-5321-4153-8ca7-31c78d757dcb",
        ("guest", "464d1eea-e19a-4880-ae4c-c2973b395981"),
    ),
}


@pytest.mark.parametrize(("name", "expected"), ATTRIBUTES.items(), ids=list(ATTRIBUTES))
def test_the_resource_the_center_and_the_person_are_read_where_each_family_has_them(name, expected):
    resource_id, center_id, person = expected

    event = read(body(name))

    assert event.resource_id == resource_id
    assert event.center_id == center_id
    assert event.person == (None if person is None else Person(*person))


ENVELOPE = ("id", "event_id", "event_type", "event_timestamp", "event_schema", "data")

# What a subscriber needs to act on and filter by, beyond the envelope: the resource's id, the center.
REQUIRED = {
    "class_schedule_created": [("data", "sesion_id"), ("data", "center_id")],
    "guest_created": [("data", "id"), ("data", "center_id")],
    "guest_opted_out": [("data", "id")],
    "guest_membership_freeze": [("data", "user_membership_id"), ("data", "center"), ("data", "center", "id")],
    "guest_pass_redeemed": [("data", "id")],
    "guest_package_status_update": [("data", "user_package_id"), ("data", "center"), ("data", "center", "id")],
    "appointment_completed": [("data", "appointment_group_id"), ("data", "center_id")],
    "appointment_group_created": [("data", "appointment_group_id"), ("data", "center_id")],
    "appointment_group_status": [("data", "appointment_group_id")],
    "employee_updated": [("data", "id"), ("data", "center_id")],
    "invoice_closed": [("data", "invoice"), ("data", "invoice", "id"), ("data", "invoice", "center_id")],
}
MISSING = [(name, path) for name, paths in REQUIRED.items() for path in [*((field,) for field in ENVELOPE), *paths]]


@pytest.mark.parametrize(("name", "path"), MISSING, ids=[f"{name}:{'.'.join(path)}" for name, path in MISSING])
def test_a_body_without_a_required_field_is_refused_for_that_field(name, path):
    document = changed(body(name), path)
    model = model_for(body(name)["event_type"])
    assert model is not None

    with pytest.raises(ValidationError) as raised:
        model.model_validate_json(json.dumps(document))

    assert [(error["loc"], error["type"]) for error in raised.value.errors()] == [(path, "missing")]


def least(document: dict[str, Any], paths: list[tuple[str, ...]]) -> dict[str, Any]:
    """The envelope and the required fields of `data`, nothing else."""
    kept: dict[str, Any] = {field: document[field] for field in ENVELOPE if field != "data"}
    kept["data"] = {}
    for path in paths:
        source, target = document, kept
        for key in path[:-1]:
            source, target = source[key], target.setdefault(key, {})
        if not isinstance(source[path[-1]], dict):
            target[path[-1]] = source[path[-1]]
    return kept


@pytest.mark.parametrize("name", REQUIRED)
def test_everything_but_the_required_fields_is_optional(name):
    full = read(body(name))

    event = read(least(body(name), REQUIRED[name]))

    assert (event.resource_id, event.center_id) == (full.resource_id, full.center_id)
    assert event.event_resource is None  # absent, as null: neither is needed to tell a type


# Where each family's center and person ids sit, for the none sentinel and for a value Zenoti would not send.
CENTER = {
    "class_schedule_created": ("data", "center_id"),
    "guest_updated": ("data", "center_id"),
    "guest_membership_cancelled": ("data", "center", "id"),
    "guest_package_creation": ("data", "center", "id"),
    "appointment_started": ("data", "center_id"),
    "appointment_group_created": ("data", "center_id"),
    "employee_created": ("data", "center_id"),
    "invoice_closed": ("data", "invoice", "center_id"),
}
PERSON = {
    "guest_membership_created": ("data", "guest_id"),
    "guest_pass_redeemed": ("data", "guest_id"),
    "appointment_group_created": ("data", "guest", "id"),
    "invoice_closed": ("data", "invoice", "guest", "id"),
}


@pytest.mark.parametrize(("name", "path"), CENTER.items(), ids=list(CENTER))
def test_the_all_zero_guid_as_center_means_no_center(name, path):
    event = read(changed(body(name), path, NO_ID))

    assert event.center_id is None
    assert event.resource_id == read(body(name)).resource_id


@pytest.mark.parametrize(("name", "path"), PERSON.items(), ids=list(PERSON))
@pytest.mark.parametrize("none", [NO_ID, None])
def test_a_person_sent_as_the_all_zero_guid_or_null_is_no_person(name, path, none):
    document = body(name)
    document["data"].pop("members", None)  # a membership's other way of naming its guest
    assert read(document).person is not None

    assert read(changed(document, path, none)).person is None


@pytest.mark.parametrize(("name", "path"), [*CENTER.items(), *PERSON.items()], ids=[*CENTER, *PERSON])
def test_an_id_that_is_no_guid_is_refused_for_that_field(name, path):
    # Zenoti's Approved page has a center_id like this one: a `t` where a hex digit goes.
    document = changed(body(name), path, "442af543-6b2c-7677-65t3-4dff40d43987")
    model = model_for(document["event_type"])
    assert model is not None

    with pytest.raises(ValidationError) as raised:
        model.model_validate_json(json.dumps(document))

    [error] = raised.value.errors()
    assert error["loc"] == path
    assert "8-4-4-4-12" in error["msg"]


@pytest.mark.parametrize(("name", "path"), [*CENTER.items(), *PERSON.items()], ids=[*CENTER, *PERSON])
def test_a_guid_in_upper_case_is_read_as_its_lower_case(name, path):
    lower = "e1693623-bda5-4b3e-a2a7-611ea4f1f7ad"

    event = read(changed(body(name), path, lower.upper()))

    assert lower in (event.center_id, event.person and event.person.id)


def test_the_none_date_and_the_none_guid_are_kept_as_sent_where_nothing_is_read_from_them():
    event = read(body("employee_created"))

    assert event.data.model_extra is not None
    assert event.data.model_extra["created_by"] == NO_ID
    assert event.data.model_extra["personal_info"]["birth_date"] == "0001-01-01T00:00:00"


def test_a_phone_is_kept_as_each_family_sends_it():
    invoice, employee, opted_out = (
        read(body("invoice_closed")),
        read(body("employee_created")),
        read(body("guest_opted_out")),
    )

    assert invoice.model_dump()["data"]["invoice"]["guest"]["mobile_phone"] == "+91 9885117036"
    assert employee.model_dump()["data"]["personal_info"]["mobile_phone"] == {"country_code": 1, "number": ""}
    assert opted_out.model_dump()["data"]["details"]["phone"][0]["type"] == "Mobile"


@pytest.mark.parametrize(
    "name", ["guest_created", "guest_membership_reinstate", "invoice_closed", "appointment_started"]
)
def test_unknown_fields_are_kept(name):
    document = body(name)
    document["tenant"] = "spa-42"
    document["data"]["room"] = {"id": 7}

    event = read(document)

    assert event.model_extra == {"tenant": "spa-42"}
    assert event.model_dump()["data"]["room"] == {"id": 7}


def test_a_membership_names_its_guest_by_guest_id_first_then_by_its_primary_member():
    reinstate = body("guest_membership_reinstate")
    with_guest = changed(reinstate, ("data", "guest_id"), "5dbd3f94-9961-41eb-a7b0-480a8c49db4f")
    no_primary = changed(reinstate, ("data", "members"), [{"id": "557f207c-c3c0-46ae-9bea-3815d90f16c8", "name": "s"}])
    not_a_guid = changed(reinstate, ("data", "members"), [{"id": "557f207c", "name": "rajamouli s (Primary)"}])
    none_as_guest = changed(reinstate, ("data", "guest_id"), "00000000-0000-0000-0000-000000000000")

    assert read(none_as_guest).person == Person("guest", "557f207c-c3c0-46ae-9bea-3815d90f16c8")
    assert read(with_guest).person == Person("guest", "5dbd3f94-9961-41eb-a7b0-480a8c49db4f")
    assert read(no_primary).person is None
    assert read(not_a_guid).person is None  # a person is a GUID or nobody


@pytest.mark.parametrize(
    ("name", "other_type"),
    [
        ("guest_created", "Guest.Membership.Created"),
        ("guest_created", "Guest.OptedOut"),  # the other shape of the Guest family
        ("guest_opted_out", "Guest.Created"),
        ("appointment_group_status", "AppointmentGroup.Created"),
        ("appointment_started", "AppointmentGroup.Created"),
        ("guest_pass_redeemed", "Guestpass.Redeemed"),  # Zenoti's spelling is lower case
        ("invoice_closed", "Invoice.Opened"),
    ],
)
def test_a_model_refuses_a_type_it_does_not_read(name, other_type):
    model = model_for(body(name)["event_type"])
    assert model is not None

    with pytest.raises(ValidationError) as raised:
        model.model_validate_json(json.dumps({**body(name), "event_type": other_type}))

    assert [error["loc"] for error in raised.value.errors()] == [("event_type",)]


def test_appointment_group_status_needs_no_center_but_created_does():
    status = read(
        changed(body("appointment_group_status"), ("data", "center_id"), "1AAB4FD2-2ff3-4ede-bca2-74aa2ccb54b6")
    )

    assert status.center_id == "1aab4fd2-2ff3-4ede-bca2-74aa2ccb54b6"  # read when Zenoti sends one
    with pytest.raises(ValidationError):
        read(changed(body("appointment_group_created"), ("data", "center_id")))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-03-22T09:54:53.3484785Z", datetime(2022, 3, 22, 9, 54, 53, 348478, tzinfo=UTC)),
        ("2022-03-22T09:54:53.348478", datetime(2022, 3, 22, 9, 54, 53, 348478, tzinfo=UTC)),  # no offset: UTC
        ("2022-03-22T11:54:53+02:00", datetime(2022, 3, 22, 9, 54, 53, tzinfo=UTC)),
    ],
)
def test_the_event_timestamp_is_read_in_utc_and_kept_as_sent(text, expected):
    event = read(changed(body("appointment_group_status"), ("event_timestamp",), text))

    assert event.occurred_at == expected
    assert event.event_timestamp == text


def test_the_class_booking_family_still_wants_the_timestamps_offset():
    # Its published contract has always refused a timestamp without one; the other families read it as UTC.
    with pytest.raises(ValidationError):
        read(changed(body("booking_deleted"), ("event_timestamp",), "2022-03-22T12:34:15.3797492"))


@pytest.mark.parametrize("value", ["", "has spaces", 42, "x" * 129])
def test_an_event_resource_that_is_no_plain_name_is_refused(value):
    with pytest.raises(ValidationError) as raised:
        read(changed(body("guest_created"), ("event_resource",), value))

    assert [error["loc"][0] for error in raised.value.errors()] == ["event_resource"]


def test_a_person_is_a_value():
    person = Person("guest", "b9e61937-d5ce-46d5-be26-2659280d5eb9")

    assert person == Person("guest", "b9e61937-d5ce-46d5-be26-2659280d5eb9")
    with pytest.raises(AttributeError):
        person.id = "another"  # type: ignore[misc]


# The catalog.


def test_the_catalog_knows_every_documented_type_once_each_under_its_familys_prefix():
    assert len(catalog.EVENT_TYPES) == len(set(catalog.EVENT_TYPES)) == 35
    assert [len(family.types) for family in FAMILIES] == [6, 4, 6, 5, 1, 5, 2, 2, 3, 1]
    for family in FAMILIES:
        assert all(name.startswith(family.prefix) for name in family.event_types)
        assert family.inferred <= set(family.event_types)


def test_the_catalog_and_the_class_booking_model_name_the_same_six_types():
    assert catalog.CLASS_BOOKING.event_types == CLASS_BOOKING_TYPES
    assert {model_for(event_type) for event_type in CLASS_BOOKING_TYPES} == {ClassBookingEvent}


@pytest.mark.parametrize("event_type", ["Guest.Unknown", "Class.Booking", "guest.created", "", "Guest.Membership."])
def test_a_type_nobody_documents_has_no_model(event_type):
    assert model_for(event_type) is None
    assert family_of(event_type) is None


def test_a_membership_type_belongs_to_its_own_family_though_it_starts_like_a_guest_type():
    assert family_of("Guest.Membership.Created") is catalog.GUEST_MEMBERSHIP
    assert "Guest.Membership.Created".startswith(catalog.GUEST.prefix)  # what docs/families.md warns of
    assert not any(event_type.startswith(catalog.GUEST.prefix) for event_type in catalog.GUEST_PACKAGE.event_types)


def test_the_catalog_imports_no_familys_models_until_one_is_asked_for():
    # A cold start pays for the family it receives: asking for a Guest type builds the Guest models only.
    script = (
        "import sys; from zenoti_receiver.models import catalog; "
        "before = sorted(m for m in sys.modules if m.startswith('zenoti_receiver.models.')); "
        "catalog.model_for('Guest.Created'); "
        "after = sorted(m for m in sys.modules if m.startswith('zenoti_receiver.models.')); "
        "print(before, after)"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={"PYTHONPATH": "src"}, capture_output=True, text=True, check=True
    )

    assert run.stdout.split("] [") == [
        "['zenoti_receiver.models.catalog'",
        "'zenoti_receiver.models.catalog', 'zenoti_receiver.models.envelope', 'zenoti_receiver.models.guest']\n",
    ]


def test_the_class_booking_model_works_vendored_as_its_two_files(tmp_path):
    # What a subscriber in its own repository copies (examples/subscriber/README.md): nothing else of the receiver.
    models = tmp_path / "zenoti_receiver" / "models"
    models.mkdir(parents=True)
    for name in ("class_booking.py", "envelope.py"):
        (models / name).write_bytes((ROOT / "src" / "zenoti_receiver" / "models" / name).read_bytes())
    script = (
        "import sys; sys.path.insert(0, '.'); from zenoti_receiver.models.class_booking import ClassBookingEvent; "
        "event = ClassBookingEvent.model_validate_json(sys.stdin.read()); "
        "print(event.resource_id, sorted(m for m in sys.modules if m.startswith('zenoti_receiver')))"
    )

    run = subprocess.run(
        [sys.executable, "-I", "-c", script],
        cwd=tmp_path,
        input=(EVENTS / "booking_deleted.json").read_text(encoding="utf-8"),
        capture_output=True,
        text=True,
        check=False,
    )

    assert run.stderr == ""
    assert run.stdout == (
        "119986 ['zenoti_receiver', 'zenoti_receiver.models', "
        "'zenoti_receiver.models.class_booking', 'zenoti_receiver.models.envelope']\n"
    )


# The published schema of each family agrees with its model on the samples and on what is required.


def family_schema(event_type: str) -> Draft202012Validator:
    family = family_of(event_type)
    assert family is not None
    schema = json.loads((ROOT / "schema" / f"{family.name}.v1.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("event_type", catalog.EVENT_TYPES)
def test_every_sample_matches_its_familys_schema(event_type):
    assert list(family_schema(event_type).iter_errors(body(sample_name(event_type)))) == []


@pytest.mark.parametrize(("name", "path"), MISSING, ids=[f"{name}:{'.'.join(path)}" for name, path in MISSING])
def test_the_schema_requires_what_the_model_requires(name, path):
    document = body(name)

    assert list(family_schema(document["event_type"]).iter_errors(changed(document, path))) != []


# docs/families.md: every type with whose its name is, and a filter policy that takes each family.

FAMILIES_DOC = (ROOT / "docs" / "families.md").read_text(encoding="utf-8")


def test_the_docs_list_every_type_and_say_which_names_are_inferred():
    rows = re.findall(r"^\| [\w ]+ \| `([\w.]+)` \| (Zenoti's|\*\*inferred\*\*) \|", FAMILIES_DOC, re.MULTILINE)

    assert sorted(rows) == sorted(
        (each.name, "**inferred**" if each.naming == "inferred" else "Zenoti's")
        for family in FAMILIES
        for each in family.types
    )


def takes(policy: dict[str, list[Any]], event_type: str) -> bool:
    """Whether SNS's filter policy on event_type (exact values, or {"prefix": ...}) takes a message of that type."""
    return any(
        event_type == value if isinstance(value, str) else event_type.startswith(value["prefix"])
        for value in policy["event_type"]
    )


def test_the_docs_filter_policy_of_each_family_takes_that_family_and_nothing_else():
    policies = dict(re.findall(r"^\| ([\w ]+) \| `(\{\"event_type\".*\})` \|$", FAMILIES_DOC, re.MULTILINE))

    assert list(policies) == [family.title for family in FAMILIES]
    for family in FAMILIES:
        policy = json.loads(policies[family.title])
        assert [each for each in catalog.EVENT_TYPES if takes(policy, each)] == list(family.event_types), family.title
    # What the docs warn of: the Guest prefix takes memberships too.
    guest_prefix = {"event_type": [{"prefix": "Guest."}]}
    assert {each for each in catalog.EVENT_TYPES if takes(guest_prefix, each)} == {
        *catalog.GUEST.event_types,
        *catalog.GUEST_MEMBERSHIP.event_types,
    }
