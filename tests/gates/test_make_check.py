"""`make check` on a second, realistic organization: every gate passes, and a config that
breaks one is reported with the gate and the finding named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from analysis.gates import guardrail_table
from org_config import OrgConfig, parse_config
from tests.support.synthesis import Synthesis, synthesize_organization, temporary_outdir
from tools import docs
from tools.check import render

ROOT = Path(__file__).resolve().parents[2]
SECOND = ROOT / "tests" / "configs" / "second_organization.yaml"


def test_make_check_passes_every_gate_on_a_second_organization() -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("ORG_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-m", "tools.check", "--config", str(SECOND)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[1:] if line.strip()}
    gates = {"cfn-lint", "checkov", "control-tower", "cdk-nag", "limits", "retention", "offline", "guardrails"}
    assert gates | {"determinism"} <= set(rows), result.stdout
    assert all(row[-1] == "0" for row in rows.values()), result.stdout


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
