"""cfn-lint and checkov run in long-lived processes; they must answer exactly as their
command lines do, for every scan, however many came before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from analysis import scanners
from tests.support.synthesis import Synthesis

_BIN = Path(sys.executable).parent

# A public bucket and a queue with a property that does not exist: findings for both scanners.
_BROKEN: dict[str, Any] = {
    "Resources": {
        "Open": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Misspelt": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeoutSeconds": 30}},
    }
}


def _cfn_lint_argv(templates: list[Path]) -> list[str]:
    return ["--format", "json", "--include-checks", "I", "--", *map(str, templates)]


def _checkov_argv(templates: list[Path]) -> list[str]:
    return ["--framework", "cloudformation", "--output", "json", "--skip-download"] + [
        arg for template in templates for arg in ("--file", str(template))
    ]


def _cfn_lint_findings(stdout: str) -> list[tuple[str, ...]]:
    return sorted(
        (Path(m["Filename"]).name, m["Rule"]["Id"], m["Level"], m["Message"]) for m in json.loads(stdout or "[]")
    )


def _checkov_findings(stdout: str) -> list[tuple[str, ...]]:
    reports = json.loads(stdout)
    return sorted(
        (kind, Path(check["file_path"]).name, check["resource"], check["check_id"])
        for report in (reports if isinstance(reports, list) else [reports])
        for kind in ("passed_checks", "failed_checks", "skipped_checks")
        for check in report["results"].get(kind, [])
    )


SCANNERS = {
    "cfn-lint": (_cfn_lint_argv, _cfn_lint_findings),
    "checkov": (_checkov_argv, _checkov_findings),
}


@pytest.mark.parametrize("name", SCANNERS)
def test_a_scan_after_another_answers_as_the_command_line_does(name: str, synthesis: Synthesis, tmp_path: Path) -> None:
    """The second scan names other files than the first: a process that kept the first
    scan's templates (checkov's runners do, unless replaced) would answer from them."""
    argv, findings = SCANNERS[name]
    broken = tmp_path / "broken.template.json"
    broken.write_text(json.dumps(_BROKEN))
    first, second = synthesis.stacks[0].template_path, synthesis.stacks[1].template_path

    scanners._SCANNERS[name].run(argv([first]))
    worker = scanners._SCANNERS[name].run(argv([broken, second]))
    command_line = subprocess.run(
        [str(_BIN / name), *argv([broken, second])],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **scanners._OFFLINE},
    )

    assert worker.returncode == command_line.returncode != 0
    assert findings(worker.stdout) == findings(command_line.stdout)
    assert any(broken.name in finding for finding in findings(worker.stdout))


def test_a_template_changed_in_place_is_scanned_again(tmp_path: Path) -> None:
    template = tmp_path / "changing.template.json"
    template.write_text(json.dumps({"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}))
    assert not scanners.cfn_lint.__wrapped__((template,))
    assert not scanners.checkov.__wrapped__((template,))[template.name]["failed"]

    template.write_text(json.dumps(_BROKEN))
    assert "E3002" in {m["Rule"]["Id"] for m in scanners.cfn_lint.__wrapped__((template,))[template.name]}
    assert "CKV_AWS_18" in {c["check_id"] for c in scanners.checkov.__wrapped__((template,))[template.name]["failed"]}


def test_a_scanner_process_that_died_is_started_again(tmp_path: Path) -> None:
    template = tmp_path / "broken.template.json"
    template.write_text(json.dumps(_BROKEN))
    scanner = scanners._SCANNERS["cfn-lint"]
    scanner.run(["--version"])
    assert scanner._process is not None
    scanner._process.kill()
    scanner._process.wait()

    assert scanners.cfn_lint.__wrapped__((template,))[template.name]


def test_a_scanner_that_cannot_start_is_an_error_not_a_pass() -> None:
    with pytest.raises(RuntimeError, match="no-such-scanner did not run"):
        scanners._Scanner("no-such-scanner").run(["--version"])
