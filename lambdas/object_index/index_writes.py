"""Reading and writing the index table's object items, with the customer's totals.

Ordering and idempotency: every object item stores the sequencer of the event that wrote
it. An event is applied only if its sequencer is greater than the stored one, so duplicates
and late, older events change nothing. Deletes leave a tombstone with their sequencer so
that an older create arriving later cannot bring the object back. The object item and the
customer's totals item change in one ``TransactWriteItems`` call whose condition checks that
the stored sequencer is still the one read before (optimistic locking); when another
invocation got there first, :func:`write` says so and the caller re-evaluates. A repair,
which keeps the stored sequencer, is conditioned on the whole state it read instead.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

# The Lambda runtime loads these modules from the asset root, where they are
# top-level modules; static analysis sees the asset folder as a package.
if TYPE_CHECKING:
    from . import index_clients as clients
    from . import object_index_keys as keys
    from .s3_current_object import ObjectMetadata
    from .s3_event_records import ObjectChange
else:
    import index_clients as clients
    import object_index_keys as keys
    from s3_current_object import ObjectMetadata
    from s3_event_records import ObjectChange

Item = dict[str, dict[str, str]]


@dataclass(frozen=True)
class StoredState:
    sequencer: str
    live: bool
    size: int
    # Of a live object: which object it is, and since when.
    version_id: str | None = None
    etag: str | None = None
    uploaded_at: str | None = None


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def item_key(object_key: keys.ObjectKey) -> Item:
    return {
        keys.PARTITION_KEY: s(keys.customer_pk(object_key.customer_id)),
        keys.SORT_KEY: s(keys.object_sk(object_key.path)),
    }


def read_state(object_key: keys.ObjectKey) -> StoredState | None:
    """The key's item as it is now (a consistent read); None when the index has never seen it."""
    response = clients.dynamodb().get_item(
        TableName=clients.table_name(),
        Key=item_key(object_key),
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


def object_item(change: ObjectChange, metadata: ObjectMetadata) -> Item:
    """The live object item for ``change``, with the index keys its metadata allows."""
    object_key = change.object_key
    item = item_key(object_key)
    item.update(
        {
            "item_type": s(keys.ITEM_TYPE_OBJECT),
            "customer_id": s(object_key.customer_id),
            "key": s(object_key.s3_key),
            "size": n(change.size),
            "etag": s(change.etag),
            "uploaded_at": s(change.event_time),
            "sequencer": s(change.sequencer),
            keys.UPLOAD_SK: s(keys.upload_sort_key(change.event_time, object_key.path)),
            keys.DAY_PK: s(
                keys.day_pk(change.event_time[:10], keys.day_shard(object_key.customer_id, object_key.path))
            ),
            keys.DAY_SK: s(keys.day_sort_key(change.event_time, object_key.customer_id, object_key.path)),
        }
    )
    if change.version_id is not None:
        item["version_id"] = s(change.version_id)
    if metadata.content_type is not None:
        item["content_type"] = s(metadata.content_type)
        media_type = keys.normalize_media_type(metadata.content_type)
        if media_type is not None:
            item[keys.CT_PK] = s(keys.content_type_pk(object_key.customer_id, media_type))
    if metadata.classification is not None:
        item["classification"] = s(metadata.classification)
        classification = keys.normalize_classification(metadata.classification)
        if classification is not None:
            item[keys.CLS_PK] = s(keys.classification_pk(object_key.customer_id, classification))
    return item


def tombstone_item(change: ObjectChange) -> Item:
    """The tombstone ``change`` leaves: the key has no current object since its sequencer."""
    object_key = change.object_key
    item = item_key(object_key)
    item.update(
        {
            "item_type": s(keys.ITEM_TYPE_TOMBSTONE),
            "customer_id": s(object_key.customer_id),
            "key": s(object_key.s3_key),
            "deleted_at": s(change.event_time),
            "sequencer": s(change.sequencer),
            keys.TTL_ATTRIBUTE: n(keys.epoch_seconds(change.event_time) + keys.TOMBSTONE_RETENTION_SECONDS),
        }
    )
    return item


def _unchanged_since_read(previous: StoredState) -> tuple[str, dict[str, str], dict[str, dict[str, str]]]:
    """A condition that holds only while the item is exactly what ``previous`` read.

    A repair keeps the stored sequencer, so the sequencer alone cannot tell that another
    repair of the same key (a second reconcile run for the customer) has written since: both
    would pass and move the totals twice. Every repair changes the item type, size, ETag or
    version id (an item already in step is not written), so conditioning on those as well
    lets exactly one of two overlapping repairs through.
    """
    names = {"#seq": "sequencer", "#type": "item_type"}
    values = {
        ":expected_seq": s(previous.sequencer),
        ":expected_type": s(keys.ITEM_TYPE_OBJECT if previous.live else keys.ITEM_TYPE_TOMBSTONE),
    }
    clauses = ["#seq = :expected_seq", "#type = :expected_type"]
    if previous.live:
        stored: dict[str, dict[str, str] | None] = {
            "size": n(previous.size),
            "etag": None if previous.etag is None else s(previous.etag),
            "version_id": None if previous.version_id is None else s(previous.version_id),
        }
        for position, (attribute, value) in enumerate(stored.items()):
            names[f"#a{position}"] = attribute
            if value is None:
                clauses.append(f"attribute_not_exists(#a{position})")
            else:
                clauses.append(f"#a{position} = :a{position}")
                values[f":a{position}"] = value
    return " AND ".join(clauses), names, values


def write(
    item: Item,
    previous: StoredState | None,
    new_sequencer: str | None,
    delta_bytes: int,
    delta_count: int,
) -> bool:
    """Write the item (and the totals change) if the stored state is still ``previous``
    and ``new_sequencer`` is newer than the stored one (None: a repair that keeps the stored
    sequencer, conditioned on every attribute of ``previous`` it was computed from).

    Returns False when the condition failed because the item changed since it was read.
    """
    values: dict[str, dict[str, str]] = {}
    if previous is None:
        condition = "attribute_not_exists(#pk)"
        names = {"#pk": keys.PARTITION_KEY}
    elif new_sequencer is None:
        condition, names, values = _unchanged_since_read(previous)
    else:
        condition = "#seq = :expected_seq AND #seq < :new_seq"
        names = {"#seq": "sequencer"}
        values = {":expected_seq": s(previous.sequencer), ":new_seq": s(new_sequencer)}
    put: dict[str, Any] = {
        "TableName": clients.table_name(),
        "Item": item,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
    }
    if values:
        put["ExpressionAttributeValues"] = values
    client = clients.dynamodb()
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
        "TableName": clients.table_name(),
        "Key": {keys.PARTITION_KEY: s(keys.customer_pk(customer_id)), keys.SORT_KEY: s(keys.TOTALS_SK)},
        "UpdateExpression": "SET item_type = :type, customer_id = :cid ADD total_bytes :bytes, object_count :count",
        "ExpressionAttributeValues": {
            ":type": s(keys.ITEM_TYPE_TOTALS),
            ":cid": s(customer_id),
            ":bytes": n(delta_bytes),
            ":count": n(delta_count),
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
