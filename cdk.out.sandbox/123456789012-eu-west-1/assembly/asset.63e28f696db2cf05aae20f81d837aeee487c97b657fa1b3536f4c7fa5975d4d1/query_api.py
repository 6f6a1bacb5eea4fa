"""Query API over the S3 object index (API Gateway REST proxy integration).

Routes (all GET, JSON responses):

* ``/customers/{customer_id}/objects?limit=&next_token=``
  objects of a customer, newest upload first.
* ``/customers/{customer_id}/object?path=``
  one object by its path under ``customers/{customer_id}/``; 404 when the index
  holds no live object for it.
* ``/customers/{customer_id}/totals``
  ``{customer_id, total_bytes, object_count}``; zeros for an unknown customer.
* ``/customers/{customer_id}/objects/by-attribute?name=&value=&limit=&next_token=``
  ``name`` is ``content_type`` (matched on the media type, case-insensitive,
  parameters such as ``charset`` ignored) or ``classification`` (exact match).
* ``/customers/{customer_id}/objects/by-date?start=&end=&limit=&next_token=``
  uploads between two UTC days ``YYYY-MM-DD``, both inclusive, newest first.
* ``/uploads/by-day?date=&limit=&next_token=``
  uploads of all customers on one UTC day, newest first (operators only).

List responses are ``{"items": [...], "next_token": "..." | null}``; pass
``next_token`` back unchanged, with the same query parameters, to get the next
page. ``limit`` is 1..100 (default 50). Invalid input gives 400 with
``{"message": ...}``; a caller who may not read the route's data gets 403; an
unknown route gives 404.

Who may read what: API Gateway authenticates every caller with SigV4 (IAM
authorization) and passes the caller's verified ARN in the request context
(``requestContext.identity.userArn``). The caller must be a role session of the
API's own account. The role named by ``OPERATOR_ROLE_NAME`` may call every
route; a role named ``{CUSTOMER_ROLE_PREFIX}{customer_id}`` may call only the
routes of that customer; every other caller gets 403. The customer is thus bound
to the caller's identity by the role it signed with, never by a value the caller
sends.

Every read is a DynamoDB Query or GetItem. The all-customers-per-day index is
spread over ``DAY_SHARD_COUNT`` partitions per day; that route queries every
partition and merges the results by upload time.

Environment: ``INDEX_TABLE_NAME``, ``OPERATOR_ROLE_NAME``, ``CUSTOMER_ROLE_PREFIX``
and ``PAGINATION_KEY_SECRET_ID`` (all required): the last is the ARN or name of the
Secrets Manager secret whose string, at least 32 characters, signs pagination
tokens. The function reads it once per execution environment, so the key never
appears in the function's configuration.
"""

from __future__ import annotations

import functools
import heapq
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
_ROLE_NAME_RE = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}")
# The caller ARN API Gateway verified: a role session (sts assumed-role), in any partition.
_ROLE_SESSION_ARN_RE = re.compile(
    r"arn:aws[a-z-]*:sts::(?P<account>[0-9]{12}):assumed-role/(?P<role>[A-Za-z0-9+=,.@_-]{1,64})/[^/]+"
)
_ATTRIBUTE_INDEXES = {
    "content_type": (keys.INDEX_BY_CONTENT_TYPE, keys.CT_PK),
    "classification": (keys.INDEX_BY_CLASSIFICATION, keys.CLS_PK),
}

Key = dict[str, dict[str, str]]
Item = dict[str, Any]


class BadRequestError(Exception):
    """Invalid caller input; the message is returned in the 400 response."""


class ForbiddenError(Exception):
    """The caller may not read what the request asks for; the message is returned with 403."""


class NotFoundError(Exception):
    """The requested object is not in the index; the message is returned with 404."""


@dataclass(frozen=True)
class Settings:
    table_name: str
    pagination_key: bytes
    operator_role_name: str
    customer_role_prefix: str


_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=5)


def _required_environment(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise RuntimeError(f"{name} environment variable is not set")
    return value


@functools.cache
def get_settings() -> Settings:
    """Table name, caller roles and pagination key, read once per execution environment."""
    table_name = _required_environment("INDEX_TABLE_NAME")
    operator_role_name = _required_environment("OPERATOR_ROLE_NAME")
    customer_role_prefix = _required_environment("CUSTOMER_ROLE_PREFIX")
    for name, value in (("OPERATOR_ROLE_NAME", operator_role_name), ("CUSTOMER_ROLE_PREFIX", customer_role_prefix)):
        if _ROLE_NAME_RE.fullmatch(value) is None:
            raise RuntimeError(f"{name} is not a valid IAM role name")
    if operator_role_name.startswith(customer_role_prefix):
        raise RuntimeError("OPERATOR_ROLE_NAME must not start with CUSTOMER_ROLE_PREFIX")
    secret_id = _required_environment("PAGINATION_KEY_SECRET_ID")
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
    return Settings(
        table_name=table_name,
        pagination_key=pagination_key.encode("utf-8"),
        operator_role_name=operator_role_name,
        customer_role_prefix=customer_role_prefix,
    )


@functools.cache
def _dynamodb() -> Any:
    return boto3.client("dynamodb", config=_BOTO_CONFIG)


@functools.cache
def _secretsmanager() -> Any:
    return boto3.client("secretsmanager", config=_BOTO_CONFIG)


# --- Who is calling ------------------------------------------------------------------


def _caller_role() -> str:
    """The role the caller signed with, from the identity API Gateway verified; 403 otherwise."""
    context = app.current_event.request_context
    user_arn = context.identity.user_arn or ""
    match = _ROLE_SESSION_ARN_RE.fullmatch(user_arn)
    if match is None or match["account"] != context.account_id:
        raise ForbiddenError("only role sessions of this account may call this API")
    return match["role"]


def _authorize(customer_id: str | None) -> None:
    """Let the operator role read everything and a customer's role read that customer only.

    ``customer_id`` None means a route across customers: operators only.
    """
    settings = get_settings()
    role = _caller_role()
    if role == settings.operator_role_name:
        return
    if customer_id is not None and role == f"{settings.customer_role_prefix}{customer_id}":
        return
    if customer_id is None:
        raise ForbiddenError("only the operator role may read every customer's uploads")
    raise ForbiddenError("the caller's role may not read this customer's objects")


# --- Input validation ------------------------------------------------------------


def _customer_id(raw: str) -> str:
    """A valid customer id that the caller may read (checked in that order: 400, then 403)."""
    if not keys.is_valid_customer_id(raw):
        raise BadRequestError("customer_id must be 1 to 64 characters from A-Z, a-z, 0-9, '_' and '-'")
    _authorize(raw)
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


def _position(query: list[str]) -> keys.Position | None:
    token = _query_param("next_token")
    if token is None:
        return None
    try:
        return keys.decode_page_token(get_settings().pagination_key, query, token)
    except keys.InvalidPageTokenError as error:
        raise BadRequestError(str(error)) from error


def _position_of(item: Item) -> keys.Position:
    return keys.Position(uploaded_at=item["uploaded_at"]["S"], object_key=keys.parse_object_key(item["key"]["S"]))


def _page(query: list[str], items: list[Item], limit: int) -> dict[str, Any]:
    """The first ``limit`` items (of up to ``limit + 1`` read) and a token when more follow."""
    page = items[:limit]
    token = None
    if len(items) > limit:
        token = keys.encode_page_token(get_settings().pagination_key, query, _position_of(page[-1]))
    return {"items": [_object_view(item) for item in page], "next_token": token}


# --- Reads --------------------------------------------------------------------------


def _object_view(item: Item) -> dict[str, Any]:
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


def _read(
    index: str,
    partition: tuple[str, str],
    want: int,
    *,
    start_key: Key | None = None,
    sort_condition: tuple[str, ...] | None = None,
) -> list[Item]:
    """Up to ``want`` items of one index partition, newest first.

    DynamoDB may end a page early (1 MB), even with no items but a ``LastEvaluatedKey``;
    reading goes on from that key until ``want`` items are read or the partition ends.
    ``sort_condition`` is ``("<", value)``, ``("<=", value)`` or ``("BETWEEN", low, high)``
    on the index's sort key.
    """
    condition = "#pk = :pk"
    names = {"#pk": partition[0]}
    values: dict[str, dict[str, str]] = {":pk": {"S": partition[1]}}
    if sort_condition is not None:
        names["#sk"] = keys.GSI_DEFINITIONS[index]["sort_key"]
        if sort_condition[0] == "BETWEEN":
            condition += " AND #sk BETWEEN :low AND :high"
            values[":low"] = {"S": sort_condition[1]}
            values[":high"] = {"S": sort_condition[2]}
        else:
            condition += f" AND #sk {sort_condition[0]} :bound"
            values[":bound"] = {"S": sort_condition[1]}
    items: list[Item] = []
    while True:
        params: dict[str, Any] = {
            "TableName": get_settings().table_name,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": want - len(items),
        }
        if start_key is not None:
            params["ExclusiveStartKey"] = start_key
        response = _dynamodb().query(**params)
        items.extend(response.get("Items", []))
        start_key = response.get("LastEvaluatedKey")
        if start_key is None or len(items) >= want:
            return items[:want]


def _customer_page(
    query: list[str],
    index: str,
    partition: tuple[str, str],
    customer_id: str,
    between: tuple[str, str] | None = None,
) -> dict[str, Any]:
    limit = _limit()
    position = _position(query)
    start_key = None
    if position is not None:
        # The token's query digest already ties it to this customer; the partition values
        # still come from the request, never from the token.
        if position.object_key.customer_id != customer_id:
            raise BadRequestError("next_token is not a valid token")
        path = position.object_key.path
        start_key = {
            keys.PARTITION_KEY: {"S": keys.customer_pk(customer_id)},
            keys.SORT_KEY: {"S": keys.object_sk(path)},
            partition[0]: {"S": partition[1]},
            keys.UPLOAD_SK: {"S": keys.upload_sort_key(position.uploaded_at, path)},
        }
    sort_condition = None if between is None else ("BETWEEN", *between)
    # One extra item tells whether another page exists, so the last page has no token.
    items = _read(index, partition, limit + 1, start_key=start_key, sort_condition=sort_condition)
    return _page(query, items, limit)


@app.get("/customers/<customer_id>/objects")
def list_objects(customer_id: str) -> dict[str, Any]:
    customer_id = _customer_id(customer_id)
    partition = (keys.PARTITION_KEY, keys.customer_pk(customer_id))
    return _customer_page(["objects", customer_id], keys.INDEX_BY_UPLOAD_TIME, partition, customer_id)


@app.get("/customers/<customer_id>/object")
def get_object(customer_id: str) -> dict[str, Any]:
    customer_id = _customer_id(customer_id)
    path = _query_param("path")
    if path is None or not path:
        raise BadRequestError("path is required")
    try:
        object_key = keys.parse_object_key(f"{keys.KEY_PREFIX}{customer_id}/{path}")
    except keys.InvalidObjectKeyError as error:
        raise BadRequestError(f"path does not name an object key: {error}") from error
    response = _dynamodb().get_item(
        TableName=get_settings().table_name,
        Key={
            keys.PARTITION_KEY: {"S": keys.customer_pk(customer_id)},
            keys.SORT_KEY: {"S": keys.object_sk(object_key.path)},
        },
    )
    item = response.get("Item")
    if item is None or item.get("item_type", {}).get("S") != keys.ITEM_TYPE_OBJECT:
        raise NotFoundError("the index holds no object with this path")
    return _object_view(item)


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
    """Merge the day's shards newest first; ties in ``DAY_SK`` go to the lower shard.

    A page resumes after the last item returned: in that item's shard from the item itself
    (``ExclusiveStartKey``), in the other shards from its ``DAY_SK`` (strictly below it in a
    lower shard, whose equal items came first; up to and including it in a higher shard).
    """
    _authorize(None)
    day = _date("date").isoformat()
    limit = _limit()
    query = ["by-day", day]
    position = _position(query)
    shard_items: list[list[Item]] = []
    for shard in range(keys.DAY_SHARD_COUNT):
        partition = (keys.DAY_PK, keys.day_pk(day, shard))
        if position is None:
            items = _read(keys.INDEX_BY_DAY, partition, limit + 1)
        else:
            customer_id, path = position.object_key.customer_id, position.object_key.path
            resume_sk = keys.day_sort_key(position.uploaded_at, customer_id, path)
            resume_shard = keys.day_shard(customer_id, path)
            if shard == resume_shard:
                start_key = {
                    keys.DAY_PK: {"S": partition[1]},
                    keys.DAY_SK: {"S": resume_sk},
                    keys.PARTITION_KEY: {"S": keys.customer_pk(customer_id)},
                    keys.SORT_KEY: {"S": keys.object_sk(path)},
                }
                items = _read(keys.INDEX_BY_DAY, partition, limit + 1, start_key=start_key)
            else:
                operator = "<" if shard < resume_shard else "<="
                items = _read(keys.INDEX_BY_DAY, partition, limit + 1, sort_condition=(operator, resume_sk))
        shard_items.append(items)
    # heapq.merge is stable: equal sort keys keep the order of the shards passed in.
    merged = list(heapq.merge(*shard_items, key=lambda item: item[keys.DAY_SK]["S"], reverse=True))
    # Each shard read limit + 1 items, so the first limit + 1 of the merge are exact.
    return _page(query, merged[: limit + 1], limit)


# --- Error handling and entry point ---------------------------------------------------


def _json_error(status: int, message: str) -> Response[dict[str, str]]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": message})


def _bad_request(error: BadRequestError) -> Response[dict[str, str]]:
    logger.info("Rejected request", extra={"path": app.current_event.path, "reason": str(error)})
    return _json_error(400, str(error))


def _forbidden(error: ForbiddenError) -> Response[dict[str, str]]:
    identity = app.current_event.request_context.identity
    logger.warning(
        "Refused caller",
        extra={"path": app.current_event.path, "caller": identity.user_arn, "reason": str(error)},
    )
    return _json_error(403, str(error))


def _not_found_item(error: NotFoundError) -> Response[dict[str, str]]:
    return _json_error(404, str(error))


def _internal_error(error: Exception) -> Response[dict[str, str]]:
    logger.exception("Unhandled error while answering a query")
    return _json_error(500, "Internal server error")


# Registered without decorator syntax because the decorator is untyped; the most
# specific handler wins, so BadRequestError still gets its 400.
app.exception_handler(BadRequestError)(_bad_request)
app.exception_handler(ForbiddenError)(_forbidden)
app.exception_handler(NotFoundError)(_not_found_item)
app.exception_handler(Exception)(_internal_error)


@app.not_found
def _not_found(_error: Exception) -> Response[dict[str, str]]:
    event = app.current_event
    return _json_error(404, f"No route for {event.http_method} {event.path}")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    get_settings()  # fail fast on a missing configuration
    return app.resolve(event, context)
