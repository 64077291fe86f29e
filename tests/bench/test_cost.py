"""The cost model of `make bench`: what a publisher's batch shares, what Lambda bills, what X-Ray records."""

from __future__ import annotations

import pytest

from devtools.bench.cost import FunctionShape, PublisherBill, ReceiverBill, billed_seconds, traced_share

UNTRACED = FunctionShape(memory_gb=0.5, traced=False)
TRACED = FunctionShape(memory_gb=0.5, traced=True)


def test_a_full_batch_shares_one_invocation_and_its_logs_but_not_the_publishes():
    one = PublisherBill(batch_size=1, duration_s=0.004, log_bytes=1000).cost_per_million_events(UNTRACED, 1)
    # The same duration and bytes per event, in one invocation of 100.
    full = PublisherBill(batch_size=100, duration_s=0.4, log_bytes=100_000).cost_per_million_events(UNTRACED, 500)

    assert full["SNS"] == one["SNS"] == 0.50
    assert full["logs"] == pytest.approx(one["logs"])
    # Lambda's $0.20 per million requests is shared by the 100 events of a batch.
    assert full["Lambda"] == pytest.approx(one["Lambda"] - 0.20 + 0.20 / 100)


def test_lambda_bills_each_invocation_by_the_millisecond_started():
    assert billed_seconds(0.0041) == 0.005
    assert billed_seconds(0.0000001) == 0.001


def test_xray_counts_only_for_a_traced_function_and_records_less_of_a_busy_one():
    quiet = ReceiverBill(duration_s=0.005, write_units=3, log_bytes=1000, publishes=0)

    assert "X-Ray" not in quiet.cost_per_million(UNTRACED, 1)
    assert quiet.cost_per_million(TRACED, 1)["X-Ray"] == 5.00  # each request is the first of its second
    assert traced_share(21) == pytest.approx(2 / 21)  # the first of each second, and 5% of the other 20
    busy = PublisherBill(batch_size=100, duration_s=0.4, log_bytes=50_000).cost_per_million_events(TRACED, 2100)
    assert busy["X-Ray"] == pytest.approx(5.00 * 2 / 21 / 100)
