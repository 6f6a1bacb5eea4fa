"""Run cfn-lint and checkov once over a set of templates and index the findings by file.

Both are this virtualenv's own, run on templates this project wrote. Each runs in one
long-lived process per Python process (:mod:`analysis.scanner_worker`), started on first
use: a test session scans a dozen sets of templates and would otherwise pay each
scanner's start, longer than a template's scan, every time. A template is scanned once
per process for its content: the same bytes in another assembly (a sandbox pattern alone
and all of them together) get the findings already found, under their own file name.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from analysis.result_cache import digest

# No call home for check metadata: everything here is offline.
_OFFLINE = {"BC_SKIP_MAPPING": "TRUE", "CKV_NO_UPDATE_CHECK": "TRUE"}


class _Scanner:
    """One scanner's worker process, asked one request at a time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[bytes] | None = None  # the worker's own errors, for the message if it dies

    def run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self.close()
                self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker; close() ends it
                self._process = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
                    [sys.executable, "-m", "analysis.scanner_worker", self.name],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=self._stderr,
                    text=True,
                    cwd=Path(__file__).resolve().parents[1],
                    env={**os.environ, **_OFFLINE},
                )
            stdin, stdout = self._pipes()
            try:
                stdin.write(json.dumps({"argv": argv}) + "\n")
                stdin.flush()
                answer = stdout.readline()
            except (BrokenPipeError, OSError):
                answer = ""
            if not answer:  # the worker died: the next request starts a new one
                last_words = self._last_words()
                self.close()
                raise RuntimeError(f"{self.name} did not run: its process ended without an answer{last_words}")
            reply = json.loads(answer)
            return subprocess.CompletedProcess(argv, reply["code"], reply["stdout"], reply["stderr"])

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        assert self._process is not None and self._process.stdin and self._process.stdout
        return self._process.stdin, self._process.stdout

    def _last_words(self) -> str:
        if self._process is not None:
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        return f": {lines[-1]}" if lines else ""

    def close(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._process is not None:
            if self._process.stdin:
                self._process.stdin.close()  # the worker ends when its stdin closes
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None


_SCANNERS = {name: _Scanner(name) for name in ("cfn-lint", "checkov")}


@atexit.register
def _close_all() -> None:
    for scanner in _SCANNERS.values():
        scanner.close()


# Findings by (scanner, SHA-256 of a template's bytes), for this process.
_BY_CONTENT: dict[tuple[str, str], Any] = {}


def _by_content(scanner: str, templates: tuple[Path, ...], scan: Callable[[tuple[Path, ...]], Any]) -> dict[str, Any]:
    """Each template's findings by file name, scanning only contents not scanned before
    (each once, however many of ``templates`` hold it). Neither scanner relates one
    template to another: findings of a template are the same in any company."""
    keys = {template: (scanner, digest(template.read_bytes())) for template in templates}
    unscanned: dict[tuple[str, str], Path] = {}
    for template, key in keys.items():
        if key not in _BY_CONTENT:
            unscanned.setdefault(key, template)
    if unscanned:
        found = scan(tuple(unscanned.values()))
        for key, template in unscanned.items():
            _BY_CONTENT[key] = found[template.name]
    return {template.name: _BY_CONTENT[key] for template, key in keys.items()}


def _absolute(templates: tuple[Path, ...]) -> list[str]:
    """The workers run in the project's folder, not necessarily the caller's."""
    return [str(template.resolve()) for template in templates]


def cfn_lint(templates: tuple[Path, ...]) -> dict[str, list[dict[str, Any]]]:
    """cfn-lint findings (errors, warnings and informational) per template file name."""
    return defaultdict(list, _by_content("cfn-lint", templates, _cfn_lint))


def _cfn_lint(templates: tuple[Path, ...]) -> dict[str, list[dict[str, Any]]]:
    """cfn-lint leaves its informational checks out unless asked (``--include-checks I``);
    they are asked for, so that an informational finding fails the gate like the others."""
    result = _SCANNERS["cfn-lint"].run(["--format", "json", "--include-checks", "I", "--", *_absolute(templates)])
    if result.returncode not in (0, 2, 4, 6, 8, 10, 12, 14) or not result.stdout.strip():
        raise RuntimeError(f"cfn-lint did not run: {result.stderr.strip()}")
    findings: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for match in json.loads(result.stdout):
        findings[Path(match["Filename"]).name].append(match)
    return findings


def checkov(templates: tuple[Path, ...]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """checkov results per template file name: {"failed": [...], "skipped": [...], "passed": [...]}."""
    return _by_content("checkov", templates, _checkov)


def _checkov(templates: tuple[Path, ...]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    args = ["--framework", "cloudformation", "--output", "json", "--skip-download"]
    for template in _absolute(templates):
        args += ["--file", template]
    result = _SCANNERS["checkov"].run(args)
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise RuntimeError(f"checkov did not run: {result.stderr.strip()[-2000:]}")
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    by_file: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: {"failed": [], "skipped": [], "passed": []}
    )
    for report in reports:
        if report.get("check_type") != "cloudformation":
            continue
        results = report["results"]
        for kind in ("failed", "skipped", "passed"):
            for check in results.get(f"{kind}_checks", []):
                by_file[Path(check["file_path"]).name][kind].append(check)
        if results.get("parsing_errors"):
            raise RuntimeError(f"checkov could not parse: {results['parsing_errors']}")
    return by_file
