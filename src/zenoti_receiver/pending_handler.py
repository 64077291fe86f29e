"""Lambda entry point of the scheduled function that publishes events stored but not yet published.

EventBridge Scheduler invokes it every minute (template.yaml, PendingPublisherFunction); the event
it sends carries nothing this function needs. Each run publishes a bounded number of the oldest
pending events and reports, as metrics, how many are still pending and how old the oldest is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from zenoti_receiver.adapters.aws import client
from zenoti_receiver.adapters.event_table import EventTable
from zenoti_receiver.adapters.event_topic import DEPENDENCY as EVENTS_TOPIC
from zenoti_receiver.adapters.event_topic import EventTopic
from zenoti_receiver.errors import TemporaryFailure
from zenoti_receiver.logic.ports import PendingCensus
from zenoti_receiver.logic.publishing_pending import PendingPublisher
from zenoti_receiver.metric_dimensions import count_by
from zenoti_receiver.settings import PendingSettings

logger = Logger()
metrics = Metrics()

settings = PendingSettings.from_environment()
table = EventTable(settings.table_name, client("dynamodb"), settings.event_retention_days)
topic = EventTopic(settings.topic_arn)
publisher = PendingPublisher(store=table, publisher=topic)


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        run = publisher.run(
            max_events=settings.max_events_per_run,
            seconds_left=lambda: context.get_remaining_time_in_millis() / 1000,
        )
    except TemporaryFailure as failure:
        # Nothing is lost: whatever was not recorded stays pending for the next run. Without a
        # census this run reports no PendingEvents, and the alarm treats that as breaching.
        logger.exception("Publishing pending events failed", extra={"dependency": failure.dependency})
        count_by(metrics, "DependencyFailures", "dependency", failure.dependency)
        return {"status": "failed", "dependency": failure.dependency}

    metrics.add_metric(name="PendingEventsPublished", unit=MetricUnit.Count, value=run.published)
    if run.not_published:
        count_by(metrics, "DependencyFailures", "dependency", EVENTS_TOPIC)
    age = oldest_age_seconds(run.remaining)
    metrics.add_metric(name="PendingEvents", unit=MetricUnit.Count, value=run.remaining.count)
    metrics.add_metric(name="OldestPendingAge", unit=MetricUnit.Seconds, value=age)
    summary = {
        "scheduled_time": event.get("scheduled_time"),
        "published": run.published,
        "not_published": run.not_published,
        "skipped": run.skipped,
        "unreadable": run.unreadable,
        "pending": run.remaining.count,
        "oldest_pending_age_seconds": age,
    }
    if run.published or run.remaining.count:
        logger.info("Pending events", extra=summary)
    return {"status": "done", **summary}


def oldest_age_seconds(census: PendingCensus, now: datetime | None = None) -> float:
    """How long the oldest pending event has waited; 0 when nothing is pending."""
    if census.oldest_received_at is None:
        return 0.0
    received = datetime.fromisoformat(census.oldest_received_at.replace("Z", "+00:00"))
    return max(0.0, round(((now or datetime.now(UTC)) - received).total_seconds(), 1))
