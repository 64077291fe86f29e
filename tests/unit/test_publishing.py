"""Publishing a batch of the stream in order: what is published, what Lambda is told to retry, and why."""

from __future__ import annotations

import pytest

from tests.unit.memory import MemoryTopic
from zenoti_receiver.errors import TemporaryFailure
from zenoti_receiver.logic.ports import StoredEvent
from zenoti_receiver.logic.publishing import InOrderPublication, NotAttempted


def events(count: int) -> list[StoredEvent]:
    return [StoredEvent(f"e{number}", "{}", {"event_type": "Class.Booking.Deleted"}) for number in range(count)]


def publication(topic: MemoryTopic, seconds_left: float = 30) -> InOrderPublication:
    return InOrderPublication(topic, read=lambda event: event, seconds_left=lambda: seconds_left, seconds_needed=5)


def outcome(publication: InOrderPublication, batch: list[StoredEvent]) -> list[str]:
    """What each record of the batch became, as the batch processor records it."""
    results = []
    for event in batch:
        try:
            publication.publish(event)
            results.append("published")
        except NotAttempted:
            results.append("not attempted")
        except TemporaryFailure:
            results.append("failed")
    return results


def test_a_batch_is_published_in_order():
    topic = MemoryTopic()
    run = publication(topic)

    assert outcome(run, events(3)) == ["published"] * 3
    assert topic.sent == ["e0", "e1", "e2"]
    assert (run.outage, run.bug) == (None, False)


def test_after_a_failure_nothing_later_is_attempted_so_a_retry_from_it_repeats_nothing():
    topic = MemoryTopic()
    run = publication(topic)
    batch = events(4)
    run.publish(batch[0])
    topic.failures = 1  # SNS fails once, then would work again

    assert outcome(run, batch[1:]) == ["failed", "not attempted", "not attempted"]
    assert topic.sent == ["e0"]  # e2 and e3 were not sent ahead of e1: Lambda retries from e1
    assert run.outage is not None
    assert run.outage.dependency == "topic"

    retry = publication(topic)
    assert outcome(retry, batch[1:]) == ["published"] * 3
    assert topic.sent == ["e0", "e1", "e2", "e3"]  # each once


def test_a_record_that_cannot_be_read_stops_the_batch_as_a_bug():
    topic = MemoryTopic()

    def read(record: object) -> StoredEvent:
        raise KeyError("payload_zlib")

    run = InOrderPublication(topic, read=read, seconds_left=lambda: 30, seconds_needed=5)

    with pytest.raises(KeyError):
        run.publish({})
    with pytest.raises(NotAttempted):
        run.publish({})
    assert (run.bug, topic.sent) == (True, [])


def test_with_too_little_time_left_nothing_more_is_attempted():
    # A timeout would fail the invocation, and Lambda would retry the whole batch, published records included.
    topic = MemoryTopic()

    assert outcome(publication(topic, seconds_left=4.9), events(2)) == ["not attempted", "not attempted"]
    assert topic.sent == []
