"""Indexer: keeps the object index table in step with S3 event notifications.

Event path: S3 event notifications -> SQS queue -> this function (SQS event
source with ``ReportBatchItemFailures``). Each SQS message body is an S3 event
notification with one or more ``Records``. Object keys follow
``customers/{customer_id}/{path}`` (see ``object_index_keys``).

Per SQS message:

* The ``s3:TestEvent`` message S3 sends when notifications are configured is
  acknowledged and ignored.
* A message that names another bucket than ``OBJECT_BUCKET_NAME`` is not
  applied at all: it is logged at ERROR ("Ignored S3 event message for another
  bucket"), counted in the ``ForeignBucketRecords`` metric and acknowledged.
  Only S3, for this bucket, may send to the queue, so such a message means a
  misconfiguration or a forgery, which no retry can make right.
* A record whose key is under ``customers/`` but outside the layout
  (``customers/readme.txt``, ``customers/ACME Corp/x``) is skipped: logged at
  WARNING, counted in the ``UnindexableKeys`` metric, acknowledged. The object is
  real but belongs to no customer; retrying could never index it.
* A message that cannot be read (body is not JSON, fields are missing or
  malformed, a key that is not URL-encoded UTF-8) is logged as a rejected record
  and reported in ``batchItemFailures``; SQS retries it and then moves it to the
  dead-letter queue, to be redriven once the indexer can read it. Nothing of such
  a message is written. The rest of the batch is unaffected.
* ``ObjectCreated:*`` events write a live object item.
* ``ObjectRemoved:DeleteMarkerCreated`` (and its ``LifecycleExpiration``
  equivalent) writes a tombstone: the key has no current object any more.
* ``ObjectRemoved:Delete`` (and ``LifecycleExpiration:Delete``) removed one
  object version, or a delete marker, or (in a bucket without versioning) the
  object. What the key holds now depends on which: the function asks S3
  (``HeadObject``). No current object -> a tombstone; a current object (an
  older version became current again, a noncurrent version or a delete marker
  was removed) -> that object is indexed, at this event's sequencer.
* Other event types are ignored.

Ordering and idempotency: every object item stores the sequencer of the event
that wrote it. An event is applied only if its sequencer is greater than the
stored one, so duplicates and late, older events change nothing. Deletes
leave a tombstone with their sequencer so that an older create arriving
later cannot bring the object back. The object item and the customer's
totals item change in one ``TransactWriteItems`` call whose condition checks
that the stored sequencer is still the one read before (optimistic locking);
if another invocation got there first, the event is re-evaluated.

For created objects, size, ETag, sequencer and upload time come from the
event. An object re-read after a version-level removal takes size, ETag and
upload time (its ``LastModified``) from ``HeadObject`` and the removal's
sequencer, whatever the index held before, so the final item does not depend
on the order in which the key's events arrive. Event notifications carry no
content type or user metadata, so for created objects the function calls
``HeadObject``:

* same object version (VersionId when the bucket is versioned, otherwise ETag)
  -> content type and ``x-amz-meta-classification`` are indexed;
* a different version -> the object was overwritten since; the item is
  written without content type and classification, and the newer event,
  which will supersede this one, brings them;
* not found -> the object was deleted since; the event is skipped because a
  newer delete event exists and will write the tombstone.

Environment: ``INDEX_TABLE_NAME`` and ``OBJECT_BUCKET_NAME`` (required). Metrics go
to CloudWatch in the embedded metric format, namespace ``METRICS_NAMESPACE``.
"""

from __future__ import annotations

import functools
import json
import os
import random
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote_plus

import boto3  # type: ignore[import-untyped]
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

# The Lambda runtime loads these modules from the asset root, where they are
# top-level modules; static analysis sees the asset folder as a package.
if TYPE_CHECKING:
    from . import object_index_keys as keys
else:
    import object_index_keys as keys

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "object-index"))
METRICS_NAMESPACE = "ObjectIndex"
FOREIGN_BUCKET_METRIC = "ForeignBucketRecords"
UNINDEXABLE_KEY_METRIC = "UnindexableKeys"
# Dimensions: this service and the bucket (set per invocation, once the configuration is read).
metrics = Metrics(namespace=METRICS_NAMESPACE, service="object-index-indexer")

# A batch where every message failed still returns batchItemFailures instead of
# raising, so one poison message alone is handled like one in a larger batch.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

_CREATED_PREFIX = "ObjectCreated:"
# The key has no current object after these.
_REMOVED_EVENTS = frozenset({"ObjectRemoved:DeleteMarkerCreated", "LifecycleExpiration:DeleteMarkerCreated"})
# These removed one version (or a delete marker); the key may still have a current object.
_VERSION_REMOVED_EVENTS = frozenset({"ObjectRemoved:Delete", "LifecycleExpiration:Delete"})
_TEST_EVENT = "s3:TestEvent"
_MAX_WRITE_ATTEMPTS = 6
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


class RejectedRecordError(Exception):
    """The SQS message cannot be read; it belongs in the dead-letter queue."""


class ForeignBucketError(Exception):
    """The message names another bucket than the one this index follows."""


class UnindexableKeyError(Exception):
    """The record's key is outside ``customers/{customer_id}/{path}``."""


class ConcurrentUpdateError(Exception):
    """The object item kept changing under this invocation; SQS will retry the message."""


@dataclass(frozen=True)
class ObjectChange:
    """One create or delete event for an object, validated and normalised."""

    kind: Literal["created", "removed", "version-removed"]
    bucket: str
    object_key: keys.ObjectKey
    sequencer: str
    event_time: str
    size: int
    etag: str
    version_id: str | None


@dataclass(frozen=True)
class ObjectMetadata:
    content_type: str | None
    classification: str | None


@dataclass(frozen=True)
class StoredState:
    sequencer: str
    live: bool
    size: int
    # Of a live object: which object it is, and since when.
    version_id: str | None = None
    etag: str | None = None
    uploaded_at: str | None = None


@functools.cache
def _table_name() -> str:
    name = os.environ.get("INDEX_TABLE_NAME", "").strip()
    if not name:
        raise RuntimeError("INDEX_TABLE_NAME environment variable is not set")
    return name


@functools.cache
def _bucket_name() -> str:
    name = os.environ.get("OBJECT_BUCKET_NAME", "").strip()
    if not name:
        raise RuntimeError("OBJECT_BUCKET_NAME environment variable is not set")
    return name


_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=10)


@functools.cache
def _dynamodb() -> Any:
    return boto3.client("dynamodb", config=_BOTO_CONFIG)


@functools.cache
def _s3() -> Any:
    return boto3.client("s3", config=_BOTO_CONFIG)


# --- Parsing ----------------------------------------------------------------------


def _require_str(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise RejectedRecordError(f"{field} is missing or not a string")
    return value


def _parse_change(record: S3EventRecord) -> ObjectChange | None:
    """Validate one S3 event record; None for event types the index does not track."""
    try:
        event_name = _require_str(record.event_name, "eventName")
        if record.get("eventSource") != "aws:s3":
            raise RejectedRecordError("eventSource is not aws:s3")
        bucket = _require_str(record.s3.bucket.name, "s3.bucket.name")
        if bucket != _bucket_name():
            raise ForeignBucketError(bucket)  # whatever the event type: nothing of it is trusted
        if event_name.startswith(_CREATED_PREFIX):
            kind: Literal["created", "removed", "version-removed"] = "created"
        elif event_name in _REMOVED_EVENTS:
            kind = "removed"
        elif event_name in _VERSION_REMOVED_EVENTS:
            kind = "version-removed"
        else:
            return None
        s3_object = record.s3.get_object
        raw_key = _require_str(s3_object.key, "s3.object.key")
        try:
            decoded_key = unquote_plus(raw_key, errors="strict")
        except UnicodeDecodeError as error:
            raise RejectedRecordError("s3.object.key is not URL-encoded UTF-8") from error
        try:
            object_key = keys.parse_object_key(decoded_key)
        except keys.InvalidObjectKeyError as error:
            raise UnindexableKeyError(f"{decoded_key!r}: {error}") from error
        sequencer = keys.normalize_sequencer(s3_object.sequencer)
        event_time = keys.normalize_event_time(record.event_time)
        size = 0
        etag = ""
        if kind == "created":
            raw_size = s3_object.get("size")
            if isinstance(raw_size, bool) or not isinstance(raw_size, int) or raw_size < 0:
                raise RejectedRecordError("s3.object.size is missing or not a non-negative integer")
            size = raw_size
            etag = _require_str(s3_object.get("eTag"), "s3.object.eTag").strip('"')
        version_id = s3_object.get("versionId")
        return ObjectChange(
            kind=kind,
            bucket=bucket,
            object_key=object_key,
            sequencer=sequencer,
            event_time=event_time,
            size=size,
            etag=etag,
            version_id=version_id if isinstance(version_id, str) and version_id else None,
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise RejectedRecordError(f"S3 event record is missing a field: {error}") from error
    except (keys.InvalidSequencerError, keys.InvalidEventTimeError) as error:
        raise RejectedRecordError(str(error)) from error


@dataclass(frozen=True)
class ParsedMessage:
    changes: list[ObjectChange]
    unindexable_keys: list[str]  # reasons, one per skipped record


def _parse_message(body: str) -> ParsedMessage | None:
    """All changes of one SQS message; None for the S3 test event.

    Raises RejectedRecordError for a message that cannot be read, ForeignBucketError for
    one that names another bucket (then nothing of it is applied).
    """
    try:
        payload = json.loads(body)
    except (TypeError, ValueError) as error:
        raise RejectedRecordError("message body is not valid JSON") from error
    if not isinstance(payload, dict):
        raise RejectedRecordError("message body is not a JSON object")
    if payload.get("Event") == _TEST_EVENT:
        return None
    records = payload.get("Records")
    if not isinstance(records, list) or not records:
        raise RejectedRecordError("message body has no S3 event Records")
    if not all(isinstance(item, dict) for item in records):
        raise RejectedRecordError("S3 event Records must be JSON objects")
    changes: list[ObjectChange] = []
    unindexable: list[str] = []
    for record in S3Event(payload).records:
        try:
            change = _parse_change(record)
        except UnindexableKeyError as error:
            unindexable.append(str(error))
            continue
        if change is not None:
            changes.append(change)
    return ParsedMessage(changes=changes, unindexable_keys=unindexable)


# --- S3 metadata -------------------------------------------------------------


def _head_current(change: ObjectChange) -> dict[str, Any] | None:
    """``HeadObject`` of the key's current object; None when the key has none."""
    try:
        return dict(_s3().head_object(Bucket=change.bucket, Key=change.object_key.s3_key))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _NOT_FOUND_CODES:
            return None
        raise


def _metadata_of(head: dict[str, Any]) -> ObjectMetadata:
    metadata = head.get("Metadata") or {}
    return ObjectMetadata(
        content_type=head.get("ContentType") or None,
        classification=metadata.get(keys.CLASSIFICATION_METADATA_KEY) or None,
    )


def _read_metadata(change: ObjectChange) -> ObjectMetadata | None:
    """Content type and classification of the object version in ``change``.

    Returns None when the object no longer exists. Returns empty metadata when
    S3 now holds a different version of the key.
    """
    head = _head_current(change)
    if head is None:
        return None
    if change.version_id is not None and head.get("VersionId") is not None:
        same_version = head["VersionId"] == change.version_id
    else:
        same_version = str(head.get("ETag", "")).strip('"') == change.etag
    if not same_version:
        return ObjectMetadata(content_type=None, classification=None)
    return _metadata_of(head)


def _read_current_object(change: ObjectChange) -> tuple[ObjectChange, ObjectMetadata] | None:
    """After a version-level removal: the key's current object as a create at the removal's
    sequencer, or None when the key has no current object.

    The object's upload time is its ``LastModified`` (whole seconds). An event for the same
    key with a greater sequencer still supersedes what is written from here.
    """
    head = _head_current(change)
    if head is None:
        return None
    version_id = head.get("VersionId")
    current = replace(
        change,
        kind="created",
        size=int(head["ContentLength"]),
        etag=str(head["ETag"]).strip('"'),
        event_time=keys.normalize_event_time(head["LastModified"].isoformat()),
        version_id=version_id if isinstance(version_id, str) and version_id != "null" else None,
    )
    return current, _metadata_of(head)


# --- Writes ------------------------------------------------------------------------


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _item_key(object_key: keys.ObjectKey) -> dict[str, dict[str, str]]:
    return {
        keys.PARTITION_KEY: _s(keys.customer_pk(object_key.customer_id)),
        keys.SORT_KEY: _s(keys.object_sk(object_key.path)),
    }


def _read_state(object_key: keys.ObjectKey) -> StoredState | None:
    response = _dynamodb().get_item(
        TableName=_table_name(),
        Key=_item_key(object_key),
        ConsistentRead=True,
        ProjectionExpression="#seq, #type, #size, version_id, etag, uploaded_at",
        ExpressionAttributeNames={"#seq": "sequencer", "#type": "item_type", "#size": "size"},
    )
    item = response.get("Item")
    if item is None:
        return None
    live = item.get("item_type", {}).get("S") == keys.ITEM_TYPE_OBJECT
    return StoredState(
        sequencer=item["sequencer"]["S"],
        live=live,
        size=int(item["size"]["N"]) if live and "size" in item else 0,
        version_id=item.get("version_id", {}).get("S"),
        etag=item.get("etag", {}).get("S"),
        uploaded_at=item.get("uploaded_at", {}).get("S"),
    )


def _object_item(change: ObjectChange, metadata: ObjectMetadata) -> dict[str, dict[str, str]]:
    object_key = change.object_key
    item = _item_key(object_key)
    item.update(
        {
            "item_type": _s(keys.ITEM_TYPE_OBJECT),
            "customer_id": _s(object_key.customer_id),
            "key": _s(object_key.s3_key),
            "size": _n(change.size),
            "etag": _s(change.etag),
            "uploaded_at": _s(change.event_time),
            "sequencer": _s(change.sequencer),
            keys.UPLOAD_SK: _s(keys.upload_sort_key(change.event_time, object_key.path)),
            keys.DAY_PK: _s(
                keys.day_pk(change.event_time[:10], keys.day_shard(object_key.customer_id, object_key.path))
            ),
            keys.DAY_SK: _s(keys.day_sort_key(change.event_time, object_key.customer_id, object_key.path)),
        }
    )
    if change.version_id is not None:
        item["version_id"] = _s(change.version_id)
    if metadata.content_type is not None:
        item["content_type"] = _s(metadata.content_type)
        media_type = keys.normalize_media_type(metadata.content_type)
        if media_type is not None:
            item[keys.CT_PK] = _s(keys.content_type_pk(object_key.customer_id, media_type))
    if metadata.classification is not None:
        item["classification"] = _s(metadata.classification)
        classification = keys.normalize_classification(metadata.classification)
        if classification is not None:
            item[keys.CLS_PK] = _s(keys.classification_pk(object_key.customer_id, classification))
    return item


def _tombstone_item(change: ObjectChange) -> dict[str, dict[str, str]]:
    object_key = change.object_key
    item = _item_key(object_key)
    item.update(
        {
            "item_type": _s(keys.ITEM_TYPE_TOMBSTONE),
            "customer_id": _s(object_key.customer_id),
            "key": _s(object_key.s3_key),
            "deleted_at": _s(change.event_time),
            "sequencer": _s(change.sequencer),
            keys.TTL_ATTRIBUTE: _n(keys.epoch_seconds(change.event_time) + keys.TOMBSTONE_RETENTION_SECONDS),
        }
    )
    return item


def _write(
    item: dict[str, dict[str, str]],
    previous: StoredState | None,
    new_sequencer: str | None,
    delta_bytes: int,
    delta_count: int,
) -> bool:
    """Write the item (and the totals change) if the stored state is still ``previous``
    and ``new_sequencer`` is newer than the stored one (None: a repair that keeps the stored
    sequencer, conditioned on it alone).

    Returns False when the condition failed because the item changed since it was read.
    """
    values: dict[str, dict[str, str]] = {}
    if previous is None:
        condition = "attribute_not_exists(#pk)"
        names = {"#pk": keys.PARTITION_KEY}
    elif new_sequencer is None:
        condition = "#seq = :expected_seq"
        names = {"#seq": "sequencer"}
        values = {":expected_seq": _s(previous.sequencer)}
    else:
        condition = "#seq = :expected_seq AND #seq < :new_seq"
        names = {"#seq": "sequencer"}
        values = {":expected_seq": _s(previous.sequencer), ":new_seq": _s(new_sequencer)}
    put: dict[str, Any] = {
        "TableName": _table_name(),
        "Item": item,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
    }
    if values:
        put["ExpressionAttributeValues"] = values
    client = _dynamodb()
    if delta_bytes == 0 and delta_count == 0:
        try:
            client.put_item(**put)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
    customer_id = item["customer_id"]["S"]
    totals_update = {
        "TableName": _table_name(),
        "Key": {keys.PARTITION_KEY: _s(keys.customer_pk(customer_id)), keys.SORT_KEY: _s(keys.TOTALS_SK)},
        "UpdateExpression": "SET item_type = :type, customer_id = :cid ADD total_bytes :bytes, object_count :count",
        "ExpressionAttributeValues": {
            ":type": _s(keys.ITEM_TYPE_TOTALS),
            ":cid": _s(customer_id),
            ":bytes": _n(delta_bytes),
            ":count": _n(delta_count),
        },
    }
    try:
        client.transact_write_items(TransactItems=[{"Put": put}, {"Update": totals_update}])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            return False
        if "TransactionConflict" in reasons:
            # Another transaction touched the same totals item; back off (jitter, not security) and re-read.
            time.sleep(random.uniform(0.01, 0.05))  # noqa: S311
            return False
        raise
    return True


def _desired_state(change: ObjectChange) -> tuple[ObjectChange, ObjectMetadata | None] | None:
    """What this event leaves for its key: an object (the change to index and its metadata)
    or a tombstone (the removal, with no metadata).

    None when the event is to be skipped: a created object that S3 no longer holds, whose
    delete event (newer, so it supersedes this one anyway) writes the tombstone.
    """
    if change.kind == "created":
        metadata = _read_metadata(change)
        return None if metadata is None else (change, metadata)
    if change.kind == "version-removed":
        current = _read_current_object(change)
        if current is not None:
            return current
    return change, None


def apply_change(change: ObjectChange) -> str:
    """Apply one change to the index. Returns what happened, for logging."""
    desired: tuple[ObjectChange, ObjectMetadata | None] | None = None
    for _attempt in range(_MAX_WRITE_ATTEMPTS):
        previous = _read_state(change.object_key)
        if previous is not None and previous.sequencer >= change.sequencer:
            return "duplicate" if previous.sequencer == change.sequencer else "superseded"
        if desired is None:  # S3 is asked once, and only for an event that is new
            desired = _desired_state(change)
            if desired is None:
                return "object-gone"
        target, metadata = desired
        was_live = previous is not None and previous.live
        old_size = previous.size if previous is not None and previous.live else 0
        if metadata is None:
            item = _tombstone_item(target)
            delta_bytes, delta_count = -old_size, -1 if was_live else 0
        else:
            # A re-read object keeps S3's LastModified even if the index held it with its
            # event time: what the index held depends on delivery order, S3's answer does not.
            item = _object_item(target, metadata)
            delta_bytes, delta_count = target.size - old_size, 0 if was_live else 1
        if _write(item, previous, change.sequencer, delta_bytes, delta_count):
            return "applied"
    raise ConcurrentUpdateError(f"object item kept changing while applying {change.object_key.s3_key!r}")


# --- Repair from S3 (used by the reconcile function) ---------------------------------

#: The sequencer a repair writes for a key the index has never seen: below every real one.
_NO_SEQUENCER = "0" * keys.SEQUENCER_WIDTH


def _now() -> str:
    return keys.normalize_event_time(datetime.now(UTC).isoformat())


def reconcile_key(object_key: keys.ObjectKey) -> str:
    """Make the key's item say what S3 holds now, for events that were lost.

    The item keeps its stored sequencer (a key never indexed gets the lowest there is), so
    every real event still in flight for the key stays newer and is applied over the repair;
    the write is conditioned on that sequencer, so an event applied meanwhile wins. Returns
    ``in-step``, ``repaired``, or ``changed`` (an event got there first).
    """
    previous = _read_state(object_key)
    probe = ObjectChange(
        kind="version-removed",
        bucket=_bucket_name(),
        object_key=object_key,
        sequencer=previous.sequencer if previous is not None else _NO_SEQUENCER,
        event_time=_now(),
        size=0,
        etag="",
        version_id=None,
    )
    current = _read_current_object(probe)
    if current is None:
        if previous is None or not previous.live:
            return "in-step"
        item = _tombstone_item(probe)
        delta_bytes, delta_count = -previous.size, -1
    else:
        target, metadata = current
        if (
            previous is not None
            and previous.live
            and previous.etag == target.etag
            and previous.size == target.size
            and previous.version_id == target.version_id
        ):
            return "in-step"
        item = _object_item(target, metadata)
        was_live = previous is not None and previous.live
        delta_bytes = target.size - (previous.size if previous is not None and was_live else 0)
        delta_count = 0 if was_live else 1
    return "repaired" if _write(item, previous, None, delta_bytes, delta_count) else "changed"


# --- Handler -----------------------------------------------------------------------


def record_handler(record: SQSRecord) -> None:
    try:
        parsed = _parse_message(record.body)
    except RejectedRecordError as error:
        logger.error(
            "Rejected S3 event message; it will be retried and then moved to the dead-letter queue",
            extra={"message_id": record.message_id, "reason": str(error)},
        )
        raise
    except ForeignBucketError as error:
        logger.error(
            "Ignored S3 event message for another bucket; nothing of it was applied",
            extra={"message_id": record.message_id, "bucket": str(error), "expected_bucket": _bucket_name()},
        )
        metrics.add_metric(name=FOREIGN_BUCKET_METRIC, unit=MetricUnit.Count, value=1)
        return
    if parsed is None:
        logger.info("Ignored s3:TestEvent message", extra={"message_id": record.message_id})
        return
    for reason in parsed.unindexable_keys:
        logger.warning(
            "Skipped S3 event for a key outside the customers/{customer_id}/{path} layout",
            extra={"message_id": record.message_id, "reason": reason},
        )
        metrics.add_metric(name=UNINDEXABLE_KEY_METRIC, unit=MetricUnit.Count, value=1)
    for change in parsed.changes:
        try:
            outcome = apply_change(change)
        except Exception:
            logger.exception(
                "Failed to index S3 event; the message will be retried",
                extra={"message_id": record.message_id, "object_key": change.object_key.s3_key},
            )
            raise
        logger.info(
            "Processed S3 event",
            extra={
                "message_id": record.message_id,
                "event": change.kind,
                "object_key": change.object_key.s3_key,
                "sequencer": change.sequencer.rstrip("0") or "0",
                "outcome": outcome,
            },
        )


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _table_name()  # fail fast on a missing configuration
    metrics.set_default_dimensions(bucket=_bucket_name())
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
