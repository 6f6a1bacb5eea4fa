"""Fixtures for the stream consumer tests: a mocked account (moto) with a one-shard stream,
the events table and the on-failure queue, and the environment the function gets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from moto import mock_aws

from tests.streaming.consumer_support import MAX_AGE_SECONDS, QUEUE, REGION, STREAM, TABLE, consumer


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "EVENTS_TABLE_NAME": TABLE,
        "MAXIMUM_RECORD_AGE_SECONDS": str(MAX_AGE_SECONDS),
        "EVENT_TTL_DAYS": "30",
        "POWERTOOLS_SERVICE_NAME": "stream-consumer-test",
    }.items():
        monkeypatch.setenv(name, value)
    consumer._dynamodb.cache_clear()
    consumer._sqs.cache_clear()
    with mock_aws():
        kinesis = boto3.client("kinesis", region_name=REGION)
        kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
        monkeypatch.setenv("ON_FAILURE_QUEUE_URL", queue_url)
        yield {"kinesis": kinesis, "dynamodb": dynamodb, "sqs": sqs, "queue_url": queue_url}
    monkeypatch.undo()  # a test may have replaced the client factory
    consumer._dynamodb.cache_clear()
    consumer._sqs.cache_clear()
