"""The operators' tool stands on the function's code and AWS alone: never on the development tools."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

DEVELOPMENT_ONLY = ("local_stack", "bench", "moto", "tests")


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
