"""The operators' tool stands on the function's code and AWS alone: never on the development tools."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

DEVELOPMENT_ONLY = ("devtools", "moto", "tests")


def test_python_m_ops_imports_nothing_of_the_development_tools():
    # From the repository's root without the tests' pythonpath, as an operator runs it.
    code = (
        "import json, sys, ops.cli, ops.items, ops.replay;"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(DEVELOPMENT_ONLY)!r}))))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == []


def test_a_plain_python_says_which_command_works_instead_of_a_traceback():
    # -S: a Python without the project's packages (no site-packages), as the system's python3 may be.
    run = subprocess.run(
        [sys.executable, "-S", "-m", "ops", "held", "list", "--stack-name", "it's"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode == 2
    [line] = run.stderr.splitlines()
    assert line.startswith("error: this Python has no ")
    assert "`.venv/bin/python -m ops held list --stack-name 'it'\"'\"'s'`" in line  # pasted as it is, it runs


# Where a command is written for a user to run: each must run as written.
DOCUMENTED = ("README.md", "docs/operations.md", "ops/webhook_token.py")


@pytest.mark.parametrize("path", DOCUMENTED)
def test_every_documented_ops_command_runs_in_the_projects_environment(path):
    text = (ROOT / path).read_text(encoding="utf-8")

    # (what stands before `python`, the subcommand) of each command, `python -m ops` alone being its name
    commands = re.findall(r"(\S*)python3? -m ops ([a-z][\w-]*)", text)

    assert commands  # the pattern still finds them
    assert {subcommand for _, subcommand in commands} <= {"lookup", "replay", "held", "republish", "token", "forensics"}
    assert [before for before, _ in commands if not before.endswith(".venv/bin/")] == []
