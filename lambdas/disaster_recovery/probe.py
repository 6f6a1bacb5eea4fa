"""The health probe of one region's DR service: run on a schedule (never behind the API),
it checks that this region's database endpoint accepts a TCP connection and that the
user-files bucket answers, and publishes the verdict as one CloudWatch metric data point
(1 healthy, 0 not). A CloudWatch alarm on that metric is one half of the region's Route 53
health check; the API's own ``GET /health`` (answered by API Gateway, no function) is the
other. No caller of the API can invoke the probe or use up its concurrency.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

NAMESPACE = "DrWorkload"
METRIC = "RegionHealthy"
_CONNECT_TIMEOUT_SECONDS = 2.0


def database_reachable(host: str, port: int) -> bool:
    """Whether the database endpoint accepts a TCP connection (no credentials needed)."""
    if not host:
        return False
    try:
        with socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT_SECONDS):
            return True
    except OSError:
        return False


def bucket_reachable(bucket: str) -> bool:
    if not bucket:
        return False
    try:
        boto3.client("s3").head_bucket(Bucket=bucket)
        return True
    except (ClientError, BotoCoreError):
        return False


def checks() -> dict[str, bool]:
    try:
        port = int(os.environ.get("DATABASE_PORT", "5432"))
    except ValueError:
        port = 0  # a port no database listens on: the check fails, it does not crash
    return {
        "database": 0 < port < 65536 and database_reachable(os.environ.get("DATABASE_HOST", ""), port),
        "files": bucket_reachable(os.environ.get("FILES_BUCKET", "")),
    }


def handler(_event: Any, _context: Any) -> dict[str, Any]:
    """Publish this region's health; the event (a scheduled EventBridge event) is not read."""
    found = checks()
    healthy = all(found.values())
    boto3.client("cloudwatch").put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {
                "MetricName": METRIC,
                "Dimensions": [{"Name": "Service", "Value": os.environ.get("SERVICE_NAME", "")}],
                "Value": 1.0 if healthy else 0.0,
                "Unit": "Count",
            }
        ],
    )
    return {"healthy": healthy, "checks": found}
