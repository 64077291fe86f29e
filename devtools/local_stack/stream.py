"""Lambda's event source mapping of the events table's stream, emulated as template.yaml's PublisherStream says
(docs/local.md): ordered batches, retries from the first failure, bisection, records too old given up."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from devtools.local_stack.template import load_template, resource

MAPPING = "PublisherStream"
STREAM_RETENTION_SECONDS = 24 * 3600  # DynamoDB Streams keeps a record 24 hours


@dataclass(frozen=True)
class MappingSettings:
    """What template.yaml's event source mapping says."""

    batch_size: int
    event_names: frozenset[str]  # from its filter, e.g. INSERT
    max_record_age_seconds: int  # -1 in the template: as long as the stream keeps it
    max_retries: int | None  # -1 in the template: None, unlimited
    bisect: bool

    @classmethod
    def from_template(cls) -> MappingSettings:
        properties = resource(load_template(), MAPPING)["Properties"]
        rules = properties.get("FilterCriteria", {}).get("Filters", [])
        names = frozenset(name for rule in rules for name in json.loads(rule["Pattern"])["eventName"])
        age = int(properties["MaximumRecordAgeInSeconds"])
        retries = int(properties["MaximumRetryAttempts"])
        return cls(
            batch_size=int(properties["BatchSize"]),
            event_names=names,
            max_record_age_seconds=STREAM_RETENTION_SECONDS if age == -1 else age,
            max_retries=None if retries == -1 else retries,
            bisect=bool(properties.get("BisectBatchOnFunctionError", False)),
        )


@dataclass
class _Shard:
    shard_id: str
    after: str | None = None  # the checkpoint: the last sequence number done with
    retries: int = 0  # failed invocations of the batch at the checkpoint
    limit: int | None = None  # a batch split by bisection


@dataclass
class PollResult:
    invocations: int = 0
    records_done: int = 0  # checkpointed past: published, filtered out, or given up
    failed: bool = False  # an invocation reported failures or failed
    published: list[str] = field(default_factory=list)  # the event ids the function took, in order
    given_up: int = 0  # records sent to the on-failure destination


@dataclass
class StreamMapping:
    """The mapping of one table's stream to one function; `invoke` is the function (event in, answer out)."""

    streams: Any  # a dynamodbstreams client
    stream_arn: str
    invoke: Callable[[dict[str, Any]], dict[str, Any]]
    send_failure: Callable[[dict[str, Any]], None]  # the on-failure destination
    settings: MappingSettings = field(default_factory=MappingSettings.from_template)
    clock: Callable[[], float] = time.time
    _shards: dict[str, _Shard] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _listed: bool = False

    def poll(self, result: PollResult | None = None) -> PollResult:
        """One round of the poller: each shard's next batch, invoked once (or given up); counted into `result`."""
        result = result or PollResult()
        with self._lock:
            if not self._listed:  # as Lambda's poller does first (the function's role needs ListStreams)
                table = self.stream_arn.split(":table/", 1)[1].split("/stream/", 1)[0]
                self.streams.list_streams(TableName=table)
                self._listed = True
            description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
            for shard in description["Shards"]:
                state = self._shards.setdefault(shard["ShardId"], _Shard(shard["ShardId"]))
                self._poll_shard(state, result)
        return result

    def drain(self, max_rounds: int = 1000) -> PollResult:
        """Poll until a round finds nothing to do, or one fails (it is retried by the next call)."""
        total = PollResult()
        for _ in range(max_rounds):
            done = total.records_done
            if self.poll(total).failed or total.records_done == done:
                break
        return total

    def _poll_shard(self, shard: _Shard, result: PollResult) -> None:
        records = self._records(shard)
        # Filtered out (an update, a TTL deletion) before any invocation, as Lambda's filter does.
        while records and records[0]["eventName"] not in self.settings.event_names:
            shard.after = records.pop(0)["dynamodb"]["SequenceNumber"]
            result.records_done += 1
        batch = [record for record in records if record["eventName"] in self.settings.event_names]
        if not batch:
            return
        oldest = self.clock() - self.settings.max_record_age_seconds  # the creation time of the oldest record kept
        expired = [record for record in batch if record["dynamodb"]["ApproximateCreationDateTime"].timestamp() < oldest]
        if expired:
            # Older than the stream keeps them: Lambda gives them up, in one on-failure record.
            self._give_up(shard, expired, "RecordAgeExceeded")
            result.records_done += len(expired)
            result.given_up += len(expired)
            return
        batch = batch[: shard.limit or self.settings.batch_size]
        result.invocations += 1
        try:
            answer = self.invoke({"Records": [self._lambda_record(record) for record in batch]})
        except Exception:
            result.failed = True
            self._failed(shard, batch)
            if self.settings.bisect and len(batch) > 1:
                shard.limit = len(batch) // 2
            return
        failures = {failure["itemIdentifier"] for failure in (answer or {}).get("batchItemFailures", [])}
        sequence_numbers = [record["dynamodb"]["SequenceNumber"] for record in batch]
        done = next((number for number, sequence in enumerate(sequence_numbers) if sequence in failures), len(batch))
        shard.after = sequence_numbers[done - 1] if done else shard.after
        result.records_done += done
        result.published += [record["dynamodb"]["Keys"]["event_id"]["S"] for record in batch[:done]]
        if done < len(batch):
            result.failed = True
            self._failed(shard, batch[done:])
        else:
            shard.retries, shard.limit = 0, None

    def _failed(self, shard: _Shard, rest: list[dict[str, Any]]) -> None:
        shard.retries += 1
        if self.settings.max_retries is not None and shard.retries > self.settings.max_retries:
            self._give_up(shard, rest, "RetryAttemptsExhausted")

    def _give_up(self, shard: _Shard, records: list[dict[str, Any]], condition: str) -> None:
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        context = {"requestId": str(uuid.uuid4()), "condition": condition, "approximateInvokeCount": shard.retries}
        batch = {
            "shardId": shard.shard_id,
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso(first["ApproximateCreationDateTime"].timestamp()),
            "approximateArrivalOfLastRecord": _iso(last["ApproximateCreationDateTime"].timestamp()),
            "batchSize": len(records),
            "streamArn": self.stream_arn,
        }
        self.send_failure(
            {"requestContext": context, "version": "1.0", "timestamp": _iso(self.clock()), "DDBStreamBatchInfo": batch}
        )
        shard.after, shard.retries, shard.limit = last["SequenceNumber"], 0, None

    def _records(self, shard: _Shard) -> list[dict[str, Any]]:
        where: dict[str, Any] = {"ShardIteratorType": "TRIM_HORIZON"}
        if shard.after:
            where = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": shard.after}
        iterator = self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard.shard_id, **where)
        answer = self.streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)
        return list(answer.get("Records", []))

    def _lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """A record as Lambda hands it to the function: JSON, binary values in base64, times in epoch seconds."""
        stream = json.loads(json.dumps(record["dynamodb"], default=_as_json))
        return {**record, "eventSourceARN": self.stream_arn, "dynamodb": stream}


def _as_json(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"not JSON: {value!r}")


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
