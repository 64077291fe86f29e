"""Init in Lambda's own runtime: the INIT REPORT aws-lambda-rie gives, for the built artifact with and
without its bytecode, and for a bare function that imports boto3 and creates the same clients.

Each round starts one execution environment of each, in turn (interleaved), and invokes it once: Lambda
runs init on the first invoke, and the emulator reports its duration. The artifact is `make build-local`'s
(src/Makefile's recipe, for this machine); "without bytecode" is a copy of it without its .pyc, which
every cold start then compiles (Lambda's /var/task is read-only, so nothing is written back).
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.events import REPO
from local_stack.runtime import FunctionError, LambdaFunction, RuntimeSetup, find_runtime

BARE_FUNCTION = '''"""A bare function: boto3 and the clients the receiver creates (its adapters/aws.py)."""
import boto3
from botocore.config import Config

config = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 2})
dynamodb = boto3.client("dynamodb", config=config)
sns = boto3.client("sns", config=config)
secretsmanager = boto3.client("secretsmanager", config=config)


def handler(event, context):
    return {"statusCode": 200, "body": "{}"}
'''


@dataclass
class RuntimeInit:
    with_bytecode_ms: list[float]
    without_bytecode_ms: list[float]
    bare_ms: list[float]


def measure_runtime_init(rounds: int, environment: dict[str, str]) -> RuntimeInit | str:
    """The INIT REPORT durations of each variant, or in one line why they cannot be measured here."""
    setup = find_runtime()
    if isinstance(setup, str):
        return setup
    event = _event_without_aws_calls()
    measured = RuntimeInit([], [], [])
    with tempfile.TemporaryDirectory(prefix="bench-runtime-") as scratch:
        without = Path(scratch) / "without-bytecode"
        shutil.copytree(setup.build, without, ignore=shutil.ignore_patterns("__pycache__"))
        bare = Path(scratch) / "bare"
        bare.mkdir()
        (bare / "bare_function.py").write_text(BARE_FUNCTION, encoding="utf-8")
        handler = "zenoti_receiver.handler.lambda_handler"
        variants = [
            (setup, handler, measured.with_bytecode_ms),
            (RuntimeSetup(setup.rie, setup.python, without), handler, measured.without_bytecode_ms),
            (RuntimeSetup(setup.rie, setup.python, bare), "bare_function.handler", measured.bare_ms),
        ]
        for _ in range(rounds):
            for variant, variant_handler, durations in variants:
                durations.append(_init_ms(variant, variant_handler, environment, event))
    return measured


def _event_without_aws_calls() -> dict[str, object]:
    """An API Gateway event the function refuses (405) before any AWS call: what differs is init alone."""
    event = json.loads((REPO / "events" / "apigw_booking_deleted.json").read_text(encoding="utf-8"))
    event["requestContext"]["http"]["method"] = "GET"
    return dict(event)


def _init_ms(setup: RuntimeSetup, handler: str, environment: dict[str, str], event: dict[str, object]) -> float:
    with LambdaFunction(setup, "ReceiverFunction", handler, environment, timeout_s=7) as function:
        try:
            function.invoke(copy.deepcopy(event))
        except FunctionError as error:
            raise RuntimeError(f"{handler} failed under the emulator: {error}") from None
        with function.log.changed:
            function.log.changed.wait_for(lambda: bool(function.log.init_ms), timeout=10)
        if not function.log.init_ms:
            raise RuntimeError(f"no INIT REPORT from the emulator for {handler}:\n{function.log.text()[-2000:]}")
        return function.log.init_ms[0]
