"""What the object index's constructs and its handlers agree on.

The table layout below is the one the handlers in ``lambdas/object_index`` expect; the
constructs keep their own copy (the handler folder is Lambda code, not a library of the app)
and a test fails when the two drift apart.
"""

from __future__ import annotations

from pathlib import Path

#: The handler folder, packaged whole as each function's asset.
HANDLER_CODE = str(Path(__file__).resolve().parents[2] / "lambdas" / "object_index")


# --- Table layout (see lambdas/object_index/object_index_keys.py) -----------------------

PARTITION_KEY = "PK"
SORT_KEY = "SK"
TTL_ATTRIBUTE = "expires_at"  # tombstones expire 30 days after the delete
# Index name -> (partition key, sort key); every index projects ALL attributes.
GLOBAL_SECONDARY_INDEXES: dict[str, tuple[str, str]] = {
    "by-upload-time": ("PK", "UPLOAD_SK"),
    "by-content-type": ("CT_PK", "UPLOAD_SK"),
    "by-classification": ("CLS_PK", "UPLOAD_SK"),
    "by-day": ("DAY_PK", "DAY_SK"),
}

# --- Event path --------------------------------------------------------------------------

OBJECT_PREFIX = "customers/"  # objects outside it are neither indexed nor readable by the indexer
# ObjectCreated and ObjectRemoved cover uploads and deletes by callers. A lifecycle
# expiration of a current version creates a delete marker and sends only
# LifecycleExpiration:DeleteMarkerCreated. LifecycleExpiration:Delete is left out: in this
# versioned bucket it reports noncurrent versions being removed, which changes nothing the
# index holds (the indexer would only re-read the current object for each).
S3_EVENTS = ("s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:LifecycleExpiration:DeleteMarkerCreated")

INDEXER_TIMEOUT_SECONDS = 30  # a batch of 10 messages takes about a second; the rest is retry room
INDEXER_BATCH_SIZE = 10
INDEXER_MAX_BATCHING_WINDOW_SECONDS = 5  # at low traffic an event waits at most this long
# Lambda's guidance for an SQS event source is a visibility timeout of at least six times the
# function timeout (room to retry throttled batches); the batching window comes on top, because
# a message is already in flight while its batch is gathered.
QUEUE_VISIBILITY_TIMEOUT_SECONDS = 6 * INDEXER_TIMEOUT_SECONDS + INDEXER_MAX_BATCHING_WINDOW_SECONDS
MAX_RECEIVE_COUNT = 5  # then the message moves to the dead-letter queue
# The event queue keeps a message for object_index.event_retention_days (config). SQS keeps a
# message at most 14 days from its first enqueue, in the dead-letter queue too; the handlers'
# tombstones (30 days) must outlive that, which a test checks.
DEAD_LETTER_RETENTION_DAYS = 14
# The backlog alarms fire while an event still has half the queue's retention left, and
# when the backlog needs more than a quarter of it to drain at the indexer's sustained rate.
EXPIRY_WARNING_FRACTION = 0.5
DRAIN_TIME_FRACTION = 0.25

# --- Indexer metrics (embedded metric format; see lambdas/object_index/indexer.py) ---------

METRICS_NAMESPACE = "ObjectIndex"
METRICS_SERVICE = "object-index-indexer"  # the service dimension of every indexer metric
UNINDEXABLE_KEY_METRIC = "UnindexableKeys"  # events for keys under customers/ outside the layout
FOREIGN_BUCKET_METRIC = "ForeignBucketRecords"  # messages naming another bucket: never applied

# --- Query API and reconcile ---------------------------------------------------------------

QUERY_TIMEOUT_SECONDS = 10  # well inside API Gateway's 29-second integration timeout
STAGE_NAME = "v1"
RECONCILE_TIMEOUT_MINUTES = 15  # Lambda's longest; a walk that needs more hands back where to go on
