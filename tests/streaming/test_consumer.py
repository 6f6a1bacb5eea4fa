"""The stream consumer, in-process against moto: poison records fail alone and the shard is
retried from them, duplicates change nothing, KPL aggregates are unpacked, and records over
the maximum age are parked in the on-failure queue, not applied."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from tests.streaming.consumer_support import (
    MAX_AGE_SECONDS,
    Context,
    aggregate,
    consumer,
    event,
    kpl,
    lambda_event,
    payload,
    retry_from,
)
from tests.streaming.consumer_support import invoke as _invoke
from tests.streaming.consumer_support import parked as _parked
from tests.streaming.consumer_support import table_items as _table


def test_events_are_written_once_each(aws: dict[str, Any]) -> None:
    batch = lambda_event(aws["kinesis"], [("customer-1", payload(event(f"e{i}", amount=i * 1.5))) for i in range(3)])
    assert _invoke(batch) == []
    items = _table(aws)
    assert set(items) == {"e0", "e1", "e2"}
    assert items["e2"]["amount"] == {"N": "3.0"}
    assert items["e0"]["partition_key"] == {"S": "customer-1"}


def test_poison_record_fails_alone_and_the_shard_is_retried_from_it(aws: dict[str, Any]) -> None:
    batch = lambda_event(
        aws["kinesis"],
        [
            ("k", payload(event("before"))),
            ("k", b"{not json"),
            ("k", payload(event("after-1"))),
            ("k", payload(event("after-2"))),
        ],
    )
    poison_sequence = batch["Records"][1]["kinesis"]["sequenceNumber"]
    assert _invoke(batch) == [poison_sequence]
    first = _table(aws)
    assert set(first) == {"before", "after-1", "after-2"}  # the rest of the batch was applied

    # Lambda retries the shard from the reported sequence number: the records after the
    # poison record arrive again and change nothing.
    retry = retry_from(batch, poison_sequence)
    assert next(r["kinesis"]["sequenceNumber"] for r in retry["Records"]) == poison_sequence
    assert len(retry["Records"]) == 3
    assert _invoke(retry) == [poison_sequence]
    assert _table(aws) == first
    assert _parked(aws) == []  # a poison record is Lambda's to give up on (after its retries)


HOSTILE = {
    "not-json": b"{not json",
    "not-utf8": b"\xff\xfe\xfa",
    "json-array": b'[{"event_id": "x"}]',
    "json-string": b'"event"',
    "missing-event-id": payload({"event_type": "click", "event_time": "2026-11-27T10:00:00+00:00"}),
    "empty-event-type": payload(event("x", event_type="")),
    "event-id-not-string": payload({**event("x"), "event_id": 7}),
    "bad-event-time": payload({**event("x"), "event_time": "yesterday"}),
    "amount-not-number": payload(event("x", amount="12")),
    "amount-nan": payload(event("x")).replace(b"}", b', "amount": NaN}'),
    "amount-infinite": payload(event("x")).replace(b"}", b', "amount": -Infinity}'),
    "amount-beyond-double": payload(event("x", amount=10**400)),
    "event-time-without-offset": payload({**event("x"), "event_time": "2026-11-27T10:00:00"}),
    "amount-boolean": payload(event("x", amount=True)),
    "source-not-string": payload(event("x", source=["a"])),
    "huge-event-id": payload(event("x" * 257)),
    "aggregate-with-poison-inside": aggregate([("k", payload(event("inner-ok"))), ("k", b"nope")]),
}


@pytest.mark.parametrize("data", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_records_are_poison_and_nothing_of_them_is_written(aws: dict[str, Any], data: bytes) -> None:
    batch = lambda_event(aws["kinesis"], [("k", payload(event("good"))), ("k", data)])
    assert _invoke(batch) == [batch["Records"][1]["kinesis"]["sequenceNumber"]]
    assert set(_table(aws)) == {"good"}


@pytest.mark.parametrize(
    "data",
    [v for k, v in HOSTILE.items() if not k.startswith("aggregate")],
    ids=[k for k in HOSTILE if not k.startswith("aggregate")],
)
def test_hostile_events_are_recognised_as_poison_before_any_write(data: bytes) -> None:
    # Poison, not a transient error: the reason is logged and nothing reaches DynamoDB.
    with pytest.raises(consumer.PoisonRecord):
        consumer.parse_event(data)


def test_a_batch_of_only_poison_fails_the_invocation_so_lambda_can_bisect(aws: dict[str, Any]) -> None:
    batch = lambda_event(aws["kinesis"], [("k", b"x"), ("k", b"y")])
    with pytest.raises(BatchProcessingError):
        consumer.handler(batch, Context())


def test_duplicates_change_nothing(aws: dict[str, Any]) -> None:
    # A producer retry writes the same event twice: two records, two sequence numbers.
    original = event("dup", amount=10)
    batch = lambda_event(aws["kinesis"], [("k", payload(original)), ("k", payload({**original, "amount": 99}))])
    assert _invoke(batch) == []
    items = _table(aws)
    assert list(items) == ["dup"]
    assert items["dup"]["amount"] == {"N": "10.0"}  # the first write stands
    assert items["dup"]["sequence_number"] == {"S": batch["Records"][0]["kinesis"]["sequenceNumber"]}
    # The same batch delivered again (a retried invocation) changes nothing either.
    assert _invoke(batch) == []
    assert _table(aws) == items


def test_kpl_aggregated_records_are_deaggregated(aws: dict[str, Any]) -> None:
    packed = aggregate(
        [
            ("customer-1", payload(event("a1"))),
            ("customer-2", payload(event("a2"))),
            ("customer-1", payload(event("a3"))),
        ]
    )
    batch = lambda_event(aws["kinesis"], [("customer-1", packed), ("k", payload(event("plain")))])
    assert _invoke(batch) == []
    items = _table(aws)
    assert set(items) == {"a1", "a2", "a3", "plain"}
    assert items["a2"]["partition_key"] == {"S": "customer-2"}
    assert items["a3"]["sub_sequence_number"] == {"N": "2"}
    assert items["a1"]["sequence_number"] == items["a3"]["sequence_number"]  # one Kinesis record


def test_deaggregation_follows_the_documented_format() -> None:
    records = [("p", b"one"), ("q", b"two")]
    packed = aggregate(records, tags=False)
    assert kpl.is_aggregated(packed)
    assert [(r.partition_key, r.data) for r in kpl.deaggregate(packed, "outer")] == records
    # A wrong checksum: not an aggregate, passed through whole (as the KCL does).
    corrupt = packed[:-1] + bytes([packed[-1] ^ 0xFF])
    (plain,) = kpl.deaggregate(corrupt, "outer")
    assert (plain.partition_key, plain.data, plain.aggregated) == ("outer", corrupt, False)
    # The magic bytes, a matching checksum, and a partition key index out of range: malformed.
    import hashlib

    body = bytes([0x1A, 0x04, 0x08, 0x05, 0x1A, 0x00])  # records { partition_key_index: 5, data: "" }
    bad = b"\xf3\x89\x9a\xc2" + body + hashlib.md5(body, usedforsecurity=False).digest()
    with pytest.raises(kpl.MalformedAggregate, match="partition key 5 of 0"):
        kpl.deaggregate(bad, "outer")


def test_an_aggregate_with_a_bad_checksum_is_poison(aws: dict[str, Any]) -> None:
    packed = aggregate([("k", payload(event("a1")))])
    corrupt = packed[:-1] + bytes([packed[-1] ^ 0xFF])
    batch = lambda_event(aws["kinesis"], [("k", corrupt), ("k", payload(event("ok")))])
    assert _invoke(batch) == [batch["Records"][0]["kinesis"]["sequenceNumber"]]
    assert set(_table(aws)) == {"ok"}


def test_a_failed_write_is_retried_from_its_sequence_number(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = consumer._dynamodb()

    class Throttled:
        def put_item(self, **kwargs: Any) -> Any:
            if kwargs["Item"]["event_id"]["S"] == "throttled":
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")
            return real.put_item(**kwargs)

    batch = lambda_event(aws["kinesis"], [("k", payload(event(n))) for n in ("first", "throttled", "last")])
    monkeypatch.setattr(consumer, "_dynamodb", lambda: Throttled())
    failed = batch["Records"][1]["kinesis"]["sequenceNumber"]
    assert _invoke(batch) == [failed]
    assert set(_table(aws)) == {"first", "last"}
    monkeypatch.setattr(consumer, "_dynamodb", lambda: real)
    assert _invoke(retry_from(batch, failed)) == []
    assert set(_table(aws)) == {"first", "throttled", "last"}


def test_a_record_over_the_maximum_age_goes_to_the_on_failure_queue(aws: dict[str, Any]) -> None:
    now = time.time()
    old = lambda_event(aws["kinesis"], [("k", payload(event("stale")))], arrival=now - MAX_AGE_SECONDS - 5)
    young = lambda_event(aws["kinesis"], [("k", payload(event("fresh")))], arrival=now - MAX_AGE_SECONDS + 60)
    assert _invoke(old) == []  # handled: parked, not failed (a retry could only be older)
    assert _invoke(young) == []
    assert set(_table(aws)) == {"fresh"}
    (parked,) = _parked(aws)
    assert parked["condition"] == "RecordAgeExceeded"
    assert parked["sequenceNumber"] == old["Records"][0]["kinesis"]["sequenceNumber"]
    assert parked["data"] == old["Records"][0]["kinesis"]["data"]  # the record itself, for replay
    assert parked["maximumRecordAgeSeconds"] == MAX_AGE_SECONDS
    assert parked["shardId"].startswith("shardId-")
