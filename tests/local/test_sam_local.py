"""The README's `sam local` recipe: what SAM hands the function reaches the local stack; deployed, AWS.

Docker cannot run here: these tests hold the parts that decide whether the recipe works, SAM's own
resolution of `--env-vars` included (with the SAM CLI's code, from .venv-sam).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

from devtools.local_stack.guard import is_loopback
from devtools.local_stack.resources import FUNCTION, PUBLISHER_FUNCTION, create_resources
from devtools.local_stack.template import load_template, resource
from tests.conftest import EVENTS, ROOT

ENV_FILE = EVENTS / "sam-local-env.json"
FUNCTIONS = (FUNCTION, PUBLISHER_FUNCTION)
SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"


def declared(function: str) -> dict[str, Any]:
    """The environment variables template.yaml gives a function (its Globals too)."""
    template = load_template()
    return {
        **template["Globals"]["Function"]["Environment"]["Variables"],
        **resource(template, function)["Properties"]["Environment"]["Variables"],
    }


def env_file_settings(function: str) -> dict[str, str]:
    """What the env file sets for a function: its own section over the file's Parameters, as SAM reads it."""
    settings = json.loads(ENV_FILE.read_text(encoding="utf-8"))
    return {**settings.get("Parameters", {}), **settings.get(function, {})}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_env_file_sets_only_variables_the_function_declares(function):
    # SAM passes an --env-vars entry only for a variable the template declares for that function
    # (samcli/local/lambdafn/env_vars.py, EnvironmentVariables.resolve): any other is silently dropped,
    # and the function in the container would call real AWS.
    undeclared = set(env_file_settings(function)) - set(declared(function))

    assert not undeclared, f"sam local would drop {sorted(undeclared)} for {function}"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_env_file_points_each_function_at_what_serve_creates(function, monkeypatch):
    from moto import mock_aws

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "local")
    with mock_aws():
        resources = create_resources()
    environment = resources.function_environment if function == FUNCTION else resources.publisher_environment
    settings = env_file_settings(function)

    for name in {"EVENTS_TABLE_NAME", "HELD_TABLE_NAME", "EVENTS_TOPIC_ARN", "TOKEN_SECRET_ARN"} & set(settings):
        assert settings[name] == environment[name]
    assert settings["AWS_ENDPOINT_URL"] == "http://host.docker.internal:5000"  # serve's default emulator port


def test_the_deployed_functions_declare_the_endpoint_empty_and_botocore_ignores_it(monkeypatch):
    for function in FUNCTIONS:
        assert declared(function)["AWS_ENDPOINT_URL"] == ""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "")

    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")

    # What the adapters create (src/zenoti_receiver/adapters): AWS's own endpoints, not an emulator's.
    assert session.client("dynamodb").meta.endpoint_url == "https://dynamodb.us-east-1.amazonaws.com"
    assert session.client("sns").meta.endpoint_url == "https://sns.us-east-1.amazonaws.com"
    assert session.client("secretsmanager").meta.endpoint_url == "https://secretsmanager.us-east-1.amazonaws.com"


def test_the_local_stack_sets_its_own_endpoint_over_the_templates_empty_one(monkeypatch):
    from moto import mock_aws

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "local")
    with mock_aws():
        resources = create_resources()

    # An empty AWS_ENDPOINT_URL from the template would undo the endpoint serve sets for the function.
    assert "AWS_ENDPOINT_URL" not in resources.function_environment
    assert "AWS_ENDPOINT_URL" not in resources.publisher_environment


def resolved_by_sam(application: Path, env_file: Path) -> dict[str, dict[str, str]]:
    """Each function's environment as `sam local --env-vars env_file` gives it, run in `application`.

    Dummy credentials in SAM's shell, as the recipe says: SAM gives the function the credentials of its
    own session (LocalLambdaRunner.get_aws_creds), never those of the env file.
    """
    shell = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    shell.update({"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "SAM_CLI_TELEMETRY": "0"})
    run = subprocess.run(
        [str(SAM_PYTHON), str(ROOT / "tests" / "local" / "sam_environment.py"), "template.yaml", str(env_file)],
        cwd=application,
        env=shell,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    resolved: dict[str, dict[str, str]] = json.loads(run.stdout.splitlines()[-1])
    return resolved


@pytest.mark.skipif(not SAM_PYTHON.exists(), reason="needs the SAM CLI in .venv-sam (make validate creates it)")
def test_sam_itself_hands_each_function_the_emulators_endpoint_and_the_local_names():
    resolved = resolved_by_sam(ROOT, ENV_FILE)

    for function in FUNCTIONS:
        environment = resolved[function]
        assert environment["AWS_ENDPOINT_URL"] == "http://host.docker.internal:5000"
        assert environment["AWS_REGION"] == "us-east-1"
        assert environment["AWS_ACCESS_KEY_ID"] == "local"
    assert resolved[FUNCTION]["TOKEN_SECRET_ARN"] == "zenoti-local-webhook-token"
    assert resolved[FUNCTION]["EVENTS_TABLE_NAME"] == "zenoti-local-events"
    assert resolved[PUBLISHER_FUNCTION]["EVENTS_TOPIC_ARN"].endswith(":zenoti-local-events")


def test_serve_warns_when_the_emulator_listens_beyond_the_loopback():
    from devtools.local_stack.__main__ import _exposure_warning

    assert is_loopback("127.0.0.1")
    assert not is_loopback("172.17.0.1")  # Docker's bridge, as the Linux recipe uses
    assert _exposure_warning("127.0.0.1") == ""
    warning = _exposure_warning("172.17.0.1")
    assert "the AWS emulator listens on 172.17.0.1" in warning
    assert "no authentication" in warning


EXAMPLE = ROOT / "examples" / "subscriber"


def test_the_example_subscribers_env_file_sets_only_what_its_function_declares():
    # The same rule for the example's `sam local invoke`: an undeclared AWS_ENDPOINT_URL is dropped, and
    # the function in the container would call real AWS.
    template = load_template(EXAMPLE / "template.yaml")
    declared = resource(template, "SubscriberFunction")["Properties"]["Environment"]["Variables"]
    settings = json.loads((EXAMPLE / "events" / "sam-local-env.json").read_text(encoding="utf-8"))

    assert declared["AWS_ENDPOINT_URL"] == ""  # deployed: botocore ignores it, the function calls AWS
    assert set(settings["SubscriberFunction"]) <= set(declared)
    assert settings["SubscriberFunction"]["AWS_ENDPOINT_URL"] == "http://host.docker.internal:5000"


@pytest.mark.skipif(not SAM_PYTHON.exists(), reason="needs the SAM CLI in .venv-sam (make validate creates it)")
def test_sam_itself_hands_the_example_subscriber_the_emulators_endpoint():
    environment = resolved_by_sam(EXAMPLE, EXAMPLE / "events" / "sam-local-env.json")["SubscriberFunction"]

    assert environment["AWS_ENDPOINT_URL"] == "http://host.docker.internal:5000"
    assert environment["DELETIONS_TABLE_NAME"] == "booking-subscriber-local-deletions"
    assert environment["AWS_ACCESS_KEY_ID"] == "local"
