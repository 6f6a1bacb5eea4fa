"""The indexer's and the reconcile function's configuration and AWS clients, read once per
execution environment.

Environment: ``INDEX_TABLE_NAME`` and ``OBJECT_BUCKET_NAME`` (required).
"""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]

_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=10)


@functools.cache
def table_name() -> str:
    name = os.environ.get("INDEX_TABLE_NAME", "").strip()
    if not name:
        raise RuntimeError("INDEX_TABLE_NAME environment variable is not set")
    return name


@functools.cache
def bucket_name() -> str:
    name = os.environ.get("OBJECT_BUCKET_NAME", "").strip()
    if not name:
        raise RuntimeError("OBJECT_BUCKET_NAME environment variable is not set")
    return name


@functools.cache
def dynamodb() -> Any:
    return boto3.client("dynamodb", config=_BOTO_CONFIG)


@functools.cache
def s3() -> Any:
    return boto3.client("s3", config=_BOTO_CONFIG)
