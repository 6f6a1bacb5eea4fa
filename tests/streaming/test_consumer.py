"""The stream consumer, in-process against moto: poison records fail alone and the shard is
retried from them, duplicates change nothing, KPL aggregates are unpacked, and records over
the maximum age are parked in the on-failure queue, not applied."""

from __future__ import annotations

import base64
import json
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


def test_poison_record_is_parked_alone_and_the_batch_goes_on(aws: dict[str, Any]) -> None:
    batch = lambda_event(
        aws["kinesis"],
        [
            ("k", payload(event("before"))),
            ("k", b"{not json"),
            ("k", payload(event("after-1"))),
            ("k", payload(event("after-2"))),
        ],
    )
    assert _invoke(batch) == []  # nothing to retry: no retry can make it valid
    assert set(_table(aws)) == {"before", "after-1", "after-2"}
    (parked,) = _parked(aws)
    assert parked["condition"] == "PoisonRecord"
    assert parked["sequenceNumber"] == batch["Records"][1]["kinesis"]["sequenceNumber"]
    assert base64.b64decode(parked["data"]) == b"{not json"  # the record itself, for a fix and replay
    assert parked["reason"].startswith("data is not UTF-8 JSON")


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
    "amount-beyond-dynamodb": payload(event("x", amount=1e126)),
    "amount-below-dynamodb": payload(event("x", amount=1e-131)),
    "event-time-without-offset": payload({**event("x"), "event_time": "2026-11-27T10:00:00"}),
    "event-time-microseconds": payload({**event("x"), "event_time": "2026-11-27T10:00:00.123456+00:00"}),
    "event-time-local-offset": payload({**event("x"), "event_time": "2026-11-27T23:30:00-05:00"}),
    "event-time-february-30": payload({**event("x"), "event_time": "2026-02-30T10:00:00Z"}),
    "event-time-hour-24": payload({**event("x"), "event_time": "2026-11-27T24:00:00Z"}),
    "event-time-second-60": payload({**event("x"), "event_time": "2026-11-27T10:00:60Z"}),
    "event-time-before-2000": payload({**event("x"), "event_time": "1999-12-31T23:59:59Z"}),
    "event-time-after-2099": payload({**event("x"), "event_time": "2100-01-01T00:00:00Z"}),
    "event-time-final-newline": payload({**event("x"), "event_time": "2026-11-27T10:00:00Z\n"}),
    "amount-boolean": payload(event("x", amount=True)),
    "source-not-string": payload(event("x", source=["a"])),
    "huge-event-id": payload(event("x" * 257)),
    "huge-event-type": payload(event("x", event_type="t" * 257)),
    "huge-customer-id": payload(event("x", customer_id="c" * 257)),
    "attributes-not-strings": payload(event("x", attributes={"n": 1})),
    "attributes-a-list": payload(event("x", attributes=["a"])),
}


@pytest.mark.parametrize("data", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_records_are_parked_and_nothing_of_them_is_written(aws: dict[str, Any], data: bytes) -> None:
    batch = lambda_event(aws["kinesis"], [("k", payload(event("good"))), ("k", data)])
    assert _invoke(batch) == []
    assert set(_table(aws)) == {"good"}
    (parked,) = _parked(aws)
    assert base64.b64decode(parked["data"]) == data


@pytest.mark.parametrize("data", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_events_are_recognised_as_poison_before_any_write(data: bytes) -> None:
    # Poison, not a transient error: the reason is logged and nothing reaches DynamoDB.
    with pytest.raises(consumer.PoisonRecord):
        consumer.parse_event(data)


def test_one_bad_user_record_of_an_aggregate_loses_none_of_its_siblings(aws: dict[str, Any]) -> None:
    packed = aggregate([("c-1", payload(event("inner-1"))), ("c-2", b"nope"), ("c-1", payload(event("inner-3")))])
    batch = lambda_event(aws["kinesis"], [("c-1", packed), ("k", payload(event("plain")))])
    assert _invoke(batch) == []
    assert set(_table(aws)) == {"inner-1", "inner-3", "plain"}  # as Firehose delivers them to the lake
    (parked,) = _parked(aws)
    assert (parked["subSequenceNumber"], parked["userPartitionKey"]) == (1, "c-2")
    assert base64.b64decode(parked["data"]) == b"nope"  # the bad user record only
    # The same batch again (a retry of the invocation): the siblings are not written twice.
    items = _table(aws)
    assert _invoke(batch) == []
    assert _table(aws) == items


def test_a_batch_of_only_poison_is_parked_whole(aws: dict[str, Any]) -> None:
    batch = lambda_event(aws["kinesis"], [("k", b"x"), ("k", b"y")])
    assert _invoke(batch) == []
    assert sorted(base64.b64decode(p["data"]) for p in _parked(aws)) == [b"x", b"y"]


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
    assert _invoke(batch) == []
    assert set(_table(aws)) == {"ok"}
    (parked,) = _parked(aws)
    assert base64.b64decode(parked["data"]) == corrupt


class _Throttling:
    """DynamoDB below the handler: puts of the named event ids fail as throttled (after the
    SDK's own retries), everything else goes through."""

    def __init__(self, real: Any, *event_ids: str, code: str = "ProvisionedThroughputExceededException") -> None:
        self.real, self.event_ids, self.code = real, set(event_ids), code
        self.calls: list[str] = []

    def put_item(self, **kwargs: Any) -> Any:
        event_id = kwargs["Item"]["event_id"]["S"]
        self.calls.append(event_id)
        if event_id in self.event_ids:
            raise ClientError({"Error": {"Code": self.code, "Message": self.code}}, "PutItem")
        return self.real.put_item(**kwargs)


def test_a_failed_write_holds_the_rest_of_the_batch_until_the_retry(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = lambda_event(aws["kinesis"], [("k", payload(event(n))) for n in ("first", "throttled", "last")])
    real = consumer._dynamodb()
    throttling = _Throttling(real, "throttled")
    monkeypatch.setattr(consumer, "_dynamodb", lambda: throttling)
    failed = [r["kinesis"]["sequenceNumber"] for r in batch["Records"][1:]]
    assert _invoke(batch) == failed
    assert throttling.calls == ["first", "throttled"]  # "last" waits: not tried
    assert set(_table(aws)) == {"first"}
    monkeypatch.setattr(consumer, "_dynamodb", lambda: real)
    assert _invoke(retry_from(batch, failed[0])) == []
    assert set(_table(aws)) == {"first", "throttled", "last"}
    assert _parked(aws) == []


def test_the_first_event_of_an_id_is_kept_error_or_not(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Two events with one id: the table keeps the first in stream order, also when the
    first write was throttled and the second would have gone through."""
    first, second = event("same", amount=1), event("same", amount=2)
    batch = lambda_event(aws["kinesis"], [("k", payload(first)), ("k", payload(second))])
    real = consumer._dynamodb()

    class FirstThrottled:
        calls = 0

        def put_item(self, **kwargs: Any) -> Any:
            FirstThrottled.calls += 1
            if FirstThrottled.calls == 1:
                raise ClientError({"Error": {"Code": "ThrottlingException"}}, "PutItem")
            return real.put_item(**kwargs)

    monkeypatch.setattr(consumer, "_dynamodb", lambda: FirstThrottled())
    # Both records failed (the second held back): the invocation fails, and Lambda retries it.
    with pytest.raises(BatchProcessingError):
        consumer.handler(batch, Context())
    assert FirstThrottled.calls == 1 and _table(aws) == {}
    monkeypatch.setattr(consumer, "_dynamodb", lambda: real)
    assert _invoke(batch) == []
    assert _table(aws)["same"]["amount"] == {"N": "1.0"}


def test_an_item_dynamodb_refuses_is_parked_not_retried(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    batch = lambda_event(aws["kinesis"], [("k", payload(event("refused"))), ("k", payload(event("fine")))])
    refusing = _Throttling(consumer._dynamodb(), "refused", code="ValidationException")
    monkeypatch.setattr(consumer, "_dynamodb", lambda: refusing)
    assert _invoke(batch) == []
    assert set(_table(aws)) == {"fine"}
    (parked,) = _parked(aws)
    assert parked["reason"] == "DynamoDB refused the item: ValidationException"


def test_items_expire_exactly_the_ttl_after_they_are_written(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = lambda_event(aws["kinesis"], [("k", payload(event("ttl")))])
    now = float(int(time.time()))
    monkeypatch.setattr(consumer.time, "time", lambda: now)
    assert _invoke(batch) == []
    assert _table(aws)["ttl"]["expires_at"] == {"N": str(int(now) + 30 * 86_400)}


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


def test_an_over_age_record_of_a_mebibyte_is_parked_in_parts(aws: dict[str, Any]) -> None:
    data = payload(event("big", source="s")) + b" " * (1024 * 1024 - 200)  # JSON with trailing blanks
    now = time.time()
    old = lambda_event(aws["kinesis"], [("k", data)], arrival=now - MAX_AGE_SECONDS - 5)
    assert _invoke(old) == []
    messages = []
    while batch := _parked(aws):
        messages += batch
    assert all(len(json.dumps(m)) < 256 * 1024 for m in messages)  # each fits the queue's limit
    parts = sorted(messages, key=lambda m: m["part"])
    assert [m["part"] for m in parts] == list(range(1, len(parts) + 1)) and parts[0]["parts"] == len(parts) > 1
    assert len({m["parkId"] for m in parts}) == 1
    assert base64.b64decode("".join(m["data"] for m in parts)) == data
