"""Stream consumer: applies events from the Kinesis stream to the events table, once each.

Event path: producers -> ingestion API (PutRecords) -> Kinesis data stream -> this function
(event source mapping, enhanced fan-out or shared throughput, ``ReportBatchItemFailures``).
A batch holds records of one shard, in sequence order. Each Kinesis record is one JSON event
or a KPL aggregate of several (de-aggregated here).

Per Kinesis record:

* Older than ``MAXIMUM_RECORD_AGE_SECONDS`` (the event source's own maximum age, which a
  retried batch can cross while it is being processed): not applied; the record, with its
  data, is parked in the on-failure queue beside the batches Lambda itself gives up on.
* Not an event (data not UTF-8 JSON, not an object, a required field missing,
  ``event_time`` not an ISO 8601 time with a UTC offset, ``amount`` not a finite number, a
  corrupt KPL aggregate): a poison record. It alone is
  reported in ``batchItemFailures``; the rest of the batch is still applied. Lambda retries
  the shard from the poison record's sequence number, so the records after it arrive again,
  and are harmless duplicates. After the configured retries Lambda sends the shard and
  sequence range to the on-failure queue and moves on.
* An event: written to the events table keyed by ``event_id`` only if no item has that key
  yet (a conditional put). A duplicate, from a producer retry or a retried batch, finds the
  item and changes nothing.
* A write that fails for another reason (throttling, a timeout) fails the record the same
  way, and the retry applies it.

Environment: ``EVENTS_TABLE_NAME``, ``ON_FAILURE_QUEUE_URL``, ``MAXIMUM_RECORD_AGE_SECONDS``,
``EVENT_TTL_DAYS``.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import os
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3  # type: ignore[import-untyped]
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

# The Lambda runtime loads these modules from the asset root, where they are top-level
# modules; static analysis sees the asset folder as a package.
if TYPE_CHECKING:
    from .kpl_aggregation import MalformedAggregate, UserRecord, deaggregate
else:
    from kpl_aggregation import MalformedAggregate, UserRecord, deaggregate

# Fields every event must carry (the Glue schema in the app lists every column; a test keeps
# the two in step).
REQUIRED_FIELDS = ("event_id", "event_type", "event_time")
OPTIONAL_STRING_FIELDS = ("source", "customer_id")
MAX_EVENT_ID_LENGTH = 256

logger = Logger()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)


class PoisonRecord(ValueError):
    """A record that no retry can apply."""


@functools.cache
def _dynamodb() -> Any:
    return boto3.client("dynamodb")


@functools.cache
def _sqs() -> Any:
    return boto3.client("sqs")


def _settings() -> tuple[str, str, int, int]:
    return (
        os.environ["EVENTS_TABLE_NAME"],
        os.environ["ON_FAILURE_QUEUE_URL"],
        int(os.environ["MAXIMUM_RECORD_AGE_SECONDS"]),
        int(os.environ.get("EVENT_TTL_DAYS", "30")),
    )


def parse_event(data: bytes) -> dict[str, Any]:
    """The event in one user record, or :class:`PoisonRecord` saying what is wrong."""
    try:
        event = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PoisonRecord(f"data is not UTF-8 JSON: {error}") from None
    if not isinstance(event, dict):
        raise PoisonRecord("data is not a JSON object")
    for name in REQUIRED_FIELDS:
        if not isinstance(event.get(name), str) or not event[name]:
            raise PoisonRecord(f"'{name}' is missing or not a non-empty string")
    if len(event["event_id"]) > MAX_EVENT_ID_LENGTH:
        raise PoisonRecord(f"'event_id' is longer than {MAX_EVENT_ID_LENGTH} characters")
    try:
        event_time = datetime.fromisoformat(event["event_time"])
    except ValueError:
        raise PoisonRecord("'event_time' is not an ISO 8601 time") from None
    if event_time.tzinfo is None:
        raise PoisonRecord("'event_time' has no UTC offset")
    for name in OPTIONAL_STRING_FIELDS:
        if name in event and not isinstance(event[name], str):
            raise PoisonRecord(f"'{name}' is not a string")
    amount = event.get("amount")
    if amount is not None:
        # JSON allows NaN, Infinity and integers beyond a double; DynamoDB stores none of them.
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise PoisonRecord("'amount' is not a number")
        try:
            finite = math.isfinite(float(amount))
        except OverflowError:
            finite = False
        if not finite:
            raise PoisonRecord("'amount' is not a finite number")
    return event


def _item(event: dict[str, Any], user_record: UserRecord, sequence_number: str, ttl_days: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "event_id": {"S": event["event_id"]},
        "event_type": {"S": event["event_type"]},
        "event_time": {"S": event["event_time"]},
        "partition_key": {"S": user_record.partition_key},
        "sequence_number": {"S": sequence_number},
        "sub_sequence_number": {"N": str(user_record.sub_sequence_number)},
        "expires_at": {"N": str(int(time.time()) + ttl_days * 86_400)},
    }
    for name in OPTIONAL_STRING_FIELDS:
        if event.get(name):
            item[name] = {"S": event[name]}
    if event.get("amount") is not None:
        item["amount"] = {"N": repr(float(event["amount"]))}
    return item


def _apply(item: dict[str, Any], table: str) -> bool:
    """Write the event unless it is there already; False for a duplicate."""
    try:
        _dynamodb().put_item(
            TableName=table,
            Item=item,
            ConditionExpression="attribute_not_exists(event_id)",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _park_over_age(record: KinesisStreamRecord, queue_url: str, max_age: int, age: float) -> None:
    kinesis = record.kinesis
    _sqs().send_message(
        QueueUrl=queue_url,
        MessageBody=json.dumps(
            {
                "condition": "RecordAgeExceeded",
                "detectedBy": "consumer",
                "eventSourceARN": record.event_source_arn,
                "shardId": record.event_id.split(":", 1)[0],
                "sequenceNumber": kinesis.sequence_number,
                "partitionKey": kinesis.partition_key,
                "approximateArrivalTimestamp": kinesis.approximate_arrival_timestamp,
                "ageSeconds": round(age, 3),
                "maximumRecordAgeSeconds": max_age,
                "data": kinesis.data,
            },
            sort_keys=True,
        ),
    )


def record_handler(record: KinesisStreamRecord) -> None:
    table, queue_url, max_age, ttl_days = _settings()
    kinesis = record.kinesis
    age = time.time() - kinesis.approximate_arrival_timestamp
    if age > max_age:
        logger.warning("record over the maximum age parked", sequence_number=kinesis.sequence_number, age=age)
        _park_over_age(record, queue_url, max_age, age)
        return
    try:
        data = base64.b64decode(kinesis.data, validate=True)
        user_records = deaggregate(data, kinesis.partition_key)
        events = [(user_record, parse_event(user_record.data)) for user_record in user_records]
    except (PoisonRecord, MalformedAggregate, ValueError) as error:
        logger.error("poison record", sequence_number=kinesis.sequence_number, reason=str(error))
        raise PoisonRecord(str(error)) from None
    applied = 0
    for user_record, event in events:
        applied += _apply(_item(event, user_record, kinesis.sequence_number, ttl_days), table)
    if applied < len(events):
        logger.info("duplicates ignored", sequence_number=kinesis.sequence_number, duplicates=len(events) - applied)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
