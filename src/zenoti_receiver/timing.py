"""How long the functions may take, in one place: each function's timeout and each AWS call's bounds.

Zenoti waits 10 s for an answer and retries a failed delivery 30 s later at the earliest. The numbers
of the receiving function are derived from that wait (tests/unit/test_template.py holds the template's
`Timeout` of each function to the numbers here).
"""

from __future__ import annotations

from dataclasses import dataclass

ZENOTI_WAITS_SECONDS = 10

# The receiving function's timeout (template.yaml, ReceiverFunction's Timeout): the hard stop, with a
# second of Zenoti's wait left for API Gateway and the network.
RECEIVER_TIMEOUT_SECONDS = 9

# The publisher's timeout (template.yaml, PublisherFunction's Timeout). A batch of the stream takes
# milliseconds a record while SNS is well; while it is not, the first failed call ends the batch.
PUBLISHER_TIMEOUT_SECONDS = 30


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
