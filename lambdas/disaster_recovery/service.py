"""The sample workload of the disaster-recovery pattern: a health endpoint for Route 53
and the user files, behind API Gateway (REST, Lambda proxy integration).

``GET /health`` answers 200 only when this region can serve: the database endpoint of
this region accepts a TCP connection and the user-files bucket answers. Route 53 fails
over when it does not. ``GET /files/{name}`` returns a user file.
"""

from __future__ import annotations

import json
import os
import re
import socket
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

_NAME = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
_CONNECT_TIMEOUT_SECONDS = 2.0


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


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
    try:
        boto3.client("s3").head_bucket(Bucket=bucket)
        return True
    except ClientError:
        return False


def health() -> dict[str, Any]:
    checks = {
        "database": database_reachable(
            os.environ.get("DATABASE_HOST", ""), int(os.environ.get("DATABASE_PORT", "5432"))
        ),
        "files": bucket_reachable(os.environ["FILES_BUCKET"]),
    }
    status = 200 if all(checks.values()) else 503
    return _response(status, {"region": os.environ.get("AWS_REGION", ""), "checks": checks})


def get_file(name: object) -> dict[str, Any]:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name.startswith("."):
        return _response(400, {"message": "a file name is 1 to 200 letters, digits, dots, hyphens or underscores"})
    try:
        obj = boto3.client("s3").get_object(Bucket=os.environ["FILES_BUCKET"], Key=f"files/{name}")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return _response(404, {"message": "no such file"})
        raise
    body = obj["Body"].read(1_000_000)  # the proxy response is at most 6 MB; files here are small
    return _response(200, {"name": name, "size": obj["ContentLength"], "text": body.decode("utf-8", "replace")})


def handler(event: Any, _context: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        return _response(400, {"message": "not an API Gateway proxy event"})
    resource = event.get("resource")
    if resource == "/health":
        return health()
    if resource == "/files/{name}":
        parameters = event.get("pathParameters") or {}
        return get_file(parameters.get("name") if isinstance(parameters, dict) else None)
    return _response(404, {"message": "no such route"})
