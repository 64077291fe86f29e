"""How the operator tools end: one rule for every command, and the one kind of failure they report.

0  done. An empty answer is an answer: no deletions in a window, nothing pending, nothing to replay.
1  done, but the receiver refused what was sent (`held redrive`: still invalid), or `smoke`'s event was
   not accepted, stored and published.
2  not done: a usage error (argparse's own code), a date that is not one, an event id or body hash
   that does not exist, no stack, region or credentials, AWS refusing or unreachable.
"""

from __future__ import annotations

EXIT_DONE = 0
EXIT_NOT_ACCEPTED = 1
EXIT_REFUSED = 2


class OperatorError(Exception):
    """Printed as one line on stderr, exit code EXIT_REFUSED, no traceback."""
