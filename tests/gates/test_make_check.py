"""`make check` on organizations of other shapes than the example's: every gate passes on
each committed organization, a template that breaks a gate is reported with the gate and
the finding named, and the check ends in one line, never a traceback, when it cannot go on.

The committed organizations (``tests/configs/``): a second organization of the example's
shape in us-east-1; one with three sandbox accounts and none suspended, its own names and
segment policy; and one with only the organization pattern.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from analysis.assembly import StackTemplate
from analysis.gates import TEMPLATE_GATES, Finding, guardrail_table, run_template_gates
from org_config import OrgConfig, parse_config
from tests.support.synthesis import Synthesis, committed_organization, synthesize_organization, temporary_outdir
from tools import check, docs
from tools.check import render

ROOT = Path(__file__).resolve().parents[2]
SECOND = ROOT / "tests" / "configs" / "second_organization.yaml"
ORGANIZATIONS = ("second_organization", "three_sandboxes", "organization_only")
GATES = {"cfn-lint", "checkov", "control-tower", "cdk-nag", "limits", "retention", "offline", "guardrails"}


def _check(config: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("ORG_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "tools.check", "--config", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )


def test_make_check_passes_every_gate_on_an_organization_of_another_shape() -> None:
    """The command itself, end to end (CLI synth, every gate, the second synth for
    determinism, the guardrail table), on the organization least like the example."""
    result = _check(ROOT / "tests" / "configs" / "three_sandboxes.yaml")
    table, _, _ = result.stdout.partition("\n\n")
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()[1:] if line.strip()}
    assert GATES | {"determinism", "deployability"} <= set(rows), result.stdout + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    assert not {gate for gate, row in rows.items() if row[-1] != "0"}, result.stdout


# three_sandboxes is the organization `make check` itself runs on above: the same gates
# on the same templates, so they are not run on it a second time here.
@pytest.mark.parametrize("organization", [name for name in ORGANIZATIONS if name != "three_sandboxes"])
def test_every_gate_of_make_check_passes_on_each_committed_organization(organization: str) -> None:
    """The same gate functions `make check` runs, on each other organization's synth (shared
    with the other tests of these organizations, so each is synthesized once per session)."""
    synthesis = committed_organization(organization)
    assert synthesis.validation_error is None, synthesis.validation_error  # cdk-nag and Control Tower at synth
    config = parse_config((ROOT / "tests" / "configs" / f"{organization}.yaml").read_text(encoding="utf-8"))
    findings = [f for found in run_template_gates(synthesis.stacks).values() for f in found]
    findings += guardrail_table(config, synthesis.stacks)
    assert [str(f) for f in findings] == []


def _broken_log_archive(synthesis: Synthesis, workdir: Path) -> StackTemplate:
    """The organization's log-archive stack with its first central log bucket (one no
    scanner skips) left deletable, unencrypted, unversioned, unlogged and without its
    public access block, written where the scanners read it."""
    stack = next(s for s in synthesis.stacks if s.name.startswith("log-archive-baseline-"))
    template = copy.deepcopy(stack.template)
    bucket = next(
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::S3::Bucket" and "checkov" not in r.get("Metadata", {})
    )
    bucket["DeletionPolicy"] = bucket["UpdateReplacePolicy"] = "Delete"
    for setting in ("BucketEncryption", "PublicAccessBlockConfiguration", "VersioningConfiguration"):
        bucket["Properties"].pop(setting)
    path = workdir / stack.template_path.name
    path.write_text(json.dumps(template), encoding="utf-8")
    return StackTemplate(stack.name, stack.account, stack.region, path, template)


@pytest.mark.parametrize("organization", ORGANIZATIONS)
def test_a_template_that_breaks_a_gate_is_reported_with_the_gate_and_finding(organization: str, tmp_path: Path) -> None:
    synthesis = committed_organization(organization)
    broken = _broken_log_archive(synthesis, tmp_path)
    # Every template gate but deployability, which reads the order from the whole assembly's
    # manifest (its own tests break the assembly); this template is copied out alone.
    findings = [f for name, gate in TEMPLATE_GATES.items() if name != "deployability" for f in gate([broken])]
    by_gate = {f.gate for f in findings}
    assert {"retention", "checkov", "control-tower"} <= by_gate, findings
    assert all(f.stack == broken.name for f in findings)
    assert any(f.gate == "retention" and "is not retained on delete and replace" in f.message for f in findings)
    assert any(f.gate == "checkov" and f.message.startswith("CKV_AWS_21 AWS::S3::Bucket.") for f in findings)
    assert any(f.gate == "control-tower" and f.message.startswith("CT.S3.PR.1 ") for f in findings)
    table = render({gate: 1 for gate in sorted(by_gate)}, findings).splitlines()
    rows = {line.split()[0]: int(line.split()[-1]) for line in table[1 : 1 + len(by_gate)]}
    assert rows == {gate: sum(1 for f in findings if f.gate == gate) for gate in by_gate}
    assert all(f"{f.gate}: {broken.name}: {f.message}" in table for f in findings)


def test_a_gate_that_cannot_evaluate_the_organization_is_a_finding_of_that_gate() -> None:
    def crashes() -> list[Finding]:
        raise ValueError("the guardrail table names account 'sandbox', which the organization does not have")

    assert check._guarded("guardrails", crashes) == [
        Finding(
            "guardrails",
            "-",
            "the gate cannot evaluate this organization: ValueError: the guardrail table names account "
            "'sandbox', which the organization does not have",
        )
    ]


def test_the_check_ends_in_one_line_when_it_cannot_go_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_cli(*_: object, **__: object) -> object:
        raise FileNotFoundError(2, "No such file or directory", "node_modules/.bin/cdk")

    monkeypatch.setattr(check, "cdk_synth", no_cli)
    assert check.main(["--config", str(SECOND)]) == 3
    err = capsys.readouterr().err
    assert err == (
        "check cannot go on: FileNotFoundError: [Errno 2] No such file or directory: 'node_modules/.bin/cdk'\n"
    )


def test_an_invalid_config_is_one_config_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load(SECOND.read_text(encoding="utf-8"))
    data["disaster_recovery"]["reserved_concurrency"] = 950
    bad = tmp_path / "org.yaml"
    bad.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert check.main(["--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"config error: {bad}: account_quotas.lambda_concurrent_executions: account 'workload-prod'")


def _without_region_restriction() -> OrgConfig:
    data = yaml.safe_load(SECOND.read_text(encoding="utf-8"))
    data["guardrails"]["scps_by_ou"]["Workloads"].remove("region-restriction")
    return parse_config(yaml.safe_dump(data, sort_keys=False), source="broken.yaml")


@pytest.fixture(scope="module")
def broken() -> tuple[OrgConfig, Synthesis]:
    """The second organization with the region guardrail taken off its workloads."""
    config = _without_region_restriction()
    return config, synthesize_organization(config, temporary_outdir("cdk-out-broken-org-"))


def test_a_config_that_breaks_a_gate_is_reported_with_the_gate_and_finding(broken: tuple[OrgConfig, Synthesis]) -> None:
    config, synthesis = broken
    findings = guardrail_table(config, synthesis.stacks)
    assert findings, "dropping the region guardrail must break the request table"
    assert all(f.gate == "guardrails" for f in findings)
    assert any("workload-prod" in f.message and "was allowed, expected denied" in f.message for f in findings)
    table = render({"guardrails": 1}, findings)
    assert table.splitlines()[1].split() == ["guardrails", "1", str(len(findings))]


def test_make_docs_refuses_another_organizations_templates(broken: tuple[OrgConfig, Synthesis]) -> None:
    _, synthesis = broken
    with pytest.raises(ValueError, match="holds templates of another organization"):
        docs.pages(synthesis.outdir)
    assert docs.main([str(synthesis.outdir)]) == 1
