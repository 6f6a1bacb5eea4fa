"""What S3 holds for a key now (``HeadObject``): the metadata the index keeps, and the key's
current object after a version-level removal.

Event notifications carry no content type or user metadata, so for a created object the
indexer asks S3 whether the event's version is still the current one:

* same object version (VersionId when the bucket is versioned, otherwise ETag) -> content
  type and ``x-amz-meta-classification`` are indexed;
* a different version -> the object was overwritten since; the item is written without
  content type and classification, and the newer event, which will supersede this one,
  brings them;
* not found -> the object was deleted since; the event is skipped because a newer delete
  event exists and will write the tombstone.

An object re-read after a version-level removal takes size, ETag and upload time (its
``LastModified``) from ``HeadObject``, whatever the index held before, so the final item does
not depend on the order in which the key's events arrive.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

# The Lambda runtime loads these modules from the asset root, where they are
# top-level modules; static analysis sees the asset folder as a package.
if TYPE_CHECKING:
    from . import index_clients as clients
    from . import object_index_keys as keys
    from .s3_event_records import ObjectChange
else:
    import index_clients as clients
    import object_index_keys as keys
    from s3_event_records import ObjectChange

_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


@dataclass(frozen=True)
class ObjectMetadata:
    content_type: str | None
    classification: str | None


def head_current(change: ObjectChange) -> dict[str, Any] | None:
    """``HeadObject`` of the key's current object; None when the key has none."""
    try:
        return dict(clients.s3().head_object(Bucket=change.bucket, Key=change.object_key.s3_key))
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


def read_metadata(change: ObjectChange) -> ObjectMetadata | None:
    """Content type and classification of the object version in ``change``.

    Returns None when the object no longer exists. Returns empty metadata when
    S3 now holds a different version of the key.
    """
    head = head_current(change)
    if head is None:
        return None
    if change.version_id is not None and head.get("VersionId") is not None:
        same_version = head["VersionId"] == change.version_id
    else:
        same_version = str(head.get("ETag", "")).strip('"') == change.etag
    if not same_version:
        return ObjectMetadata(content_type=None, classification=None)
    return _metadata_of(head)


def read_current_object(change: ObjectChange) -> tuple[ObjectChange, ObjectMetadata] | None:
    """After a version-level removal: the key's current object as a create at the removal's
    sequencer, or None when the key has no current object.

    The object's upload time is its ``LastModified`` (whole seconds). An event for the same
    key with a greater sequencer still supersedes what is written from here.
    """
    head = head_current(change)
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
