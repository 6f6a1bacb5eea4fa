"""The Kinesis connector JAR gate: a deploy is refused without the pinned JAR, and a
download is installed only if its SHA-256 is the pinned one (checked on local files: Maven
Central is not reachable from the tests)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from flink import connector_jar

CONTENT = b"PK\x03\x04 a stand-in for the connector JAR"
DIGEST = hashlib.sha256(CONTENT).hexdigest()


def _pin(tmp_path: Path, digest: str = DIGEST, version: str = connector_jar.VERSION) -> Path:
    path = tmp_path / "connector_jar.sha256"
    path.write_text(f"{digest}  {version}\n", encoding="utf-8")
    return path


def _download(content: bytes) -> Callable[[str, Path], None]:
    def download(url: str, target: Path) -> None:
        assert url == connector_jar.URL
        target.write_bytes(content)

    return download


def test_the_pin_is_a_maven_central_url_of_the_flink_1_20_connector() -> None:
    assert connector_jar.URL == (
        "https://repo1.maven.org/maven2/org/apache/flink/flink-sql-connector-kinesis/5.0.0-1.20/"
        "flink-sql-connector-kinesis-5.0.0-1.20.jar"
    )
    # The pipeline stack names the same file inside the application's zip.
    from cdk_constructs.streaming.flink_application import CONNECTOR_JAR

    assert connector_jar.JAR.as_posix().endswith(f"flink/streaming/{CONNECTOR_JAR}")


def test_a_deploy_is_refused_without_the_jar(tmp_path: Path) -> None:
    jar = tmp_path / "lib" / "kinesis-connector.jar"
    found = connector_jar.problem(jar, _pin(tmp_path))
    assert found is not None and found.endswith("is missing: run `python -m flink.connector_jar fetch`")


def test_a_deploy_is_refused_with_another_jar(tmp_path: Path) -> None:
    jar = tmp_path / "kinesis-connector.jar"
    jar.write_bytes(CONTENT + b"tampered")
    found = connector_jar.problem(jar, _pin(tmp_path))
    assert found is not None and f"not the pinned {DIGEST}" in found
    jar.write_bytes(CONTENT)
    assert connector_jar.problem(jar, _pin(tmp_path)) is None


@pytest.mark.parametrize(
    "pin", ["", f"{DIGEST}  4.3.0-1.19", "abc  5.0.0-1.20"], ids=["empty", "other-version", "short"]
)
def test_a_deploy_is_refused_without_a_pinned_checksum_for_this_version(tmp_path: Path, pin: str) -> None:
    jar = tmp_path / "kinesis-connector.jar"
    jar.write_bytes(CONTENT)
    checksum_file = tmp_path / "connector_jar.sha256"
    checksum_file.write_text(pin, encoding="utf-8")
    found = connector_jar.problem(jar, checksum_file)
    assert found is not None and found.startswith("no SHA-256 recorded")


def test_fetch_installs_a_download_that_matches_the_pin(tmp_path: Path) -> None:
    jar = tmp_path / "lib" / "kinesis-connector.jar"
    assert connector_jar.install(_download(CONTENT), jar=jar, checksum_file=_pin(tmp_path)) == DIGEST
    assert jar.read_bytes() == CONTENT


def test_fetch_refuses_a_download_that_does_not_match_and_installs_nothing(tmp_path: Path) -> None:
    jar = tmp_path / "lib" / "kinesis-connector.jar"
    with pytest.raises(SystemExit, match="not the pinned"):
        connector_jar.install(_download(b"something else"), jar=jar, checksum_file=_pin(tmp_path))
    assert not jar.exists() and list(jar.parent.iterdir()) == []


def test_fetch_records_a_checksum_only_when_asked(tmp_path: Path) -> None:
    jar = tmp_path / "lib" / "kinesis-connector.jar"
    checksum_file = tmp_path / "connector_jar.sha256"
    with pytest.raises(SystemExit, match="no SHA-256 recorded"):
        connector_jar.install(_download(CONTENT), jar=jar, checksum_file=checksum_file)
    assert not jar.exists()
    connector_jar.install(_download(CONTENT), jar=jar, checksum_file=checksum_file, record=True)
    assert connector_jar.pinned_checksum(checksum_file) == DIGEST
    assert connector_jar.problem(jar, checksum_file) is None


def test_check_exits_1_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(connector_jar, "JAR", tmp_path / "missing.jar")
    monkeypatch.setattr(connector_jar, "CHECKSUM_FILE", _pin(tmp_path))
    assert connector_jar.main(["check"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("flink connector: ") and "missing.jar is missing" in line
