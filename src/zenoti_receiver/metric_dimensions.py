"""Counting a metric by one more dimension (which dependency failed, why a delivery was refused)."""

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric


def count_by(metrics: Metrics, name: str, dimension: str, value: str) -> None:
    """One more count of `name` with `dimension`=`value`, in a metric document of its own."""
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=metrics.namespace,
        default_dimensions={"service": metrics.service},
    ) as metric:
        metric.add_dimension(name=dimension, value=value)


def count_also_by(metrics: Metrics, name: str, dimension: str, value: str) -> None:
    """One count of `name`, both plain and by `dimension`=`value`, in the invocation's one metric document."""
    # Half the bytes of count_by and a plain count, but every metric of the document gets the dimension too.
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    metrics.add_dimensions(service=metrics.service, **{dimension: value})
