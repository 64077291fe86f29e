"""python -m ops: see ops/cli.py."""

from __future__ import annotations

import shlex
import sys

if __name__ == "__main__":
    try:
        from ops.cli import main
    except ModuleNotFoundError as missing:
        if (missing.name or "").split(".")[0] in {"ops", "zenoti_receiver"}:
            raise  # our own code is broken, not the environment
        # A plain python3 lacks what the project's environment has (boto3, Powertools, tqdm, ...): one
        # line with the command that works, instead of a traceback.
        print(
            f"error: this Python has no {missing.name}: python -m ops runs in the project's environment, "
            f"`.venv/bin/python -m ops {shlex.join(sys.argv[1:]) or '--help'}` (`make demo` creates .venv once)",
            file=sys.stderr,
        )
        sys.exit(2)
    sys.exit(main())
