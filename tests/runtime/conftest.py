"""The smoke test of the built artifact in Lambda's own runtime (aws-lambda-rie, awslambdaric, python3.13).

Deep (`make test-deep`, which builds the function for this machine first with `make build-local`).
Without aws-lambda-rie (on PATH, or AWS_LAMBDA_RIE) or the build, it skips, saying what is missing; CI
sets RUNTIME_TIER_REQUIRED=1 once it has found the emulator, so there a missing piece fails instead.
"""

from __future__ import annotations

import os

import pytest

from tests.runtime.lambda_runtime import RuntimeSetup, find_runtime

REQUIRED = "RUNTIME_TIER_REQUIRED"


@pytest.fixture(scope="session")
def runtime_setup() -> RuntimeSetup:
    found = find_runtime()
    if isinstance(found, str):
        message = (
            f"Lambda's runtime is not available: {found}. Get aws-lambda-rie from"
            " github.com/aws/aws-lambda-runtime-interface-emulator/releases, put it on PATH or name it in"
            " AWS_LAMBDA_RIE, then `make build-local`."
        )
        if os.environ.get(REQUIRED):
            pytest.fail(f"{REQUIRED} is set: {message}")
        pytest.skip(message)
    return found
