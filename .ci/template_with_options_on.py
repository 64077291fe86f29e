"""template.yaml with every optional feature turned on, for the linters and scanners.

checkov and cfn-lint judge a template at its parameters' defaults, and every optional resource
(the WAF front door, the subscriber queue, the allow-list, the extra publishers, the budget) sits behind a
condition that is false by default: this copy flips those defaults so they are judged too.

    python .ci/template_with_options_on.py > .aws-sam/template-options-on.yaml
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
OPTIONS_ON = {
    "WafFrontDoor": '"true"',
    "WafAllowedSourceCidrs": '"192.0.2.0/24"',
    "SubscriberQueue": '"true"',
    "SubscriberCenterIds": '"e1693623-bda5-4b3e-a2a7-611ea4f1f7ad"',
    "SubscriberEventTypes": '"Class.Booking.Deleted,Class.Booking.Cancelled"',
    "ReplayPrincipalArns": '"arn:aws:iam::123456789012:role/operator"',
    "TokenReaderPrincipalArns": '"arn:aws:iam::123456789012:role/operator"',
    "TokenAdminPrincipalArns": '"arn:aws:iam::123456789012:role/token-admin"',
    "AlarmEmail": "ops@example.com",
    "NoEventAlarmHours": "24",
    "EventRetentionDays": "365",
    "MonthlyBudgetUsd": "50",
}


def with_options_on(text: str) -> str:
    for name, value in OPTIONS_ON.items():
        # The parameter's own Default line: the first one after "  Name:" at the parameters' indent.
        pattern = re.compile(rf"(^  {name}:\n(?:    .*\n)*?    Default: ).*$", re.MULTILINE)
        text, found = pattern.subn(lambda match, value=value: match.group(1) + value, text, count=1)
        if not found:
            raise SystemExit(f"template.yaml has no parameter {name} with a Default")
    return text


if __name__ == "__main__":
    sys.stdout.write(with_options_on(TEMPLATE.read_text(encoding="utf-8")))
