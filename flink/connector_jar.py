"""The Flink application's Kinesis connector JAR: one pinned version, fetched and verified.

A Python Flink application reads Kinesis through the connector JAR inside its zip
(``lib/kinesis-connector.jar``, named by the ``jarfile`` run option the pipeline stack
sets). The JAR is published to Maven Central, which this project's build does not install
from, so it is not in the repository. Two commands:

    python -m flink.connector_jar fetch   # download the pinned version, verify, install
    python -m flink.connector_jar check   # one line and exit status 1 if it is missing or wrong

Every deploy path runs ``check`` first (``make flink-connector-check``): without the JAR the
application would be created and then fail to start, found only by ``FlinkDowntimeAlarm``.

The pin is the version and the JAR's SHA-256. The SHA-256 is recorded by
``fetch --record-checksum`` once, from a machine that reaches Maven Central, after
comparing the download with the ``.sha1`` Maven Central publishes beside it; until it is
recorded, ``check`` refuses (an unverified JAR is not deployed). Imports nothing of the
project (the layer rule for ``flink/``).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

GROUP = "org.apache.flink"
ARTIFACT = "flink-sql-connector-kinesis"
VERSION = "5.0.0-1.20"  # the AWS connectors' release for Flink 1.20, the application's runtime
URL = f"https://repo1.maven.org/maven2/{GROUP.replace('.', '/')}/{ARTIFACT}/{VERSION}/{ARTIFACT}-{VERSION}.jar"
ROOT = Path(__file__).resolve().parent
JAR = ROOT / "streaming" / "lib" / "kinesis-connector.jar"
CHECKSUM_FILE = ROOT / "connector_jar.sha256"  # "<sha256>  <version>", committed once recorded


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pinned_checksum(checksum_file: Path = CHECKSUM_FILE) -> str | None:
    """The recorded SHA-256 of :data:`VERSION`, or None if none is recorded for it."""
    if not checksum_file.is_file():
        return None
    fields = checksum_file.read_text(encoding="utf-8").split()
    if len(fields) != 2 or fields[1] != VERSION or len(fields[0]) != 64:
        return None
    return fields[0].lower()


def problem(jar: Path = JAR, checksum_file: Path = CHECKSUM_FILE) -> str | None:
    """Why the application must not be deployed with ``jar``, or None if it may."""
    expected = pinned_checksum(checksum_file)
    if expected is None:
        return (
            f"no SHA-256 recorded for {ARTIFACT} {VERSION} in {checksum_file.name}: run "
            "`python -m flink.connector_jar fetch --record-checksum` where Maven Central is reachable"
        )
    if not jar.is_file():
        return f"{jar} is missing: run `python -m flink.connector_jar fetch`"
    actual = sha256_of(jar)
    if not hmac.compare_digest(actual, expected):
        return f"{jar} has SHA-256 {actual}, not the pinned {expected} of {ARTIFACT} {VERSION}: fetch it again"
    return None


def install(
    download: Callable[[str, Path], None],
    *,
    jar: Path = JAR,
    checksum_file: Path = CHECKSUM_FILE,
    record: bool = False,
) -> str:
    """Download to a temporary file, verify against the pin (or record it), then move the
    file into place; a file that fails the check never reaches ``jar``."""
    jar.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=jar.parent) as folder:
        partial = Path(folder) / "download.jar"
        download(URL, partial)
        actual = sha256_of(partial)
        expected = pinned_checksum(checksum_file)
        if expected is None and record:
            checksum_file.write_text(f"{actual}  {VERSION}\n", encoding="utf-8")
            expected = actual
        if expected is None:
            raise SystemExit(problem(jar, checksum_file))
        if not hmac.compare_digest(actual, expected):
            raise SystemExit(f"downloaded {ARTIFACT} {VERSION} has SHA-256 {actual}, not the pinned {expected}")
        partial.replace(jar)
    return actual


def _urlopen(url: str, target: Path) -> None:  # pragma: no cover - needs Maven Central
    with urllib.request.urlopen(url, timeout=60) as response, target.open("wb") as file:  # noqa: S310 - fixed https URL
        while block := response.read(1 << 20):
            file.write(block)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flink.connector_jar", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("fetch", help=f"download {ARTIFACT} {VERSION} into flink/streaming/lib/")
    fetch.add_argument("--record-checksum", action="store_true", help="record the SHA-256 if none is pinned yet")
    commands.add_parser("check", help="exit 1 unless the pinned JAR is in place")
    arguments = parser.parse_args(argv)
    if arguments.command == "fetch":
        print(f"{JAR}: {install(_urlopen, record=arguments.record_checksum)}")
        return 0
    found = problem(JAR, CHECKSUM_FILE)
    if found is not None:
        print(f"flink connector: {found}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
