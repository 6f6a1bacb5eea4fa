"""Builders for the stream consumer tests: records produced into a moto Kinesis stream and
read back in the shape Lambda delivers them, and KPL aggregates built from the documented
format (independently of the handler's decoder)."""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "lambdas" / "streaming"
if str(LAMBDA_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDA_DIR))

consumer: ModuleType = importlib.import_module("consumer")
kpl: ModuleType = importlib.import_module("kpl_aggregation")

REGION = "eu-west-1"
STREAM = "events-test"
TABLE = "stream-events-test"
QUEUE = "stream-on-failure-test"
MAX_AGE_SECONDS = 3600


def event(event_id: str, event_type: str = "click", **extra: Any) -> dict[str, Any]:
    return {"event_id": event_id, "event_type": event_type, "event_time": "2026-11-27T10:00:00+00:00", **extra}


def payload(value: dict[str, Any] | bytes) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode()


def lambda_event(kinesis: Any, records: list[tuple[str, bytes]], *, arrival: float | None = None) -> dict[str, Any]:
    """Put ``records`` (partition key, data) into the one-shard test stream and return them,
    read back with GetRecords, as the event Lambda hands the function."""
    stream_arn = kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["StreamARN"]
    for partition_key, data in records:
        kinesis.put_record(StreamName=STREAM, PartitionKey=partition_key, Data=data)
    shard_id = kinesis.list_shards(StreamName=STREAM)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")
    read = kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=10_000)["Records"]
    read = read[-len(records) :]  # the ones just put
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": r["PartitionKey"],
                    "sequenceNumber": r["SequenceNumber"],
                    "data": base64.b64encode(r["Data"]).decode(),
                    "approximateArrivalTimestamp": (
                        arrival if arrival is not None else r["ApproximateArrivalTimestamp"].timestamp()
                    ),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{r['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/consumer",
                "awsRegion": REGION,
                "eventSourceARN": stream_arn,
            }
            for r in read
        ]
    }


def retry_from(event_: dict[str, Any], sequence_number: str) -> dict[str, Any]:
    """What Lambda delivers next after a batch reported ``sequence_number`` as failed: the
    shard's records from that one on (``ReportBatchItemFailures`` checkpoint semantics)."""
    records = event_["Records"]
    start = next(i for i, r in enumerate(records) if r["kinesis"]["sequenceNumber"] == sequence_number)
    return {"Records": records[start:]}


# --- KPL aggregates, encoded from the documented format -----------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, wire_type: int, body: bytes | int) -> bytes:
    key = _varint(number << 3 | wire_type)
    if wire_type == 0:
        assert isinstance(body, int)
        return key + _varint(body)
    assert isinstance(body, bytes)
    return key + _varint(len(body)) + body


def aggregate(user_records: list[tuple[str, bytes]], *, tags: bool = True) -> bytes:
    """A KPL aggregated record holding ``user_records`` (partition key, data)."""
    keys: list[str] = []
    for key, _ in user_records:
        if key not in keys:
            keys.append(key)
    message = b"".join(_field(1, 2, key.encode()) for key in keys)
    message += _field(2, 2, b"340282366920938463463374607431768211455")  # an explicit hash key, unused
    for key, data in user_records:
        record = _field(1, 0, keys.index(key)) + _field(3, 2, data)
        if tags:  # tags (field 4) are part of the format and must be skipped
            record += _field(4, 2, _field(1, 2, b"origin") + _field(2, 2, b"test"))
        message += _field(3, 2, record)
    return b"\xf3\x89\x9a\xc2" + message + hashlib.md5(message, usedforsecurity=False).digest()


class Context:
    function_name = "stream-consumer"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:stream-consumer"
    aws_request_id = "00000000-0000-0000-0000-000000000000"


def invoke(event_: dict[str, Any]) -> list[str]:
    response = consumer.handler(event_, Context())
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def table_items(aws: dict[str, Any]) -> dict[str, dict[str, Any]]:
    # A test-side read of the whole (tiny) table; the handler itself never scans.
    items = aws["dynamodb"].scan(TableName=TABLE)["Items"]
    return {item["event_id"]["S"]: item for item in items}


def parked(aws: dict[str, Any]) -> list[dict[str, Any]]:
    messages = aws["sqs"].receive_message(QueueUrl=aws["queue_url"], MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]
