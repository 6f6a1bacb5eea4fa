"""The sample workload of the disaster-recovery pattern: the user files, behind API
Gateway (REST, Lambda proxy integration). ``GET /files/{name}`` returns a user file.

``GET /health`` never reaches this function: API Gateway answers it itself, and the
scheduled probe (``probe.py``) checks the database and the bucket, so a flood of health
requests cannot use the service's concurrency.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

_NAME = re.compile(r"^[A-Za-z0-9._-]{1,200}$")


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


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
    if resource == "/files/{name}":
        parameters = event.get("pathParameters") or {}
        return get_file(parameters.get("name") if isinstance(parameters, dict) else None)
    return _response(404, {"message": "no such route"})
