"""Counting a metric by one more dimension (which dependency failed, why a delivery was refused)."""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric


def count_by(metrics: Metrics, name: str, dimension: str, value: str) -> None:
    """One more count of `name` with `dimension`=`value`, beside the service dimension.

    A metric of its own: the dimensions of `metrics` apply to every metric it holds.
    """
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=metrics.namespace,
        default_dimensions={"service": metrics.service},
    ) as metric:
        metric.add_dimension(name=dimension, value=value)


def count_also_by(metrics: Metrics, name: str, dimension: str, value: str) -> None:
    """One count of `name`, both plain and by `dimension`=`value`, in the invocation's one metric document.

    Two dimension sets ([service] and [service, dimension]) in one EMF document: CloudWatch makes both
    series of it, for half the bytes of a plain count plus count_by's document of its own. Every metric
    of the invocation's document gets both sets, so this is for an invocation that counts `name` alone
    (a refusal: docs/security.md, "What a flood costs").
    """
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    metrics.add_dimensions(service=metrics.service, **{dimension: value})
