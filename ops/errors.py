"""How the operator tools end: the exit codes of every command (docs/operations.md#exit-codes-for-every-command)."""

from __future__ import annotations

EXIT_DONE = 0  # an empty answer is an answer: nothing to replay is done
EXIT_NOT_ACCEPTED = 1  # done, but the receiver did not store what was sent (held redrive, smoke)
EXIT_REFUSED = 2  # not done: a usage error, a name that does not exist, AWS refusing or unreachable


class OperatorError(Exception):
    """Printed as one line on stderr, exit code EXIT_REFUSED, no traceback."""
