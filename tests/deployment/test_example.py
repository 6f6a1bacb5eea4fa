"""The deployment plan and the deployability gate on the example organization: the page
shows the plan, `make plan` and `make bootstrap-commands` print it, and the gate finds a
wire cut out of the real templates."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from analysis.assembly import read_assembly
from analysis.deployment.gate import check
from analysis.deployment.plan import DeploymentPlan, build_plan
from org_config import load_config
from org_config.model import AccountRole
from tests.support.synthesis import Synthesis
from tools import plan as plan_tool
from tools.docs import DEPLOYMENT_PAGE, pages


@pytest.fixture(scope="module")
def plan(synthesis: Synthesis) -> DeploymentPlan:
    return plan_tool.plan_for(load_config(), synthesis.outdir)


def test_the_deployment_page_shows_the_plan_of_the_example(synthesis: Synthesis) -> None:
    """Drift: regenerate with `make docs`."""
    assert pages(synthesis.outdir)[DEPLOYMENT_PAGE] == DEPLOYMENT_PAGE.read_text(encoding="utf-8")


def test_every_stack_deploys_after_what_it_waits_for(plan: DeploymentPlan) -> None:
    wave = {stack.name: stack.wave for stack in plan.stacks}
    for stack in plan.stacks:
        assert all(wave[name] < stack.wave for name in stack.waits_for), stack.name
    home, dr = "eu-west-1", "eu-central-1"
    # The wires issue 16 found missing.
    assert f"network-hub-{home}" in plan.stack(f"dr-home-{home}").waits_for
    assert f"network-dr-{dr}" in plan.stack(f"dr-standby-{dr}").waits_for
    for network in (f"network-hub-{home}", f"network-dr-{dr}"):
        assert f"organization-services-{home}" in plan.stack(network).waits_for
    assert "stackset-member-roles/member-roles" not in wave  # its StackSet deploys it


def test_bootstrap_commands_cover_every_environment_of_the_plan_once(plan: DeploymentPlan) -> None:
    config = load_config()
    management = config.account(AccountRole.MANAGEMENT).id
    environments = {(stack.account, stack.region) for stack in plan.stacks}
    commands = [line for line in plan.bootstrap_commands() if not line.startswith("#")]
    assert sorted(c.split()[2] for c in commands) == sorted(f"aws://{a}/{r}" for a, r in environments)
    assert commands[0].startswith(f"cdk bootstrap aws://{management}/")  # the trusted account first
    for command in commands:
        account = command.split()[2].removeprefix("aws://").split("/")[0]
        trusts = f"--trust {management}" in command
        assert trusts == (account != management), command
        assert "--cloudformation-execution-policies arn:aws:iam::aws:policy/AdministratorAccess" in command


def test_make_bootstrap_commands_prints_the_plans_commands(
    synthesis: Synthesis, plan: DeploymentPlan, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plan_tool.main(["--assembly", str(synthesis.outdir), "--bootstrap-commands"]) == 0
    assert capsys.readouterr().out.splitlines() == plan.bootstrap_commands()


def test_make_plan_prints_every_wave_then_the_bootstrap(
    synthesis: Synthesis, plan: DeploymentPlan, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plan_tool.main(["--assembly", str(synthesis.outdir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("wave 1 (")
    assert f"wave {len(plan.waves)} (" in out
    assert all(f"  {stack.name}  {stack.account}/{stack.region}" in out for stack in plan.stacks)
    assert out.rstrip().endswith(plan.bootstrap_commands()[-1])


def test_make_plan_refuses_an_invalid_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "org.yaml"
    config.write_text("organization: {}\n", encoding="utf-8")
    assert plan_tool.main(["--config", str(config), "--assembly", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("config error:")


def _copy(synthesis: Synthesis, folder: Path) -> Path:
    """The manifest and templates of the example (no assets), to cut a wire in."""
    folder.mkdir()
    for path in synthesis.outdir.glob("*.json"):
        shutil.copy(path, folder / path.name)
    nested = synthesis.outdir / "assembly-stackset-member-roles"
    shutil.copytree(nested, folder / nested.name, ignore=shutil.ignore_patterns("asset.*"))
    return folder


def test_the_gate_finds_a_dependency_cut_out_of_the_manifest(synthesis: Synthesis, tmp_path: Path) -> None:
    folder = _copy(synthesis, tmp_path / "assembly")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    home = manifest["artifacts"]["dr-home-eu-west-1"]
    home["dependencies"].remove("network-hub-eu-west-1")
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    found = [m for stack, m in check(read_assembly(folder)) if stack == "dr-home-eu-west-1"]
    assert any(
        m.startswith("SharedSubnetsLookupCall")
        and "(network-hub-eu-west-1/" in m
        and m.endswith("without a stack dependency on network-hub-eu-west-1")
        for m in found
    ), found


def test_the_gate_finds_a_call_cut_off_from_its_policy(synthesis: Synthesis, tmp_path: Path) -> None:
    folder = _copy(synthesis, tmp_path / "assembly")
    path = folder / "network-peering-eu-west-1.template.json"
    template = json.loads(path.read_text(encoding="utf-8"))
    for resource in template["Resources"].values():
        if resource["Type"] in ("Custom::AWS", "AWS::Lambda::Function"):
            resource.pop("DependsOn", None)
    path.write_text(json.dumps(template), encoding="utf-8")
    found = [m for stack, m in check(read_assembly(folder)) if stack == "network-peering-eu-west-1"]
    assert any(
        m.startswith("PeeringAttachmentCall") and "may run before DeployTimeCallsRoleDefaultPolicy" in m for m in found
    )


def test_the_example_has_one_plan_whatever_the_deploying_account(synthesis: Synthesis) -> None:
    """Trust follows the deploying account (a pipeline's, later): every other account trusts it."""
    other = build_plan(read_assembly(synthesis.outdir), deployer_account="555555555555")
    assert all(b.trust == (() if b.account == "555555555555" else ("555555555555",)) for b in other.bootstraps)
