"""The one kind of failure the operator tools report: a problem the operator can fix."""

from __future__ import annotations

# argparse exits with 2 on a usage error; every other refusal uses the same code.
EXIT_REFUSED = 2


class OperatorError(Exception):
    """Printed as one line on stderr, exit code EXIT_REFUSED, no traceback."""
