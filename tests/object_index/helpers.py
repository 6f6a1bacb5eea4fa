"""Builders and readers shared by the object index handler tests.

The handler modules live in the Lambda asset folder ``lambdas/object_index``
and import each other as top-level modules, exactly as the Lambda runtime
loads them, so that folder is put on ``sys.path`` here.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus

import boto3  # type: ignore[import-untyped]
from boto3.dynamodb.types import TypeDeserializer  # type: ignore[import-untyped]

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "lambdas" / "object_index"
if str(LAMBDA_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDA_DIR))

keys: ModuleType = importlib.import_module("object_index_keys")
indexer: ModuleType = importlib.import_module("indexer")
clients: ModuleType = importlib.import_module("index_clients")
writes: ModuleType = importlib.import_module("index_writes")
records: ModuleType = importlib.import_module("s3_event_records")
query_api: ModuleType = importlib.import_module("query_api")

REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"
TABLE_NAME = "object-index-test"
BUCKET = "customer-uploads-test"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:object-index-events"
PAGINATION_KEY = "test-pagination-secret-0123456789abcdef"
PAGINATION_KEY_SECRET_NAME = "object-index-test/pagination-key"
OPERATOR_ROLE = "object-index-operator"
CUSTOMER_ROLE_PREFIX = "object-index-customer-"

_deserializer = TypeDeserializer()


@functools.cache
def client(service: str) -> Any:
    """A test-side client, reused: creating clients is the slowest part of a mocked call."""
    return boto3.client(service, region_name=REGION)


def reset_handler_caches() -> None:
    """Forget clients and settings cached by the handler modules between tests."""
    for function in (
        client,
        clients.table_name,
        clients.bucket_name,
        clients.dynamodb,
        clients.s3,
        query_api.get_settings,
        query_api._dynamodb,
        query_api._secretsmanager,
    ):
        function.cache_clear()


# --- AWS resources -------------------------------------------------------------------


def create_table() -> None:
    """Create the index table from the key design constants, as the stack does."""
    dynamodb = client("dynamodb")
    attribute_names = set(keys.TABLE_KEY_SCHEMA)
    for definition in keys.GSI_DEFINITIONS.values():
        attribute_names.update((definition["partition_key"], definition["sort_key"]))
    dynamodb.create_table(
        TableName=TABLE_NAME,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in sorted(attribute_names)],
        KeySchema=[
            {"AttributeName": name, "KeyType": key_type} for name, (key_type, _) in keys.TABLE_KEY_SCHEMA.items()
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index_name,
                "KeySchema": [
                    {"AttributeName": definition["partition_key"], "KeyType": "HASH"},
                    {"AttributeName": definition["sort_key"], "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": definition["projection"]},
            }
            for index_name, definition in keys.GSI_DEFINITIONS.items()
        ],
    )
    dynamodb.update_time_to_live(
        TableName=TABLE_NAME,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": keys.TTL_ATTRIBUTE},
    )


def create_pagination_secret(value: str = PAGINATION_KEY) -> None:
    """The secret the query function signs pagination tokens with, as the stack creates it."""
    client("secretsmanager").create_secret(Name=PAGINATION_KEY_SECRET_NAME, SecretString=value)


def set_pagination_key(value: str) -> None:
    """Give the pagination key secret a new value, as a rotation by hand does."""
    client("secretsmanager").put_secret_value(SecretId=PAGINATION_KEY_SECRET_NAME, SecretString=value)
    query_api.get_settings.cache_clear()


def create_bucket(versioned: bool = False) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    if versioned:
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})


def upload(key: str, body: bytes, content_type: str | None = None, classification: str | None = None) -> dict[str, Any]:
    """Put an object in the test bucket; returns the PutObject response."""
    params: dict[str, Any] = {"Bucket": BUCKET, "Key": key, "Body": body}
    if content_type is not None:
        params["ContentType"] = content_type
    if classification is not None:
        params["Metadata"] = {"classification": classification}
    return dict(client("s3").put_object(**params))


def delete(key: str, version_id: str | None = None) -> dict[str, Any]:
    """Delete an object (or one version of it) from the test bucket; returns the response."""
    params: dict[str, Any] = {"Bucket": BUCKET, "Key": key}
    if version_id is not None:
        params["VersionId"] = version_id
    return dict(client("s3").delete_object(**params))


def etag_of(body: bytes) -> str:
    return hashlib.md5(body).hexdigest()  # the S3 ETag of a single-part upload


# --- S3 event notifications wrapped in SQS messages ----------------------------------------


def s3_record(
    event_name: str,
    key: str,
    sequencer: str,
    event_time: str,
    size: int | None = None,
    etag: str | None = None,
    version_id: str | None = None,
    bucket: str = BUCKET,
) -> dict[str, Any]:
    """One S3 event notification record; the key is URL-encoded the way S3 does it."""
    s3_object: dict[str, Any] = {"key": quote_plus(key, safe="/"), "sequencer": sequencer}
    if size is not None:
        s3_object["size"] = size
    if etag is not None:
        s3_object["eTag"] = etag
    if version_id is not None:
        s3_object["versionId"] = version_id
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": event_time,
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLEUPLOADER"},
        "requestParameters": {"sourceIPAddress": "198.51.100.7"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "object-index",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": s3_object,
        },
    }


def created(
    key: str, body: bytes, sequencer: str, event_time: str, event_name: str = "ObjectCreated:Put"
) -> dict[str, Any]:
    return s3_record(event_name, key, sequencer, event_time, size=len(body), etag=etag_of(body))


def removed(
    key: str,
    sequencer: str,
    event_time: str,
    event_name: str = "ObjectRemoved:Delete",
    version_id: str | None = None,
) -> dict[str, Any]:
    return s3_record(event_name, key, sequencer, event_time, version_id=version_id)


def s3_test_event_body() -> dict[str, Any]:
    return {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2024-03-01T09:00:00.000Z",
        "Bucket": BUCKET,
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    }


def sqs_message(body: dict[str, Any] | str, message_id: str | None = None) -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": f"AQEB{uuid.uuid4().hex}",
        "body": text,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1709283600000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1709283600500",
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(text.encode()).hexdigest(),  # checksum field of the SQS event
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": REGION,
    }


def message_for(*records: dict[str, Any], message_id: str | None = None) -> dict[str, Any]:
    return sqs_message({"Records": list(records)}, message_id)


@dataclass
class FakeLambdaContext:
    function_name: str = "object-index-indexer"
    function_version: str = "$LATEST"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:object-index-indexer"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/object-index-indexer"
    log_stream_name: str = "2024/03/01/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def run_indexer(*messages: dict[str, Any]) -> list[str]:
    """Invoke the indexer with one SQS batch; returns the ids reported as failed."""
    response = indexer.handler({"Records": list(messages)}, FakeLambdaContext())
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def index_records(*records: dict[str, Any]) -> None:
    """Deliver each record in its own message, in order, and require success."""
    for record in records:
        assert run_indexer(message_for(record)) == []


# --- Reading the table ------------------------------------------------------------------------


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def partition_items(customer_id: str) -> dict[str, dict[str, Any]]:
    """Every base-table item of a customer, by sort key (objects, tombstones, totals)."""
    paginator = client("dynamodb").get_paginator("query")
    items: dict[str, dict[str, Any]] = {}
    for page in paginator.paginate(
        TableName=TABLE_NAME,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"CUSTOMER#{customer_id}"}},
        ConsistentRead=True,
    ):
        for item in page["Items"]:
            plain = _plain(item)
            items[plain["SK"]] = plain
    return items


def object_item(key: str) -> dict[str, Any] | None:
    parsed = keys.parse_object_key(key)
    response = client("dynamodb").get_item(
        TableName=TABLE_NAME,
        Key={"PK": {"S": keys.customer_pk(parsed.customer_id)}, "SK": {"S": keys.object_sk(parsed.path)}},
        ConsistentRead=True,
    )
    return _plain(response["Item"]) if "Item" in response else None


def totals(customer_id: str) -> tuple[int, int]:
    """(total_bytes, object_count) of a customer; zeros when there is no totals item."""
    item = partition_items(customer_id).get(keys.TOTALS_SK, {})
    return int(item.get("total_bytes", 0)), int(item.get("object_count", 0))


def index_keys(index_name: str, partition_value: str) -> list[str]:
    """Object keys in one index partition, in index order (newest first)."""
    definition = keys.GSI_DEFINITIONS[index_name]
    result: list[str] = []
    for page in (
        client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName=TABLE_NAME,
            IndexName=index_name,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": definition["partition_key"]},
            ExpressionAttributeValues={":pk": {"S": partition_value}},
            ScanIndexForward=False,
        )
    ):
        result.extend(item["key"]["S"] for item in page["Items"])
    return result


# --- API Gateway REST proxy events ---------------------------------------------------------------


def role_session(role: str, account: str = ACCOUNT_ID, partition: str = "aws") -> str:
    """The caller ARN API Gateway puts in the request context for a role session."""
    return f"arn:{partition}:sts::{account}:assumed-role/{role}/session-1"


OPERATOR = role_session(OPERATOR_ROLE)


def customer_caller(customer_id: str) -> str:
    return role_session(f"{CUSTOMER_ROLE_PREFIX}{customer_id}")


def api_event(
    path: str, query: dict[str, str] | None = None, method: str = "GET", caller: str | None = OPERATOR
) -> dict[str, Any]:
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Host": "abc123.execute-api.eu-west-1.amazonaws.com", "User-Agent": "test-client"},
        "multiValueHeaders": {"Host": ["abc123.execute-api.eu-west-1.amazonaws.com"], "User-Agent": ["test-client"]},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {name: [value] for name, value in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "abc123",
            "resourceId": "r3s0urc3",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": 1709283600000,
            "identity": {
                "accountId": ACCOUNT_ID,
                "caller": "AROAEXAMPLE:session-1",
                "sourceIp": "198.51.100.20",
                "userArn": caller,
                "userAgent": "test-client",
            },
        },
        "body": None,
        "isBase64Encoded": False,
    }


def call_api(route: str, **query: str) -> tuple[int, dict[str, Any]]:
    """Invoke the query function in-process as the operator; returns status code and JSON body."""
    return call_api_as(OPERATOR, route, **query)


def call_api_as(caller: str | None, route: str, **query: str) -> tuple[int, dict[str, Any]]:
    """Invoke the query function in-process as ``caller`` (a verified caller ARN)."""
    context = FakeLambdaContext(function_name="object-index-query")
    response = query_api.handler(api_event(route, query or None, caller=caller), context)
    return response["statusCode"], json.loads(response["body"])
