"""One cold start of a function: a fresh process imports its handler and serves its first request.

Run by bench.cold_start as a script (`python -I cold_handler.py SRC receiver|publisher`), the event on
stdin (an API Gateway event, or a stream batch), the function's environment set; prints one
`BENCH-RESULT {json}` line last. Self-contained: it imports nothing of the benchmark, so the process
holds only what the function holds.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from typing import Any

STARTED = time.perf_counter()

HANDLERS = {"receiver": "zenoti_receiver.handler", "publisher": "zenoti_receiver.publisher_handler"}
FUNCTION_NAMES = {"receiver": "ReceiverFunction", "publisher": "PublisherFunction"}
TIMEOUT_MS = {"receiver": 9000, "publisher": 30000}  # template.yaml: each function's Timeout


class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_version = "$LATEST"
    memory_limit_in_mb = 512

    def __init__(self, function: str, aws_request_id: str) -> None:
        self.function_name = function_name = FUNCTION_NAMES[function]
        self._timeout_ms = TIMEOUT_MS[function]
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.aws_request_id = aws_request_id

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms


def served(function: str, result: dict[str, Any]) -> tuple[bool, str]:
    """Whether the first request took the path Zenoti waits for: an event accepted, a batch all published."""
    if function == "receiver":
        return result["statusCode"] == 200 and json.loads(result["body"]).get("status") == "accepted", result["body"]
    return result.get("batchItemFailures") == [], json.dumps(result)


def main() -> None:
    event = json.loads(sys.stdin.read())
    src, function = sys.argv[1], sys.argv[2]
    sys.path.insert(0, src)  # the function's code root, as Lambda puts it on the path
    before_import = time.perf_counter()
    lambda_handler = importlib.import_module(HANDLERS[function]).lambda_handler
    imported = time.perf_counter()
    result = lambda_handler(event, LambdaContext(function, "00000000-cold-start"))
    answered = time.perf_counter()
    ok, detail = served(function, result)
    report = {"ok": ok, "detail": detail, "init_s": imported - before_import, "request_s": answered - imported}
    print("BENCH-RESULT " + json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
