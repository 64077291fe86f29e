"""The example's dependency locks: every package pinned with its hashes, as the receiver's are.

A lock with hashes makes pip refuse any file whose hash differs (a compromised or replaced release), and
--require-hashes makes it refuse a lock line without one; the build installs that way.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLE
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LOCKS = {EXAMPLE / "src" / "requirements.in": EXAMPLE / "src" / "requirements.txt"}
LOCKS[EXAMPLE / "requirements-dev.in"] = EXAMPLE / "requirements-dev.txt"
RECEIVER_FUNCTION_LOCK = EXAMPLE.parent.parent / "src" / "requirements.txt"


def entries(lock: Path) -> list[str]:
    """Each requirement of a lock with its hashes, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", lock.read_text(encoding="utf-8"))
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


def pins(lock: Path) -> dict[str, list[Requirement]]:
    found: dict[str, list[Requirement]] = {}
    for entry in entries(lock):
        requirement = Requirement(re.sub(r"--hash=\S+", "", entry).strip())
        found.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    return found


def direct(requirements_in: Path) -> list[Requirement]:
    """What an input names, and what the inputs it includes (-r) name; constraints (-c) aside."""
    found = []
    for line in requirements_in.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += direct(requirements_in.parent / line.removeprefix("-r ").strip())
        elif line and not line.startswith("-"):
            found.append(Requirement(line))
    return found


@pytest.mark.parametrize("lock", LOCKS.values(), ids=lambda path: str(path.relative_to(EXAMPLE)))
def test_every_package_of_each_lock_is_pinned_with_its_hashes(lock):
    lines = entries(lock)

    assert lines, f"{lock.name} is empty"
    for line in lines:
        assert re.search(r"==[^ ;]+", line), f"not pinned to one version: {line}"
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", line), f"no hash: {line}"


@pytest.mark.parametrize(("requirements_in", "lock"), LOCKS.items(), ids=lambda path: str(path.relative_to(EXAMPLE)))
def test_each_lock_satisfies_its_input(requirements_in, lock):
    # An input edited without `make update-deps` would install the old lock, silently.
    locked = pins(lock)

    for requirement in direct(requirements_in):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is in {requirements_in.name} but not in its lock: run make update-deps"
        for pin in locked[name]:
            (specifier,) = pin.specifier
            assert requirement.specifier.contains(specifier.version, prereleases=True), f"{pin} vs {requirement}"
            assert set(requirement.extras) <= set(pin.extras)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_the_build_installs_the_function_lock_with_every_hash_checked():
    # What `sam build` runs (template.yaml: BuildMethod makefile), printed by make without running it.
    printed = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-n",
            "-C",
            str(EXAMPLE / "src"),
            "-f",
            "../Makefile",
            "build-SubscriberFunction",
            "ARTIFACTS_DIR=/tmp/artifact",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    [install] = [line for line in re.sub(r"\\\n", " ", printed).splitlines() if " -m pip install " in line]

    assert "--require-hashes" in install
    assert "--no-deps" in install  # the lock holds every dependency: nothing is resolved at build time
    assert "--requirement requirements.txt" in install


@pytest.mark.skipif(not RECEIVER_FUNCTION_LOCK.exists(), reason="only in the receiver's repository")
def test_the_function_ships_the_versions_the_receiver_ships_and_tests():
    # Its tests run in the receiver's .venv, on the receiver's versions: they prove what the example ships.
    receiver = {name: [str(pin) for pin in found] for name, found in pins(RECEIVER_FUNCTION_LOCK).items()}
    example = {
        name: [str(pin) for pin in found] for name, found in pins(LOCKS[EXAMPLE / "src" / "requirements.in"]).items()
    }

    assert example == receiver
