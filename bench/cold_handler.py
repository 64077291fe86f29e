"""One cold start of the function: a fresh process imports the handler and serves its first request.

Run by bench.cold_start as a script (`python -I cold_handler.py SRC`), the API Gateway event on
stdin, the function's environment set; prints one `BENCH-RESULT {json}` line last. Self-contained:
it imports nothing of the benchmark, so the process holds only what the function holds.
"""

from __future__ import annotations

import json
import sys
import time

STARTED = time.perf_counter()


class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name = "ReceiverFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ReceiverFunction"
    memory_limit_in_mb = 512

    def __init__(self, aws_request_id: str) -> None:
        self.aws_request_id = aws_request_id

    def get_remaining_time_in_millis(self) -> int:
        return 7000


def main() -> None:
    event = json.loads(sys.stdin.read())
    sys.path.insert(0, sys.argv[1])  # the function's code root, as Lambda puts it on the path
    before_import = time.perf_counter()
    from zenoti_receiver.handler import lambda_handler

    imported = time.perf_counter()
    result = lambda_handler(event, LambdaContext(event["requestContext"]["requestId"]))
    served = time.perf_counter()
    report = {
        "status": result["statusCode"],
        "body": json.loads(result["body"]),
        "init_s": imported - before_import,
        "request_s": served - imported,
    }
    print("BENCH-RESULT " + json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
