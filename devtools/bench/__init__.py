"""Benchmark of what a webhook costs: cold start, warm latency, CPU, AWS calls, package size."""
