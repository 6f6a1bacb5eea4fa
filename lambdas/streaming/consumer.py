"""Stream consumer: applies events from the Kinesis stream to the events table, once each.

Event path: producers -> ingestion API (PutRecords) -> Kinesis data stream -> this function
(event source mapping, enhanced fan-out or shared throughput, ``ReportBatchItemFailures``).
A batch holds records of one shard, in sequence order. Each Kinesis record is one JSON event
or a KPL aggregate of several user records (de-aggregated here).

Per Kinesis record:

* Older than ``MAXIMUM_RECORD_AGE_SECONDS`` (the event source's own maximum age, which a
  retried batch can cross while it is being processed): not applied; the record, with its
  data, is parked in the on-failure queue beside the batches Lambda itself gives up on.
* Not a record at all (data not base64, a KPL aggregate whose checksum matches but whose
  contents are corrupt): the whole record is poison and is parked with its data.
* Per user record (one for a plain record), an event or poison. Poison (not UTF-8 JSON,
  not an object, a required field missing or too long, ``event_time`` not the UTC time the
  API accepts, ``amount`` not a number DynamoDB stores, ``attributes`` not a map of
  strings) is parked with its data and the reason, and only it: every valid user record
  of the same aggregate is still applied. A poison record is never retried (no retry can
  make it valid) and never holds up its shard.
* An event: written to the events table keyed by ``event_id`` only if no item has that key
  yet (a conditional put). A duplicate, from a producer retry or a retried batch, finds the
  item and changes nothing, so the first event of an id in stream order is the one kept.
  An item DynamoDB refuses (``ValidationException``) is poison too.
* A write or a park that fails for another reason (throttling beyond the SDK's retries, a
  timeout) fails the record, and every later record of the batch is failed without being
  tried, so Lambda retries the shard from that record and the stream order (which event of
  an id is kept) does not depend on whether an error happened. After the configured
  retries Lambda sends the shard and sequence range to the on-failure queue.

A parked message is JSON with the record's metadata and ``data`` (base64); data too large
for one SQS message (256 KiB, the queue's default) is split over several messages that share
``parkId`` and carry ``part`` and ``parts``.

Environment: ``EVENTS_TABLE_NAME``, ``ON_FAILURE_QUEUE_URL``, ``MAXIMUM_RECORD_AGE_SECONDS``,
``EVENT_TTL_DAYS``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import os
import re
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

# The event contract (org_config/streaming_schema.py in the app; Lambda code is not a
# library of the app, so a test keeps this copy in step with it).
REQUIRED_FIELDS = ("event_id", "event_type", "event_time")
OPTIONAL_STRING_FIELDS = ("source", "customer_id")
MAX_STRING_LENGTH = 256  # every string field; keeps an item far below DynamoDB's 400 KB
EARLIEST_YEAR = 2000  # the Glue table's partition projection starts on 2000-01-01
LATEST_YEAR = 2099  # the API's time pattern admits 20xx
# UTC only (so the date partition is the UTC date), whole seconds or milliseconds (what the
# delivery stream's timestamp formats read); a real date and time is checked after the match.
EVENT_TIME = re.compile(r"\A(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{3})?(Z|\+00:00)\Z")
# DynamoDB numbers: magnitude below 1E+126 and, unless zero, at least 1E-130 (the DynamoDB
# developer guide, "Supported data types and naming rules", Number).
AMOUNT_BELOW = 1e126
AMOUNT_SMALLEST = 1e-130
PARK_CHUNK_CHARACTERS = 200_000  # base64 per message; leaves room for the metadata in 256 KiB

logger = Logger()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)


class PoisonRecord(ValueError):
    """A record that no retry can apply."""


class ShardHeldBack(RuntimeError):
    """An earlier record of the batch failed; this one waits for the retry from there."""


class _Batch:
    """Per invocation: whether a record of the batch has failed (then the rest wait)."""

    failed = False


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


def _check_time(value: str) -> None:
    match = EVENT_TIME.match(value)
    if match is None:
        raise PoisonRecord("'event_time' is not a UTC time like 2026-11-27T10:00:00.123Z")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise PoisonRecord(f"'event_time' is not between {EARLIEST_YEAR} and {LATEST_YEAR}")
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError as error:
        raise PoisonRecord(f"'event_time' is not a real time: {error}") from None


def _check_amount(amount: Any) -> None:
    # JSON allows NaN, Infinity and integers beyond a double; DynamoDB stores none of them.
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise PoisonRecord("'amount' is not a number")
    try:
        value = abs(float(amount))
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise PoisonRecord("'amount' is not a finite number")
    if value >= AMOUNT_BELOW or 0 < value < AMOUNT_SMALLEST:
        raise PoisonRecord("'amount' is outside the range DynamoDB stores (1E-130 to 1E+126 in magnitude)")


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
    for name in OPTIONAL_STRING_FIELDS:
        if name in event and not isinstance(event[name], str):
            raise PoisonRecord(f"'{name}' is not a string")
    for name in (*REQUIRED_FIELDS, *OPTIONAL_STRING_FIELDS):
        if len(event.get(name) or "") > MAX_STRING_LENGTH:
            raise PoisonRecord(f"'{name}' is longer than {MAX_STRING_LENGTH} characters")
    _check_time(event["event_time"])
    if event.get("amount") is not None:
        _check_amount(event["amount"])
    attributes = event.get("attributes")
    if attributes is not None and (
        not isinstance(attributes, dict) or not all(isinstance(v, str) for v in attributes.values())
    ):
        raise PoisonRecord("'attributes' is not an object of strings")
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
        code = error.response["Error"]["Code"]
        if code == "ConditionalCheckFailedException":
            return False
        if code == "ValidationException":  # DynamoDB refuses the item itself: no retry helps
            raise PoisonRecord(f"DynamoDB refused the item: {error.response['Error'].get('Message', code)}") from None
        raise
    return True


def park(record: KinesisStreamRecord, queue_url: str, details: dict[str, Any], data: str) -> None:
    """Send ``data`` (base64) and the record's metadata to the on-failure queue, in as many
    messages as the data needs."""
    kinesis = record.kinesis
    envelope = {
        "detectedBy": "consumer",
        "eventSourceARN": record.event_source_arn,
        "shardId": record.event_id.split(":", 1)[0],
        "sequenceNumber": kinesis.sequence_number,
        "partitionKey": kinesis.partition_key,
        "approximateArrivalTimestamp": kinesis.approximate_arrival_timestamp,
        **details,
    }
    parts = [data[i : i + PARK_CHUNK_CHARACTERS] for i in range(0, len(data), PARK_CHUNK_CHARACTERS)] or [""]
    park_id = hashlib.sha256(f"{record.event_id}:{details.get('subSequenceNumber', '')}".encode()).hexdigest()[:32]
    for index, part in enumerate(parts):
        message = {**envelope, "data": part}
        if len(parts) > 1:
            message.update(parkId=park_id, part=index + 1, parts=len(parts))
        _sqs().send_message(QueueUrl=queue_url, MessageBody=json.dumps(message, sort_keys=True))


def _handle(record: KinesisStreamRecord) -> None:
    table, queue_url, max_age, ttl_days = _settings()
    kinesis = record.kinesis
    age = time.time() - kinesis.approximate_arrival_timestamp
    if age > max_age:
        logger.warning("record over the maximum age parked", sequence_number=kinesis.sequence_number, age=age)
        details = {"condition": "RecordAgeExceeded", "ageSeconds": round(age, 3), "maximumRecordAgeSeconds": max_age}
        park(record, queue_url, details, kinesis.data)
        return
    try:
        user_records = deaggregate(base64.b64decode(kinesis.data, validate=True), kinesis.partition_key)
    except (MalformedAggregate, ValueError) as error:
        logger.error("poison record parked", sequence_number=kinesis.sequence_number, reason=str(error))
        park(record, queue_url, {"condition": "PoisonRecord", "reason": str(error)[:1000]}, kinesis.data)
        return
    applied = duplicates = 0
    for user_record in user_records:
        try:
            if _apply(_item(parse_event(user_record.data), user_record, kinesis.sequence_number, ttl_days), table):
                applied += 1
            else:
                duplicates += 1
        except PoisonRecord as error:
            logger.error(
                "poison user record parked",
                sequence_number=kinesis.sequence_number,
                sub_sequence_number=user_record.sub_sequence_number,
                reason=str(error),
            )
            details = {
                "condition": "PoisonRecord",
                "reason": str(error)[:1000],
                "subSequenceNumber": user_record.sub_sequence_number,
                "userPartitionKey": user_record.partition_key,
            }
            park(record, queue_url, details, base64.b64encode(user_record.data).decode("ascii"))
    if duplicates:
        logger.info("duplicates ignored", sequence_number=kinesis.sequence_number, duplicates=duplicates)


def record_handler(record: KinesisStreamRecord) -> None:
    if _Batch.failed:
        raise ShardHeldBack("an earlier record of this batch failed; retried from there")
    try:
        _handle(record)
    except Exception:
        _Batch.failed = True
        raise


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _Batch.failed = False
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
