"""The DR workload's handlers, in-process against moto: the health probe publishes
"down" when either the database or the files are out of reach (and never crashes on a
broken environment), the service no longer answers health requests, and the file route
refuses hostile names."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdas.disaster_recovery import probe, service

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


def _probe(service_name: str) -> tuple[dict[str, Any], float]:
    """Run the probe once; its verdict and the value of the data point it published."""
    result = probe.handler({"source": "aws.events"}, None)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    (metric,) = cloudwatch.list_metrics(
        Namespace=probe.NAMESPACE,
        MetricName=probe.METRIC,
        Dimensions=[{"Name": "Service", "Value": service_name}],
    )["Metrics"]
    points = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "m", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Minimum"}}],
        StartTime=datetime.now(UTC) - timedelta(minutes=5),
        EndTime=datetime.now(UTC) + timedelta(minutes=5),
    )["MetricDataResults"][0]["Values"]
    return result, min(points)


@pytest.fixture
def probe_env(aws: Any, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """A service name of the test's own, so that each test reads only its own data point."""
    name = f"dr-standby-{request.node.name}"
    monkeypatch.setenv("SERVICE_NAME", name)
    return name


def test_probe_reports_healthy_when_database_and_files_answer(
    probe_env: str, database: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_HOST", "127.0.0.1")
    monkeypatch.setenv("DATABASE_PORT", str(database))
    result, value = _probe(probe_env)
    assert result == {"healthy": True, "checks": {"database": True, "files": True}} and value == 1.0


def test_probe_reports_down_without_a_database(probe_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # nothing listens once this closes
    monkeypatch.setenv("DATABASE_HOST", "127.0.0.1")
    monkeypatch.setenv("DATABASE_PORT", str(port))
    result, value = _probe(probe_env)
    assert result["checks"] == {"database": False, "files": True} and value == 0.0


def test_probe_reports_down_when_no_database_is_configured(probe_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_HOST", raising=False)  # pilot light: the secondary has no instance
    result, value = _probe(probe_env)
    assert result["checks"]["database"] is False and value == 0.0


def test_probe_reports_down_without_the_files_bucket(
    probe_env: str, database: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_HOST", "127.0.0.1")
    monkeypatch.setenv("DATABASE_PORT", str(database))
    monkeypatch.setenv("FILES_BUCKET", "no-such-bucket-here")
    result, value = _probe(probe_env)
    assert result["checks"] == {"database": True, "files": False} and value == 0.0


@pytest.mark.parametrize(
    ("variable", "value"), [("DATABASE_PORT", "not-a-port"), ("DATABASE_PORT", "70000"), ("FILES_BUCKET", "")]
)
def test_probe_reports_down_on_a_broken_environment_instead_of_crashing(
    probe_env: str, database: int, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv("DATABASE_HOST", "127.0.0.1")
    monkeypatch.setenv("DATABASE_PORT", str(database))
    monkeypatch.setenv(variable, value)
    result, published = _probe(probe_env)
    assert result["healthy"] is False and published == 0.0


def test_the_service_does_not_answer_health_requests(aws: Any, database: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """API Gateway answers GET /health itself; a health request that reached the function
    (a wrong integration) gets no verdict from it."""
    monkeypatch.setenv("DATABASE_HOST", "127.0.0.1")
    monkeypatch.setenv("DATABASE_PORT", str(database))
    status, _ = _call("/health")
    assert status == 404


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
