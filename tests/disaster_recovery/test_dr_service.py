"""The DR workload's handler, in-process against moto: the health endpoint says down
when either the database or the files are out of reach, and the file route refuses
hostile names."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdas.disaster_recovery import service

REGION = "eu-central-1"
BUCKET = "exampleco-files-666666666666-eu-central-1"


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[Any]:
    """One mocked account for the module (starting moto is most of a test's time)."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.setenv("AWS_REGION", REGION)
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield s3


@pytest.fixture
def aws(moto_s3: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("FILES_BUCKET", BUCKET)
    return moto_s3


@pytest.fixture
def database() -> Iterator[int]:
    """A local TCP listener standing in for the database endpoint."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def _call(resource: str, **event: Any) -> tuple[int, dict[str, Any]]:
    response = service.handler({"resource": resource, **event}, None)
    return response["statusCode"], json.loads(response["body"])


def test_health_is_up_when_database_and_files_answer(aws: Any, database: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_HOST", "127.0.0.1")
    monkeypatch.setenv("DATABASE_PORT", str(database))
    status, body = _call("/health")
    assert status == 200 and body == {"region": REGION, "checks": {"database": True, "files": True}}


def test_health_is_down_without_a_database(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # nothing listens once this closes
    monkeypatch.setenv("DATABASE_HOST", "127.0.0.1")
    monkeypatch.setenv("DATABASE_PORT", str(port))
    status, body = _call("/health")
    assert status == 503 and body["checks"] == {"database": False, "files": True}


def test_health_is_down_when_no_database_is_configured(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_HOST", raising=False)
    status, body = _call("/health")
    assert status == 503 and body["checks"]["database"] is False


def test_health_is_down_without_the_files_bucket(aws: Any, database: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_HOST", "127.0.0.1")
    monkeypatch.setenv("DATABASE_PORT", str(database))
    monkeypatch.setenv("FILES_BUCKET", "no-such-bucket-here")
    status, body = _call("/health")
    assert status == 503 and body["checks"] == {"database": True, "files": False}


def test_file_is_returned(aws: Any) -> None:
    aws.put_object(Bucket=BUCKET, Key="files/report.txt", Body=b"quarterly numbers")
    status, body = _call("/files/{name}", pathParameters={"name": "report.txt"})
    assert status == 200 and body == {"name": "report.txt", "size": 17, "text": "quarterly numbers"}


def test_missing_file_is_404(aws: Any) -> None:
    status, _ = _call("/files/{name}", pathParameters={"name": "absent.txt"})
    assert status == 404


@pytest.mark.parametrize(
    "name", ["../secrets", "..", ".hidden", "a/b", "", "x" * 201, None, 7, "name with space", "%2e%2e"]
)
def test_hostile_file_names_are_refused(aws: Any, name: Any) -> None:
    aws.put_object(Bucket=BUCKET, Key="secrets", Body=b"not for you")
    status, _ = _call("/files/{name}", pathParameters={"name": name})
    assert status == 400


@pytest.mark.parametrize(
    "event", [None, [], "text", {"resource": "/admin"}, {"resource": "/files/{name}", "pathParameters": "x"}]
)
def test_malformed_events_get_a_client_error(aws: Any, event: Any) -> None:
    response = service.handler(event, None)
    assert response["statusCode"] in (400, 404)
