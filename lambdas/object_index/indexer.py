"""Indexer: keeps the object index table in step with S3 event notifications.

Event path: S3 event notifications -> SQS queue -> this function (SQS event
source with ``ReportBatchItemFailures``). The handler reads each SQS message
(``s3_event_records``), asks S3 what an event left where the event alone does not
say (``s3_current_object``) and writes the key's item and the customer's totals
(``index_writes``). Per SQS message:

* The ``s3:TestEvent`` message S3 sends when notifications are configured is
  acknowledged and ignored.
* A message that names another bucket than ``OBJECT_BUCKET_NAME`` is not
  applied at all: it is logged at ERROR ("Ignored S3 event message for another
  bucket"), counted in the ``ForeignBucketRecords`` metric and acknowledged.
  Only S3, for this bucket, may send to the queue, so such a message means a
  misconfiguration or a forgery, which no retry can make right.
* A record whose key is under ``customers/`` but outside the layout is skipped:
  logged at WARNING, counted in the ``UnindexableKeys`` metric, acknowledged.
* A message that cannot be read is logged as a rejected record and reported in
  ``batchItemFailures``; SQS retries it and then moves it to the dead-letter
  queue, to be redriven once the indexer can read it. Nothing of such a message
  is written. The rest of the batch is unaffected.
* ``ObjectCreated:*`` events write a live object item.
* ``ObjectRemoved:DeleteMarkerCreated`` (and its ``LifecycleExpiration``
  equivalent) writes a tombstone: the key has no current object any more.
* ``ObjectRemoved:Delete`` (and ``LifecycleExpiration:Delete``): the function asks
  S3 (``HeadObject``). No current object -> a tombstone; a current object (an
  older version became current again, a noncurrent version or a delete marker
  was removed) -> that object is indexed, at this event's sequencer.
* Other event types are ignored.

An event is applied only if its sequencer is greater than the stored one, and
its write is conditioned on the item being unchanged since it was read; if
another invocation got there first, the event is re-evaluated (see
``index_writes``).

Environment: ``INDEX_TABLE_NAME`` and ``OBJECT_BUCKET_NAME`` (required). Metrics go
to CloudWatch in the embedded metric format, namespace ``METRICS_NAMESPACE``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

# The Lambda runtime loads these modules from the asset root, where they are
# top-level modules; static analysis sees the asset folder as a package.
if TYPE_CHECKING:
    from . import index_clients as clients
    from . import index_writes as writes
    from . import s3_current_object as current_object
    from . import s3_event_records as records
else:
    import index_clients as clients
    import index_writes as writes
    import s3_current_object as current_object
    import s3_event_records as records

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "object-index"))
METRICS_NAMESPACE = "ObjectIndex"
FOREIGN_BUCKET_METRIC = "ForeignBucketRecords"
UNINDEXABLE_KEY_METRIC = "UnindexableKeys"
# Dimensions: this service and the bucket (set per invocation, once the configuration is read).
metrics = Metrics(namespace=METRICS_NAMESPACE, service="object-index-indexer")

# A batch where every message failed still returns batchItemFailures instead of
# raising, so one poison message alone is handled like one in a larger batch.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

_MAX_WRITE_ATTEMPTS = 6


class ConcurrentUpdateError(Exception):
    """The object item kept changing under this invocation; SQS will retry the message."""


def _desired_state(
    change: records.ObjectChange,
) -> tuple[records.ObjectChange, current_object.ObjectMetadata | None] | None:
    """What this event leaves for its key: an object (the change to index and its metadata)
    or a tombstone (the removal, with no metadata).

    None when the event is to be skipped: a created object that S3 no longer holds, whose
    delete event (newer, so it supersedes this one anyway) writes the tombstone.
    """
    if change.kind == "created":
        metadata = current_object.read_metadata(change)
        return None if metadata is None else (change, metadata)
    if change.kind == "version-removed":
        current = current_object.read_current_object(change)
        if current is not None:
            return current
    return change, None


def apply_change(change: records.ObjectChange) -> str:
    """Apply one change to the index. Returns what happened, for logging."""
    desired: tuple[records.ObjectChange, current_object.ObjectMetadata | None] | None = None
    for _attempt in range(_MAX_WRITE_ATTEMPTS):
        previous = writes.read_state(change.object_key)
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
            item = writes.tombstone_item(target)
            delta_bytes, delta_count = -old_size, -1 if was_live else 0
        else:
            # A re-read object keeps S3's LastModified even if the index held it with its
            # event time: what the index held depends on delivery order, S3's answer does not.
            item = writes.object_item(target, metadata)
            delta_bytes, delta_count = target.size - old_size, 0 if was_live else 1
        if writes.write(item, previous, change.sequencer, delta_bytes, delta_count):
            return "applied"
    raise ConcurrentUpdateError(f"object item kept changing while applying {change.object_key.s3_key!r}")


# --- Handler -----------------------------------------------------------------------


def record_handler(record: SQSRecord) -> None:
    try:
        parsed = records.parse_message(record.body)
    except records.RejectedRecordError as error:
        logger.error(
            "Rejected S3 event message; it will be retried and then moved to the dead-letter queue",
            extra={"message_id": record.message_id, "reason": str(error)},
        )
        raise
    except records.ForeignBucketError as error:
        logger.error(
            "Ignored S3 event message for another bucket; nothing of it was applied",
            extra={"message_id": record.message_id, "bucket": str(error), "expected_bucket": clients.bucket_name()},
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
    clients.table_name()  # fail fast on a missing configuration
    metrics.set_default_dimensions(bucket=clients.bucket_name())
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
