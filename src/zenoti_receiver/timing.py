"""How long the receiver may take, in one place: the function's timeout, each AWS call's bounds, the claim.

Zenoti waits 10 s for an answer and retries a failed delivery 30 s later at the earliest. Every
number below is derived from, or checked against, those two (tests/unit/test_template.py holds the
template's `Timeout` to RECEIVER_TIMEOUT_SECONDS).
"""

from __future__ import annotations

from dataclasses import dataclass

ZENOTI_WAITS_SECONDS = 10
ZENOTI_SHORTEST_RETRY_GAP_SECONDS = 30

# The function's timeout (template.yaml, ReceiverFunction's Timeout): the hard stop, with a second of
# Zenoti's wait left for API Gateway and the network.
RECEIVER_TIMEOUT_SECONDS = 9


@dataclass(frozen=True)
class CallBounds:
    """How long one AWS call may take: attempts of (connect + read), with botocore's backoff between."""

    connect_seconds: float
    read_seconds: float
    attempts: int

    @property
    def worst_seconds(self) -> float:
        # botocore's standard retry mode waits at most 1 s before the first retry.
        return self.attempts * (self.connect_seconds + self.read_seconds) + (self.attempts - 1)


# Every AWS call the functions make (DynamoDB, SNS, Secrets Manager): each takes milliseconds when AWS
# is well, so a second of read time, and one retry, is room enough; past that the delivery fails fast
# (a 5xx while nothing is stored: Zenoti retries) instead of running into the timeout.
AWS_CALL = CallBounds(connect_seconds=0.5, read_seconds=1, attempts=2)

# Publishing may fail without failing the delivery (the stack publishes what is left pending within
# a minute), so it gets one attempt: a retry here would only take time from the record.
PUBLISHING = CallBounds(connect_seconds=0.5, read_seconds=1, attempts=1)

# An event is published before answering only when publishing it and recording that it was published
# both fit in the time left; otherwise it stays pending and the stack publishes it. Recording is what
# keeps a published event from being published again, so the timeout must never cut it off.
PUBLISH_AND_RECORD_SECONDS = PUBLISHING.worst_seconds + AWS_CALL.worst_seconds

# How long a delivery holds the right to publish an event it stored: longer than the function can run,
# so a live attempt is never overtaken; the scheduled publisher only takes events older than this.
CLAIM_SECONDS = 15
