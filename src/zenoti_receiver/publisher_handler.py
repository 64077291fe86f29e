"""Lambda entry point of the publisher: a batch of the events table's stream in, the records to retry out."""

# The event source mapping (template.yaml, PublisherFunction) hands over new items only (INSERT), in order;
# Lambda retries from the first record not published while the stream keeps it (24 hours), then sends it
# to PublicationFailuresQueue, from which `python -m ops republish` publishes it.

import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from zenoti_receiver.adapters.event_table import stored_event
from zenoti_receiver.adapters.event_topic import EventTopic
from zenoti_receiver.logic.publishing import InOrderPublication
from zenoti_receiver.metric_dimensions import count_by
from zenoti_receiver.publisher_settings import PublisherSettings
from zenoti_receiver.timing import AWS_CALL_WORST_SECONDS

logger = Logger()
metrics = Metrics()
# An invocation that published everything counts nothing (SNS counts what was published): not a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

settings = PublisherSettings.from_environment()
topic = EventTopic(settings.topic_arn)
# A batch none of whose records was published is reported like any other (every record, from the
# first): a function error would make Lambda split the batch and retry halves, out of order.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


# Never the event (a record holds a guest's booking), and no Lambda context on each line: an event's one
# line ("Event published") is what an operator looks for, and what the stack pays for per event
# (docs/performance.md). Lambda's own REPORT line carries the request id.
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.clear_state()  # nothing carried over from an earlier invocation (or, locally, another function)
    publication = InOrderPublication(
        topic,
        # The image as the stream carries it (binary as base64), read by the table's own adapter.
        read=lambda record: stored_event(record.raw_event["dynamodb"]["NewImage"]),
        seconds_left=lambda: context.get_remaining_time_in_millis() / 1000,
        # One publish at its worst, and a second to answer Lambda.
        seconds_needed=AWS_CALL_WORST_SECONDS + 1,
    )
    response = process_partial_response(
        event=event, record_handler=publication.publish, processor=processor, context=context
    )
    # What was published is counted by SNS itself (NumberOfMessagesPublished); only what was not, here.
    if not_published := len(response["batchItemFailures"]):
        metrics.add_metric(name="PublicationsRetried", unit=MetricUnit.Count, value=not_published)
    if publication.outage is not None:
        count_by(metrics, "DependencyFailures", "dependency", publication.outage.dependency)
    if publication.bug:
        metrics.add_metric(name="UnexpectedErrors", unit=MetricUnit.Count, value=1)
    return dict(response)
