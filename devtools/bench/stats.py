"""Medians and percentiles of repeated measurements, and how to print them."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with at least `fraction` of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def microseconds(seconds: float) -> str:
    return f"{seconds * 1_000_000:.0f} us"


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
