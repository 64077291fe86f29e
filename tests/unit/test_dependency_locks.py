"""The locks (requirements*.txt) against their inputs (requirements*.in): what ships, what the tests run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_LOCK = ROOT / "src" / "requirements.txt"
DEV_LOCK = ROOT / "requirements-dev.txt"
INPUTS = sorted([ROOT / "src" / "requirements.in", *ROOT.glob("requirements-*.in")])
# What the Lambda runtime provides: shipping it would double the artifact and shadow the runtime's own.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}


def locked(lock: Path) -> dict[str, list[Requirement]]:
    """Each package of a lock and its pins (one per environment marker), hashes dropped."""
    text = re.sub(r"\\\n", " ", lock.read_text())
    pins: dict[str, list[Requirement]] = {}
    for line in text.splitlines():
        line = re.sub(r"--hash=\S+", "", line.split("#", 1)[0]).strip()
        if line:
            requirement = Requirement(line)
            pins.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    return pins


def direct(requirements_in: Path) -> list[Requirement]:
    """The requirements an input names, those of the inputs it includes (-r) too; constraints (-c) aside."""
    found = []
    for line in requirements_in.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += direct(requirements_in.parent / line.removeprefix("-r ").strip())
        elif line and not line.startswith("-"):
            found.append(Requirement(line))
    return found


def version(pin: Requirement) -> str:
    (specifier,) = pin.specifier
    assert specifier.operator == "=="
    return specifier.version


@pytest.mark.parametrize("requirements_in", INPUTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_each_lock_satisfies_its_input(requirements_in):
    # An input edited without `make update-deps` would install the old lock, silently.
    pins = locked(requirements_in.with_suffix(".txt"))

    for requirement in direct(requirements_in):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is in {requirements_in.name} but not in its lock: run make update-deps"
        for pin in pins[name]:
            assert requirement.specifier.contains(version(pin), prereleases=True), (
                f"{pin} does not satisfy {requirement}: run make update-deps"
            )
            assert set(requirement.extras) <= set(pin.extras)


def test_the_function_ships_what_the_runtime_does_not_provide():
    shipped = set(locked(FUNCTION_LOCK))

    assert shipped >= {"aws-lambda-powertools", "pydantic", "pydantic-core"}
    assert not shipped & RUNTIME_PROVIDED


def test_the_tests_run_the_versions_the_function_ships():
    development = locked(DEV_LOCK)

    for name, (pin,) in locked(FUNCTION_LOCK).items():
        assert [version(dev_pin) for dev_pin in development.get(name, [])] == [version(pin)], name
