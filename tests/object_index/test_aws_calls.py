"""The handlers read with Query and GetItem only (never Scan), and make exactly the
AWS calls their least-privilege IAM policies allow."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import botocore.client  # type: ignore[import-untyped]
import pytest

from .helpers import LAMBDA_DIR, FakeLambdaContext, call_api, created, delete, index_records, removed, upload

# AWS operation -> IAM action the handler's role needs (documented with the pattern).
INDEXER_CALLS = {
    ("dynamodb", "GetItem"),  # dynamodb:GetItem on the table
    ("dynamodb", "PutItem"),  # dynamodb:PutItem on the table
    ("dynamodb", "TransactWriteItems"),  # dynamodb:PutItem + dynamodb:UpdateItem on the table
    ("s3", "HeadObject"),  # s3:GetObject on customers/*, s3:ListBucket on the bucket (404 instead of 403)
}
RECONCILE_CALLS = {
    ("s3", "ListObjectsV2"),  # s3:ListBucket on the bucket, prefix customers/
    ("s3", "HeadObject"),  # s3:GetObject on customers/*
    ("dynamodb", "Query"),  # dynamodb:Query on the table itself (the customer's object items)
    ("dynamodb", "GetItem"),  # dynamodb:GetItem on the table
    ("dynamodb", "PutItem"),  # dynamodb:PutItem on the table
    ("dynamodb", "TransactWriteItems"),  # dynamodb:PutItem + dynamodb:UpdateItem on the table
}
QUERY_API_CALLS = {
    ("dynamodb", "Query"),  # dynamodb:Query on the table's indexes
    ("dynamodb", "GetItem"),  # dynamodb:GetItem on the table
    ("secretsmanager", "GetSecretValue"),  # the pagination key secret, once per execution environment
}


@contextmanager
def recorded_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[tuple[str, str]]]:
    calls: set[tuple[str, str]] = set()
    original: Callable[..., Any] = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        calls.add((self.meta.service_model.service_name, operation_name))
        return original(self, operation_name, api_params)

    with monkeypatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
        yield calls


def test_handler_sources_never_call_scan() -> None:
    for source in sorted(LAMBDA_DIR.glob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                assert node.attr.lower() not in {"scan", "parallel_scan"}, f"{source.name}:{node.lineno}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert node.value not in {"Scan", "scan"}, f"{source.name}:{node.lineno}"


@pytest.mark.usefixtures("aws")
def test_indexer_makes_only_the_calls_its_role_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "customers/acme/a.txt"
    upload(key, b"version two")
    records = [
        created(key, b"version one", "0A", "2024-03-01T09:00:00.000Z"),  # ETag differs from S3: no metadata
        created(key, b"version two", "0B", "2024-03-01T10:00:00.000Z"),  # overwrite
        created(key, b"version two", "0B", "2024-03-01T10:00:00.000Z"),  # duplicate
        removed(key, "0C", "2024-03-01T11:00:00.000Z"),  # delete
        removed("customers/acme/never-indexed.txt", "01", "2024-03-01T11:00:00.000Z"),  # tombstone only
        created("customers/acme/gone.txt", b"x", "01", "2024-03-01T11:00:00.000Z"),  # object no longer in S3
    ]
    with recorded_calls(monkeypatch) as calls:
        index_records(*records)
    assert calls == INDEXER_CALLS


@pytest.mark.usefixtures("aws")
def test_query_api_makes_only_the_calls_its_role_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    upload("customers/acme/a.txt", b"abc", content_type="text/plain", classification="public")
    index_records(created("customers/acme/a.txt", b"abc", "0A", "2024-03-01T09:00:00.000Z"))
    with recorded_calls(monkeypatch) as calls:
        for path, query in [
            ("/customers/acme/objects", {"limit": "1"}),
            ("/customers/acme/totals", {}),
            ("/customers/acme/objects/by-attribute", {"name": "content_type", "value": "text/plain"}),
            ("/customers/acme/objects/by-attribute", {"name": "classification", "value": "public"}),
            ("/customers/acme/objects/by-date", {"start": "2024-03-01", "end": "2024-03-01"}),
            ("/uploads/by-day", {"date": "2024-03-01", "limit": "1"}),
        ]:
            status, _ = call_api(path, **query)
            assert status == 200
    assert calls == QUERY_API_CALLS


@pytest.mark.usefixtures("aws")
def test_reconcile_makes_only_the_calls_its_role_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    from .test_reconcile import reconcile

    upload("customers/acme/a.txt", b"abc")
    upload("customers/acme/b.txt", b"b")
    upload("customers/acme/c.txt", b"c")
    index_records(
        created("customers/acme/a.txt", b"abc", "0A", "2024-03-01T09:00:00.000Z"),
        created("customers/acme/b.txt", b"b", "0A", "2024-03-01T09:00:00.000Z"),
    )
    upload("customers/acme/b.txt", b"B")  # lost overwrite of the same size: a plain PutItem
    delete("customers/acme/a.txt")  # lost delete
    with recorded_calls(monkeypatch) as calls:
        reconcile.handler({"customer_id": "acme"}, FakeLambdaContext())
    assert calls == RECONCILE_CALLS
