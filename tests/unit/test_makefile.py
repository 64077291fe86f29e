"""The Makefile as a newcomer meets it: a bare `make`, `make deploy` on the first try, `make test-e2e` alone."""

from __future__ import annotations

import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import boto3
import pytest
from moto import mock_aws

from devtools.local_stack.template import load_template
from tests.conftest import ROOT

COPIED = ("Makefile", "samconfig.toml", "requirements-sam.txt", "requirements-dev.txt")


def project(directory: Path) -> Path:
    """The files make deploy reads, with a stand-in .venv-sam: a stamp newer than its lock."""
    (directory / ".ci").mkdir()
    for name in (*COPIED, ".ci/python3.13.sh", ".ci/deploy_check.py"):
        shutil.copy(ROOT / name, directory / name)
    (directory / "fake-venv").mkdir()
    (directory / "fake-venv" / ".installed").touch()
    return directory


def make(directory: Path, *arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *arguments],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def without_aws(home: Path) -> dict[str, str]:
    """A shell with no AWS credentials or configuration at all."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    return {
        **environment,
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
    }


def test_a_bare_make_lists_every_target_with_what_it_does():
    run = make(ROOT)

    assert run.returncode == 0, run.stderr
    listed = dict(re.findall(r"^  (\S+) +(.+)$", run.stdout, re.MULTILINE))
    documented = set(re.findall(r"^## ([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    assert set(listed) == documented
    assert {"demo", "serve", "test", "test-deep", "test-e2e", "deploy", "clean", "help"} <= set(listed)
    assert listed["demo"].startswith("run the receiver locally")


def test_deploy_checks_then_builds_then_deploys_without_a_question(tmp_path: Path):
    # SAM replaced by echo, and the check by one that finds eu-west-1: the recipe runs, nothing deploys.
    run = make(
        project(tmp_path),
        "deploy",
        "SAM=echo sam",
        "SAM_VENV=fake-venv",
        "DEPLOY_CHECK=echo eu-west-1",
        "DEPLOY_ARGS=--no-execute-changeset",
    )

    assert run.returncode == 0, run.stderr
    assert "sam build" in run.stdout
    # --save-params: what DEPLOY_ARGS gave is kept in samconfig.toml for the next deploy.
    assert run.stdout.index("sam build") < run.stdout.index(
        "sam deploy --region eu-west-1 --save-params --no-execute-changeset"
    )
    assert "--guided" not in run.stdout


def test_without_credentials_deploy_stops_before_building_and_says_what_to_do(tmp_path: Path):
    run = make(
        project(tmp_path),
        "deploy",
        "SAM=echo sam",
        "SAM_VENV=fake-venv",
        f"DEPLOY_CHECK={sys.executable} .ci/deploy_check.py",
        env=without_aws(tmp_path),
    )

    assert run.returncode != 0
    assert "make deploy: no AWS credentials: run `aws configure`" in run.stderr
    assert "sam build" not in run.stdout
    assert "sam deploy" not in run.stdout


def test_samconfig_lets_sam_deploy_run_with_nothing_to_answer():
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))["default"]
    deploy = config["deploy"]["parameters"]

    assert config["global"]["parameters"]["stack_name"] == "zenoti-webhooks"
    assert deploy["resolve_s3"] is True  # SAM's managed bucket: none to name
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["confirm_changeset"] is False  # Enter at "Deploy this changeset? [y/N]" would abort
    assert "parameter_overrides" not in deploy
    # So every parameter must have a default: a missing one fails the change set.
    assert [name for name, parameter in load_template()["Parameters"].items() if "Default" not in parameter] == []


def test_make_test_e2e_without_a_stack_says_what_to_pass(tmp_path: Path):
    environment = {name: value for name, value in os.environ.items() if not name.startswith("E2E_")}

    run = make(project(tmp_path), "test-e2e", "VENV=new-venv", "BIN=new-venv/bin", env=environment)

    assert run.returncode != 0
    assert not (tmp_path / "new-venv").exists()  # said at once, before a minute of installing
    assert "make test-e2e needs the stack to test:" in run.stderr
    assert "make test-e2e E2E_LOCAL=http://127.0.0.1:3000" in run.stderr
    assert "make test-e2e E2E_STACK_NAME=<stack>" in run.stderr
    assert "pytest" not in run.stdout + run.stderr


def test_make_clean_removes_what_the_tools_and_the_examples_build_leave(tmp_path: Path):
    left = [".venv/bin", ".aws-sam/build", ".hypothesis/examples", "examples/subscriber/.aws-sam/build", ".coverage"]
    kept = ["examples/subscriber/src/booking_subscriber", "src/zenoti_receiver"]
    for path in left[:-1] + kept:
        (tmp_path / path).mkdir(parents=True)
    (tmp_path / ".coverage").touch()
    shutil.copy(ROOT / "Makefile", tmp_path)

    run = make(tmp_path, "clean")

    assert run.returncode == 0, run.stderr
    gone = [".venv", ".aws-sam", ".hypothesis", "examples/subscriber/.aws-sam", ".coverage"]
    assert [path for path in gone if (tmp_path / path).exists()] == []
    assert all((tmp_path / path).is_dir() for path in kept)


# .ci/deploy_check.py, run here against moto.


def deploy_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_check", ROOT / ".ci" / "deploy_check.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def account(monkeypatch, tmp_path: Path):
    """Credentials that work (moto's account), and no region anywhere."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    with mock_aws():
        yield boto3.client("sts", region_name="us-east-1").get_caller_identity()["Arn"]


@pytest.fixture
def samconfig(tmp_path: Path) -> Path:
    path = tmp_path / "samconfig.toml"
    shutil.copy(ROOT / "samconfig.toml", path)
    return path


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_the_check_takes_the_region_the_environment_gives(account, samconfig, monkeypatch, variable):
    monkeypatch.setenv(variable, "eu-west-1")

    assert deploy_check().check(samconfig) == ("eu-west-1", account)


def test_with_no_region_anywhere_it_is_asked_once_and_saved(account, samconfig, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("ap-southeast-2\n"))
    check = deploy_check()

    assert check.check(samconfig) == ("ap-southeast-2", account)
    config = tomllib.loads(samconfig.read_text(encoding="utf-8"))["default"]
    assert config["global"]["parameters"] == {"stack_name": "zenoti-webhooks", "region": "ap-southeast-2"}
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not asked again
    assert check.check(samconfig) == ("ap-southeast-2", account)


@pytest.mark.parametrize("answer", ["", "Ireland\n"])
def test_no_answer_or_a_wrong_one_is_a_clear_refusal(account, samconfig, monkeypatch, answer):
    monkeypatch.setattr(sys, "stdin", io.StringIO(answer))
    check = deploy_check()

    with pytest.raises(check.Refused, match=r"set AWS_REGION=<region>"):
        check.check(samconfig)
    assert "region" not in tomllib.loads(samconfig.read_text(encoding="utf-8"))["default"]["global"]["parameters"]


def test_an_endpoint_left_from_a_local_run_is_refused_before_credentials_go_anywhere(account, samconfig, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    check = deploy_check()

    with pytest.raises(check.Refused, match=r"AWS_ENDPOINT_URL is http://127.0.0.1:5000 .*unset it"):
        check.check(samconfig)


def test_the_check_prints_the_region_alone_on_stdout_for_the_makefile(account, samconfig, monkeypatch, capsys):
    monkeypatch.chdir(samconfig.parent)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")

    assert deploy_check().main() == 0

    printed = capsys.readouterr()
    assert printed.out == "eu-west-1\n"
    assert printed.err == f"make deploy: to eu-west-1, as {account}\n"


# The example subscriber's `make build`, in this repository.

EXAMPLE = ROOT / "examples" / "subscriber"


def test_the_examples_build_runs_sam_with_python313_found_as_the_receivers_build_finds_it(tmp_path: Path):
    finder = subprocess.run(
        ["sh", "-c", ". .ci/python3.13.sh && python3.13 --version"], cwd=ROOT, capture_output=True, text=True
    )
    if finder.returncode != 0:
        pytest.skip("no python3.13 here, on PATH or through pyenv")
    # A stand-in SAM CLI that runs what sam build's recipe runs first: python3.13.
    sam = tmp_path / "sam"
    sam.write_text('#!/bin/sh\necho "sam $*"; python3.13 --version\n')
    sam.chmod(0o755)

    run = make(EXAMPLE, "build", f"SAM={sam}")

    assert run.returncode == 0, run.stdout + run.stderr
    assert "sam build" in run.stdout
    assert finder.stdout in run.stdout


def test_the_examples_build_without_a_sam_cli_says_so():
    run = make(EXAMPLE, "build", "SAM=/nonexistent/sam")

    assert run.returncode != 0
    assert "no SAM CLI (/nonexistent/sam): install it" in run.stderr
