"""Query API over the S3 object index (API Gateway REST proxy integration).

Routes (all GET, JSON responses):

* ``/customers/{customer_id}/objects?limit=&next_token=``
  objects of a customer, newest upload first.
* ``/customers/{customer_id}/totals``
  ``{customer_id, total_bytes, object_count}``; zeros for an unknown customer.
* ``/customers/{customer_id}/objects/by-attribute?name=&value=&limit=&next_token=``
  ``name`` is ``content_type`` (matched on the media type, case-insensitive,
  parameters such as ``charset`` ignored) or ``classification`` (exact match).
* ``/customers/{customer_id}/objects/by-date?start=&end=&limit=&next_token=``
  uploads between two UTC days ``YYYY-MM-DD``, both inclusive, newest first.
* ``/uploads/by-day?date=&limit=&next_token=``
  uploads of all customers on one UTC day, newest first.

List responses are ``{"items": [...], "next_token": "..." | null}``; pass
``next_token`` back unchanged, with the same query parameters, to get the next
page. ``limit`` is 1..100 (default 50). Invalid input gives 400 with
``{"message": ...}``; an unknown route gives 404.

Every read is a DynamoDB Query or GetItem. The all-customers-per-day index is
spread over ``DAY_SHARD_COUNT`` partitions per day; that route queries every
partition and merges the results by upload time.

Environment: ``INDEX_TABLE_NAME`` (required) and ``PAGINATION_KEY_SECRET_ID``
(required): the ARN or name of the Secrets Manager secret whose string, at least
32 characters, signs pagination tokens. The function reads it once per execution
environment, so the key never appears in the function's configuration.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import boto3  # type: ignore[import-untyped]
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

# The Lambda runtime loads these modules from the asset root, where they are
# top-level modules; static analysis sees the asset folder as a package.
if TYPE_CHECKING:
    from . import object_index_keys as keys
else:
    import object_index_keys as keys

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "object-index-api"))
app = APIGatewayRestResolver()

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MIN_PAGINATION_KEY_LENGTH = 32
_LIMIT_RE = re.compile(r"[0-9]{1,4}")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ATTRIBUTE_INDEXES = {
    "content_type": (keys.INDEX_BY_CONTENT_TYPE, keys.CT_PK),
    "classification": (keys.INDEX_BY_CLASSIFICATION, keys.CLS_PK),
}
_SHARD_DONE = "done"

Key = dict[str, dict[str, str]]


class BadRequestError(Exception):
    """Invalid caller input; the message is returned in the 400 response."""


@dataclass(frozen=True)
class Settings:
    table_name: str
    pagination_key: bytes


_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=5)


@functools.cache
def get_settings() -> Settings:
    """Table name and pagination key, read once per execution environment."""
    table_name = os.environ.get("INDEX_TABLE_NAME", "").strip()
    if not table_name:
        raise RuntimeError("INDEX_TABLE_NAME environment variable is not set")
    secret_id = os.environ.get("PAGINATION_KEY_SECRET_ID", "").strip()
    if not secret_id:
        raise RuntimeError("PAGINATION_KEY_SECRET_ID environment variable is not set")
    try:
        secret = _secretsmanager().get_secret_value(SecretId=secret_id)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "unknown error")
        raise RuntimeError(
            f"cannot read the pagination key secret named by PAGINATION_KEY_SECRET_ID: {code}"
        ) from error
    pagination_key = secret.get("SecretString") or ""
    if len(pagination_key) < MIN_PAGINATION_KEY_LENGTH:
        raise RuntimeError(f"the pagination key secret must hold at least {MIN_PAGINATION_KEY_LENGTH} characters")
    return Settings(table_name=table_name, pagination_key=pagination_key.encode("utf-8"))


@functools.cache
def _dynamodb() -> Any:
    return boto3.client("dynamodb", config=_BOTO_CONFIG)


@functools.cache
def _secretsmanager() -> Any:
    return boto3.client("secretsmanager", config=_BOTO_CONFIG)


# --- Input validation ------------------------------------------------------------


def _customer_id(raw: str) -> str:
    if not keys.is_valid_customer_id(raw):
        raise BadRequestError("customer_id must be 1 to 64 characters from A-Z, a-z, 0-9, '_' and '-'")
    return raw


def _query_param(name: str) -> str | None:
    return app.current_event.get_query_string_value(name)


def _limit() -> int:
    raw = _query_param("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if _LIMIT_RE.fullmatch(raw) is None or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequestError(f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def _date(name: str) -> date:
    raw = _query_param(name)
    if raw is None:
        raise BadRequestError(f"{name} is required (YYYY-MM-DD)")
    if _DATE_RE.fullmatch(raw) is None:
        raise BadRequestError(f"{name} must be a date in YYYY-MM-DD format")
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise BadRequestError(f"{name} is not a valid calendar date") from error


def _cursor(query: list[str]) -> Any:
    token = _query_param("next_token")
    if token is None:
        return None
    try:
        return keys.decode_page_token(get_settings().pagination_key, query, token)
    except keys.InvalidPageTokenError as error:
        raise BadRequestError(str(error)) from error


def _token(query: list[str], cursor: Any) -> str | None:
    if cursor is None:
        return None
    return keys.encode_page_token(get_settings().pagination_key, query, cursor)


def _start_key(cursor: Any, fixed: dict[str, str], free: tuple[str, ...]) -> Key:
    """Rebuild a DynamoDB start key from a verified cursor and the query's own key values."""
    if not isinstance(cursor, dict) or set(cursor) != set(free) or not all(isinstance(v, str) for v in cursor.values()):
        raise BadRequestError("next_token is not a valid token")
    start: Key = {name: {"S": value} for name, value in fixed.items()}
    start.update({name: {"S": cursor[name]} for name in free})
    return start


# --- Reads --------------------------------------------------------------------------


def _object_view(item: dict[str, Any]) -> dict[str, Any]:
    def text(name: str) -> str | None:
        value = item.get(name)
        return None if value is None else str(value["S"])

    return {
        "customer_id": text("customer_id"),
        "key": text("key"),
        "size": int(item["size"]["N"]),
        "etag": text("etag"),
        "content_type": text("content_type"),
        "classification": text("classification"),
        "uploaded_at": text("uploaded_at"),
    }


def _query(
    index: str,
    partition: tuple[str, str],
    limit: int,
    start_key: Key | None,
    between: tuple[str, str] | None = None,
) -> tuple[list[dict[str, Any]], bool, dict[str, Any] | None]:
    """One page, newest first. Returns items, whether more may follow, and the last evaluated key."""
    sort_attribute = keys.GSI_DEFINITIONS[index]["sort_key"]
    condition = "#pk = :pk"
    names = {"#pk": partition[0]}
    values: dict[str, dict[str, str]] = {":pk": {"S": partition[1]}}
    if between is not None:
        condition += " AND #sk BETWEEN :from AND :to"
        names["#sk"] = sort_attribute
        values[":from"] = {"S": between[0]}
        values[":to"] = {"S": between[1]}
    params: dict[str, Any] = {
        "TableName": get_settings().table_name,
        "IndexName": index,
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": False,
        # One extra item tells whether another page exists, so the last page has no token.
        "Limit": limit + 1,
    }
    if start_key is not None:
        params["ExclusiveStartKey"] = start_key
    response = _dynamodb().query(**params)
    items: list[dict[str, Any]] = response.get("Items", [])
    if len(items) > limit:
        return items[:limit], True, None
    last_key = response.get("LastEvaluatedKey")
    return items, last_key is not None, last_key


def _customer_page(
    query: list[str], index: str, partition: tuple[str, str], customer_id: str, between: tuple[str, str] | None = None
) -> dict[str, Any]:
    limit = _limit()
    cursor = _cursor(query)
    free = (keys.SORT_KEY, keys.UPLOAD_SK)
    fixed = {keys.PARTITION_KEY: keys.customer_pk(customer_id), partition[0]: partition[1]}
    start_key = None if cursor is None else _start_key(cursor, fixed, free)
    items, more, last_key = _query(index, partition, limit, start_key, between)
    next_cursor = None
    if more:
        position = last_key if last_key is not None else items[-1]
        next_cursor = {name: position[name]["S"] for name in free}
    return {"items": [_object_view(item) for item in items], "next_token": _token(query, next_cursor)}


@app.get("/customers/<customer_id>/objects")
def list_objects(customer_id: str) -> dict[str, Any]:
    customer_id = _customer_id(customer_id)
    partition = (keys.PARTITION_KEY, keys.customer_pk(customer_id))
    return _customer_page(["objects", customer_id], keys.INDEX_BY_UPLOAD_TIME, partition, customer_id)


@app.get("/customers/<customer_id>/totals")
def customer_totals(customer_id: str) -> dict[str, Any]:
    customer_id = _customer_id(customer_id)
    response = _dynamodb().get_item(
        TableName=get_settings().table_name,
        Key={keys.PARTITION_KEY: {"S": keys.customer_pk(customer_id)}, keys.SORT_KEY: {"S": keys.TOTALS_SK}},
    )
    item = response.get("Item", {})
    return {
        "customer_id": customer_id,
        "total_bytes": int(item.get("total_bytes", {}).get("N", "0")),
        "object_count": int(item.get("object_count", {}).get("N", "0")),
    }


@app.get("/customers/<customer_id>/objects/by-attribute")
def list_objects_by_attribute(customer_id: str) -> dict[str, Any]:
    customer_id = _customer_id(customer_id)
    name = _query_param("name")
    if name not in _ATTRIBUTE_INDEXES:
        raise BadRequestError(f"name must be one of: {', '.join(sorted(_ATTRIBUTE_INDEXES))}")
    raw_value = _query_param("value")
    if raw_value is None or not raw_value.strip():
        raise BadRequestError("value is required")
    if len(raw_value) > keys.MAX_ATTRIBUTE_VALUE_LENGTH:
        raise BadRequestError(f"value must be at most {keys.MAX_ATTRIBUTE_VALUE_LENGTH} characters")
    index, partition_attribute = _ATTRIBUTE_INDEXES[name]
    if name == "content_type":
        value = keys.normalize_media_type(raw_value)
        partition_value = keys.content_type_pk(customer_id, value) if value else ""
    else:
        value = keys.normalize_classification(raw_value)
        partition_value = keys.classification_pk(customer_id, value) if value else ""
    if not value:
        raise BadRequestError("value is not a valid attribute value")
    query = ["by-attribute", customer_id, name, value]
    return _customer_page(query, index, (partition_attribute, partition_value), customer_id)


@app.get("/customers/<customer_id>/objects/by-date")
def list_objects_by_date(customer_id: str) -> dict[str, Any]:
    customer_id = _customer_id(customer_id)
    start, end = _date("start"), _date("end")
    if start > end:
        raise BadRequestError("start must not be after end")
    query = ["by-date", customer_id, start.isoformat(), end.isoformat()]
    partition = (keys.PARTITION_KEY, keys.customer_pk(customer_id))
    return _customer_page(
        query, keys.INDEX_BY_UPLOAD_TIME, partition, customer_id, between=keys.upload_time_bounds(start, end)
    )


@app.get("/uploads/by-day")
def list_uploads_by_day() -> dict[str, Any]:
    day = _date("date").isoformat()
    limit = _limit()
    query = ["by-day", day]
    cursor = _cursor(query)
    shard_count = keys.DAY_SHARD_COUNT
    free = (keys.PARTITION_KEY, keys.SORT_KEY, keys.DAY_SK)
    if cursor is None:
        states: list[Any] = [None] * shard_count
    elif isinstance(cursor, dict) and isinstance(cursor.get("shards"), list) and len(cursor["shards"]) == shard_count:
        states = cursor["shards"]
    else:
        raise BadRequestError("next_token is not a valid token")

    # Fetch one page from every shard that is not finished yet.
    pages: list[tuple[list[dict[str, Any]], bool, dict[str, Any] | None]] = []
    for shard, state in enumerate(states):
        partition = (keys.DAY_PK, keys.day_pk(day, shard))
        if state == _SHARD_DONE:
            pages.append(([], False, None))
            continue
        start_key = None if state is None else _start_key(state, {keys.DAY_PK: partition[1]}, free)
        pages.append(_query(keys.INDEX_BY_DAY, partition, limit, start_key))

    # Merge newest first. Stop early when a shard's fetched items are used up
    # but the shard has more: its next item could be newer than the others'.
    used = [0] * shard_count
    merged: list[dict[str, Any]] = []
    while len(merged) < limit:
        best: int | None = None
        blocked = False
        for shard, (items, more, _last) in enumerate(pages):
            if used[shard] < len(items):
                candidate = items[used[shard]][keys.DAY_SK]["S"]
                if best is None or candidate > pages[best][0][used[best]][keys.DAY_SK]["S"]:
                    best = shard
            elif more:
                blocked = True
        if best is None or blocked:
            break
        merged.append(pages[best][0][used[best]])
        used[best] += 1

    next_states: list[Any] = []
    for shard, (items, more, last_key) in enumerate(pages):
        count = used[shard]
        if states[shard] == _SHARD_DONE or (count == len(items) and not more):
            next_states.append(_SHARD_DONE)
        elif count > 0:
            next_states.append({name: items[count - 1][name]["S"] for name in free})
        elif items or last_key is None:
            next_states.append(states[shard])  # nothing taken from this shard: same position again
        else:
            next_states.append({name: last_key[name]["S"] for name in free})
    finished = all(state == _SHARD_DONE for state in next_states)
    return {
        "items": [_object_view(item) for item in merged],
        "next_token": None if finished else _token(query, {"shards": next_states}),
    }


# --- Error handling and entry point ---------------------------------------------------


def _bad_request(error: BadRequestError) -> Response[dict[str, str]]:
    logger.info("Rejected request", extra={"path": app.current_event.path, "reason": str(error)})
    return Response(status_code=400, content_type=content_types.APPLICATION_JSON, body={"message": str(error)})


def _internal_error(error: Exception) -> Response[dict[str, str]]:
    logger.exception("Unhandled error while answering a query")
    return Response(
        status_code=500, content_type=content_types.APPLICATION_JSON, body={"message": "Internal server error"}
    )


# Registered without decorator syntax because the decorator is untyped; the most
# specific handler wins, so BadRequestError still gets its 400.
app.exception_handler(BadRequestError)(_bad_request)
app.exception_handler(Exception)(_internal_error)


@app.not_found
def _not_found(_error: Exception) -> Response[dict[str, str]]:
    event = app.current_event
    return Response(
        status_code=404,
        content_type=content_types.APPLICATION_JSON,
        body={"message": f"No route for {event.http_method} {event.path}"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    get_settings()  # fail fast on a missing configuration
    return app.resolve(event, context)
