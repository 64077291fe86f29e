"""The cost model of `make bench`: what a publisher's batch shares, what Lambda bills, what X-Ray records."""

from __future__ import annotations

import pytest

from devtools.bench.cost import FunctionShape, billed_seconds, publisher_cost, receiver_cost, traced_share

UNTRACED = FunctionShape(memory_gb=0.5, traced=False)
TRACED = FunctionShape(memory_gb=0.5, traced=True)


def test_a_full_batch_shares_one_invocation_and_its_logs_but_not_the_publishes():
    one = publisher_cost(UNTRACED, 1, batch_size=1, duration_s=0.004, log_bytes=1000)
    # The same duration and bytes per event, in one invocation of 100.
    full = publisher_cost(UNTRACED, 500, batch_size=100, duration_s=0.4, log_bytes=100_000)

    assert full["SNS"] == one["SNS"] == 0.50
    assert full["logs"] == pytest.approx(one["logs"])
    # Lambda's $0.20 per million requests is shared by the 100 events of a batch.
    assert full["Lambda"] == pytest.approx(one["Lambda"] - 0.20 + 0.20 / 100)


def test_lambda_bills_each_invocation_by_the_millisecond_started():
    assert billed_seconds(0.0041) == 0.005
    assert billed_seconds(0.0000001) == 0.001


def test_xray_counts_only_for_a_traced_function_and_records_less_of_a_busy_one():
    def quiet(shape: FunctionShape) -> dict[str, float]:
        return receiver_cost(shape, 1, duration_s=0.005, write_units=3, log_bytes=1000)

    assert "X-Ray" not in quiet(UNTRACED)
    assert quiet(TRACED)["X-Ray"] == 5.00  # each request is the first of its second
    assert traced_share(21) == pytest.approx(2 / 21)  # the first of each second, and 5% of the other 20
    busy = publisher_cost(TRACED, 2100, batch_size=100, duration_s=0.4, log_bytes=50_000)
    assert busy["X-Ray"] == pytest.approx(5.00 * 2 / 21 / 100)


def test_only_the_bare_baseline_publishes_from_the_receiver():
    ours = receiver_cost(UNTRACED, 1, duration_s=0.005, write_units=3, log_bytes=1000)
    baseline = receiver_cost(UNTRACED, 1, duration_s=0.005, write_units=1, log_bytes=1000, publishes=1)

    assert "SNS" not in ours
    assert baseline["SNS"] == 0.50
    assert ours["DynamoDB"] == pytest.approx(3 * 0.625)
