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


def _smallest(synthesis: Synthesis, count: int) -> list[Path]:
    """The example's smallest templates: real ones, quick to scan."""
    return sorted((s.template_path for s in synthesis.stacks), key=lambda path: path.stat().st_size)[:count]


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
    first, second = _smallest(synthesis, 2)

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
    assert not scanners.cfn_lint((template,))[template.name]
    assert not scanners.checkov((template,))[template.name]["failed"]

    template.write_text(json.dumps(_BROKEN))
    assert "E3002" in {m["Rule"]["Id"] for m in scanners.cfn_lint((template,))[template.name]}
    assert "CKV_AWS_18" in {c["check_id"] for c in scanners.checkov((template,))[template.name]["failed"]}


def test_a_scanner_process_that_died_is_started_again(tmp_path: Path) -> None:
    template = tmp_path / "broken.template.json"
    template.write_text(json.dumps(_BROKEN))
    scanner = scanners._SCANNERS["cfn-lint"]
    scanner.run(["--version"])
    assert scanner._process is not None
    scanner._process.kill()
    scanner._process.wait()

    assert scanners.cfn_lint((template,))[template.name]


def test_a_scanner_that_cannot_start_is_an_error_not_a_pass() -> None:
    with pytest.raises(RuntimeError, match=r"no-such-scanner did not run: .*KeyError: 'no-such-scanner'"):
        scanners._Scanner("no-such-scanner").run(["--version"])


@pytest.mark.parametrize("name", SCANNERS)
def test_a_template_gets_the_same_findings_alone_as_among_others(
    name: str, synthesis: Synthesis, tmp_path: Path
) -> None:
    """What lets a template's findings be reused by its content: no scanner relates one
    template to another. Scanned one by one and all together, each gets the same findings."""
    scan = {"cfn-lint": scanners._cfn_lint, "checkov": scanners._checkov}[name]
    broken = tmp_path / "broken.template.json"
    broken.write_text(json.dumps(_BROKEN))
    templates = (broken, *_smallest(synthesis, 2))

    together = scan(templates)
    alone = {template.name: scan((template,))[template.name] for template in templates}

    def identity(found: Any) -> list[str]:
        checks = found if isinstance(found, list) else [c for kind in found.values() for c in kind]
        return sorted(json.dumps({k: v for k, v in c.items() if k in _IDENTITY}, sort_keys=True) for c in checks)

    assert identity(together[broken.name])
    assert {t.name: identity(together[t.name]) for t in templates} == {t: identity(f) for t, f in alone.items()}


_IDENTITY = {"Rule", "Level", "Message", "Location", "check_id", "resource", "check_result", "file_line_range"}


def test_a_template_scanned_before_is_not_scanned_again_under_another_name(
    synthesis: Synthesis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = synthesis.stacks[0].template_path
    scanners.cfn_lint((original,)), scanners.checkov((original,))
    copy = tmp_path / "renamed.template.json"
    copy.write_bytes(original.read_bytes())

    monkeypatch.setattr(scanners, "_SCANNERS", {})  # any scan now fails
    assert scanners.cfn_lint((copy,))[copy.name] == scanners.cfn_lint((original,))[original.name]
    assert scanners.checkov((copy,))[copy.name] == scanners.checkov((original,))[original.name]
    copy.write_bytes(original.read_bytes() + b"\n")
    with pytest.raises(KeyError, match="cfn-lint"):  # a changed byte is new content: a scan
        scanners.cfn_lint((copy,))


def test_a_path_relative_to_the_callers_folder_is_scanned_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers run in the project's folder; a relative path means the caller's."""
    (tmp_path / "relative.template.json").write_text(json.dumps({**_BROKEN, "Description": "relative"}))
    monkeypatch.chdir(tmp_path)
    relative = Path("relative.template.json")
    assert "E3002" in {m["Rule"]["Id"] for m in scanners.cfn_lint((relative,))[relative.name]}
    assert "CKV_AWS_18" in {c["check_id"] for c in scanners.checkov((relative,))[relative.name]["failed"]}
