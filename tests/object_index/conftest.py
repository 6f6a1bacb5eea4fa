"""Fixtures for the object index Lambda handler tests.

Everything runs in-process against moto: fake credentials, no network. The
environment changes are scoped to this package so other tests do not see them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.client  # type: ignore[import-untyped]
import pytest
from moto import mock_aws

from . import helpers

_FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": helpers.REGION,
    "AWS_REGION": helpers.REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "INDEX_TABLE_NAME": helpers.TABLE_NAME,
    "OBJECT_BUCKET_NAME": helpers.BUCKET,
    "OPERATOR_ROLE_NAME": helpers.OPERATOR_ROLE,
    "CUSTOMER_ROLE_PREFIX": helpers.CUSTOMER_ROLE_PREFIX,
    "PAGINATION_KEY_SECRET_ID": helpers.PAGINATION_KEY_SECRET_NAME,
    "POWERTOOLS_SERVICE_NAME": "object-index-test",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The indexer flushes its metrics after every invocation; most invocations have none.
    for item in items:
        if item.nodeid.startswith("tests/object_index/"):
            item.add_marker(pytest.mark.filterwarnings("ignore:No application metrics to publish"))


@pytest.fixture(scope="package", autouse=True)
def handler_environment() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AWS_PROFILE", raising=False)
        for name, value in _FAKE_ENVIRONMENT.items():
            patch.setenv(name, value)
        helpers.reset_handler_caches()
        yield
    helpers.reset_handler_caches()


@pytest.fixture(autouse=True)
def forbid_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any DynamoDB Scan during these tests fails the test: the design uses Query only."""
    original = botocore.client.BaseClient._make_api_call

    def guarded(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if operation_name in {"Scan", "ParallelScan"}:
            raise AssertionError(f"{operation_name} called with {api_params!r}")
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", guarded)


@pytest.fixture
def aws() -> Iterator[None]:
    """A fresh mocked account with the index table, an empty source bucket and the
    pagination key secret."""
    with mock_aws():
        helpers.reset_handler_caches()
        helpers.create_table()
        helpers.create_bucket()
        helpers.create_pagination_secret()
        yield
    helpers.reset_handler_caches()
