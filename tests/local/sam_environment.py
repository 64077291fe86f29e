"""Run with the SAM CLI's python (.venv-sam): each function's environment as `sam local` resolves it.

    .venv-sam/bin/python tests/local/sam_environment.py TEMPLATE ENV_VARS_FILE

Prints {function: {name: value}}: what SAM's own code (LocalLambdaRunner._make_env_vars, then
EnvironmentVariables.resolve) hands the function's container for `--env-vars ENV_VARS_FILE`, with no
Docker involved. Not a module of the test suite: SAM lives in its own virtual environment.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider


def main(template: str, env_vars_file: str) -> None:
    stacks, _ = SamLocalStackProvider.get_stacks(template)
    provider = SamFunctionProvider(stacks)
    root = str(Path(template).resolve().parent)
    runner = LocalLambdaRunner(
        local_runtime=None,  # type: ignore[arg-type]  # nothing is run
        function_provider=provider,
        cwd=root,
        real_path=root,
        aws_region="us-east-1",
        env_vars_values=json.loads(Path(env_vars_file).read_text(encoding="utf-8")),
    )
    resolved = {}
    for function in provider.get_all():
        resolved[function.name] = runner._make_env_vars(function).resolve()
    print(json.dumps(resolved))


if __name__ == "__main__":
    main(*sys.argv[1:])
