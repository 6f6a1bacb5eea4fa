"""Reconcile: repairs one customer's part of the index from a listing of the bucket.

S3 delivers event notifications at least once, but an event can still be lost to the index:
it waited in the queue longer than the queue's retention, or was deleted from the
dead-letter queue unapplied. Nothing in the event path can notice. This function compares
what S3 holds under ``customers/{customer_id}/`` (``ListObjectsV2``) with the customer's
object items (a ``Query`` on the base table, never a ``Scan``), walking both in key order,
and repairs every key where they disagree with ``index_repair.reconcile_key``: a fresh
``HeadObject`` and a consistent read decide, and the write keeps the stored sequencer, so an
event still in flight for the key is newer and wins. Totals move with every repair; the
write is conditioned on the exact item read, so two overlapping runs repair a key once.

Invoke it by hand (or from a schedule) with ``{"customer_id": "acme"}``, synchronously and
without client retries: the pattern's page gives the command (a CLI read timeout above the
function's 15 minutes, ``AWS_MAX_ATTEMPTS=1``). When the customer
has more keys than one invocation can walk, the answer's ``next_start_after`` is not null:
invoke again with ``{"customer_id": "acme", "start_after": <that value>}``. The answer
counts what it saw::

    {"customer_id": "acme", "listed": 1200, "indexed": 1198,
     "outcomes": {"repaired": 2}, "next_start_after": null}

Environment: ``INDEX_TABLE_NAME`` and ``OBJECT_BUCKET_NAME`` (required).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

# The Lambda runtime loads these modules from the asset root, where they are
# top-level modules; static analysis sees the asset folder as a package.
if TYPE_CHECKING:
    from . import index_clients as clients
    from . import index_repair as repair
    from . import object_index_keys as keys
else:
    import index_clients as clients
    import index_repair as repair
    import object_index_keys as keys

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "object-index-reconcile"))

#: Stop walking with this much of the invocation left, and hand back where to go on.
RESERVE_MILLISECONDS = 20_000
_OBJECT_SK_PREFIX = keys.object_sk("")
_OBJECT_SK_END = _OBJECT_SK_PREFIX[:-1] + chr(ord(_OBJECT_SK_PREFIX[-1]) + 1)  # "OBJECT$": after every path


class BadInputError(ValueError):
    """The invocation's input is not a reconcile request."""


def _listed(customer_id: str, start_after: str) -> Iterator[tuple[str, str, int]]:
    """(path, ETag, size) of every object S3 holds for the customer, in key order."""
    prefix = f"{keys.KEY_PREFIX}{customer_id}/"
    paginator = clients.s3().get_paginator("list_objects_v2")
    params: dict[str, Any] = {"Bucket": clients.bucket_name(), "Prefix": prefix}
    if start_after:
        params["StartAfter"] = prefix + start_after
    for page in paginator.paginate(**params):
        for entry in page.get("Contents", []):
            yield entry["Key"][len(prefix) :], str(entry["ETag"]).strip('"'), int(entry["Size"])


def _indexed(customer_id: str, start_after: str) -> Iterator[tuple[str, str | None, int]]:
    """(path, ETag or None for a tombstone, size) of the customer's object items, in key order."""
    low = keys.object_sk(start_after) + "\x00" if start_after else _OBJECT_SK_PREFIX  # just after start_after
    paginator = clients.dynamodb().get_paginator("query")
    for page in paginator.paginate(
        TableName=clients.table_name(),
        KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
        ExpressionAttributeNames={"#pk": keys.PARTITION_KEY, "#sk": keys.SORT_KEY, "#size": "size"},
        ExpressionAttributeValues={
            ":pk": {"S": keys.customer_pk(customer_id)},
            ":low": {"S": low},
            ":high": {"S": _OBJECT_SK_END},
        },
        ProjectionExpression="#sk, item_type, etag, #size",
        ConsistentRead=True,
    ):
        for item in page.get("Items", []):
            path = keys.path_from_object_sk(item[keys.SORT_KEY]["S"])
            live = item.get("item_type", {}).get("S") == keys.ITEM_TYPE_OBJECT
            etag = item.get("etag", {}).get("S") if live else None
            yield path, etag, int(item.get("size", {}).get("N", "0"))


def _walk(
    listed: Iterator[tuple[str, str, int]], indexed: Iterator[tuple[str, str | None, int]], counts: Counter[str]
) -> Iterator[tuple[str, bool]]:
    """Every path of either walk, in key order, and whether S3 and the index disagree on it.

    Both walks are in UTF-8 byte order, which for Python strings is code point order.
    """
    s3_entry = next(listed, None)
    index_entry = next(indexed, None)
    while s3_entry is not None or index_entry is not None:
        if index_entry is None or (s3_entry is not None and s3_entry[0] < index_entry[0]):
            assert s3_entry is not None
            counts["listed"] += 1
            yield s3_entry[0], True  # in S3, not indexed
            s3_entry = next(listed, None)
        elif s3_entry is None or index_entry[0] < s3_entry[0]:
            counts["indexed"] += 1
            yield index_entry[0], index_entry[1] is not None  # indexed as live, gone from S3
            index_entry = next(indexed, None)
        else:
            counts["listed"] += 1
            counts["indexed"] += 1
            # Another object, or a tombstone over a live object.
            yield s3_entry[0], (index_entry[1], index_entry[2]) != (s3_entry[1], s3_entry[2])
            s3_entry, index_entry = next(listed, None), next(indexed, None)


def _request(event: Any) -> tuple[str, str]:
    if not isinstance(event, dict):
        raise BadInputError('the input must be {"customer_id": ..., "start_after": ...}')
    customer_id = event.get("customer_id")
    if not isinstance(customer_id, str) or not keys.is_valid_customer_id(customer_id):
        raise BadInputError(keys.CUSTOMER_ID_RULE)
    start_after = event.get("start_after") or ""
    if not isinstance(start_after, str):
        raise BadInputError("start_after must be a string")
    return customer_id, start_after


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    customer_id, start_after = _request(event)
    counts: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    next_start_after = None
    for path, disagree in _walk(_listed(customer_id, start_after), _indexed(customer_id, start_after), counts):
        if context.get_remaining_time_in_millis() < RESERVE_MILLISECONDS:
            next_start_after = start_after
            break
        if disagree:
            try:
                object_key = keys.parse_object_key(f"{keys.KEY_PREFIX}{customer_id}/{path}")
            except keys.InvalidObjectKeyError:
                outcomes["unindexable"] += 1  # the indexer skips such keys too
            else:
                outcome = repair.reconcile_key(object_key)
                outcomes[outcome] += 1
                if outcome != "in-step":
                    logger.info("Reconciled key", extra={"object_key": object_key.s3_key, "outcome": outcome})
        start_after = path
    result = {
        "customer_id": customer_id,
        "listed": counts["listed"],
        "indexed": counts["indexed"],
        "outcomes": dict(sorted(outcomes.items())),
        "next_start_after": next_start_after,
    }
    logger.info("Reconciled customer", extra=result)
    return result
