"""Reading S3 event notification messages into object changes (no AWS calls).

Each SQS message body is an S3 event notification with one or more ``Records``. Object keys
follow ``customers/{customer_id}/{path}`` (see ``object_index_keys``).

* The ``s3:TestEvent`` message S3 sends when notifications are configured reads as None.
* A message that names another bucket than ``OBJECT_BUCKET_NAME`` raises
  ``ForeignBucketError``: nothing of it is trusted, whatever its event types.
* A record whose key is under ``customers/`` but outside the layout
  (``customers/readme.txt``, ``customers/ACME Corp/x``) is skipped and its reason returned:
  the object is real but belongs to no customer; retrying could never index it.
* A message that cannot be read (body is not JSON, fields are missing or malformed, a key
  that is not URL-encoded UTF-8) raises ``RejectedRecordError``; nothing of it is applied.
* ``ObjectCreated:*`` reads as ``created``; ``ObjectRemoved:DeleteMarkerCreated`` (and its
  ``LifecycleExpiration`` equivalent) as ``removed``: the key has no current object any
  more; ``ObjectRemoved:Delete`` (and ``LifecycleExpiration:Delete``) as ``version-removed``:
  one object version, or a delete marker, or (in a bucket without versioning) the object was
  removed, and what the key holds now depends on which. Other event types are ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord

# The Lambda runtime loads these modules from the asset root, where they are
# top-level modules; static analysis sees the asset folder as a package.
if TYPE_CHECKING:
    from . import index_clients as clients
    from . import object_index_keys as keys
else:
    import index_clients as clients
    import object_index_keys as keys

_CREATED_PREFIX = "ObjectCreated:"
# The key has no current object after these.
_REMOVED_EVENTS = frozenset({"ObjectRemoved:DeleteMarkerCreated", "LifecycleExpiration:DeleteMarkerCreated"})
# These removed one version (or a delete marker); the key may still have a current object.
_VERSION_REMOVED_EVENTS = frozenset({"ObjectRemoved:Delete", "LifecycleExpiration:Delete"})
_TEST_EVENT = "s3:TestEvent"

ChangeKind = Literal["created", "removed", "version-removed"]


class RejectedRecordError(Exception):
    """The SQS message cannot be read; it belongs in the dead-letter queue."""


class ForeignBucketError(Exception):
    """The message names another bucket than the one this index follows."""


class UnindexableKeyError(Exception):
    """The record's key is outside ``customers/{customer_id}/{path}``."""


@dataclass(frozen=True)
class ObjectChange:
    """One create or delete event for an object, validated and normalised."""

    kind: ChangeKind
    bucket: str
    object_key: keys.ObjectKey
    sequencer: str
    event_time: str
    size: int
    etag: str
    version_id: str | None


@dataclass(frozen=True)
class ParsedMessage:
    changes: list[ObjectChange]
    unindexable_keys: list[str]  # reasons, one per skipped record


def _require_str(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise RejectedRecordError(f"{field} is missing or not a string")
    return value


def _kind(event_name: str) -> ChangeKind | None:
    if event_name.startswith(_CREATED_PREFIX):
        return "created"
    if event_name in _REMOVED_EVENTS:
        return "removed"
    if event_name in _VERSION_REMOVED_EVENTS:
        return "version-removed"
    return None


def parse_change(record: S3EventRecord) -> ObjectChange | None:
    """Validate one S3 event record; None for event types the index does not track."""
    try:
        event_name = _require_str(record.event_name, "eventName")
        if record.get("eventSource") != "aws:s3":
            raise RejectedRecordError("eventSource is not aws:s3")
        bucket = _require_str(record.s3.bucket.name, "s3.bucket.name")
        if bucket != clients.bucket_name():
            raise ForeignBucketError(bucket)  # whatever the event type: nothing of it is trusted
        kind = _kind(event_name)
        if kind is None:
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


def parse_message(body: str) -> ParsedMessage | None:
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
            change = parse_change(record)
        except UnindexableKeyError as error:
            unindexable.append(str(error))
            continue
        if change is not None:
            changes.append(change)
    return ParsedMessage(changes=changes, unindexable_keys=unindexable)
