"""The delivery pipeline deploys every stack of the organization in the waves its
dependencies allow, after the gates, with an approval before management-account changes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from analysis.assembly import StackTemplate
from org_config import AccountRole, load_config
from tests.support.synthesis import Synthesis, example_organization

CONFIG = load_config()
PIPELINE = f"delivery-pipeline-{CONFIG.regions.home}"
STACK_ARTIFACT = "aws:cloudformation:stack"


@pytest.fixture(scope="module")
def synthesis() -> Synthesis:
    return example_organization()


def _resources(stack: StackTemplate, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in stack.template["Resources"].items() if v["Type"] == kind}


def _stages(synthesis: Synthesis) -> list[dict[str, Any]]:
    (pipeline,) = _resources(synthesis.stack(PIPELINE), "AWS::CodePipeline::Pipeline").values()
    stages: list[dict[str, Any]] = pipeline["Properties"]["Stages"]
    return stages


def _waves(synthesis: Synthesis) -> list[list[str]]:
    waves = []
    for stage in _stages(synthesis):
        if not stage["Name"].startswith("Wave"):
            continue
        (deploy,) = [a for a in stage["Actions"] if a["Name"] == "Deploy"]
        variables = json.loads(deploy["Configuration"]["EnvironmentVariables"])
        waves.append(next(v["value"] for v in variables if v["name"] == "STACKS").split())
    return waves


def _dependencies(synthesis: Synthesis) -> dict[str, list[str]]:
    manifest = json.loads((synthesis.outdir / "manifest.json").read_text())
    artifacts = manifest["artifacts"]
    names = {key: value.get("displayName", key) for key, value in artifacts.items()}
    return {
        names[key]: [
            names[d] for d in value.get("dependencies", []) if artifacts[d]["type"] == "aws:cloudformation:stack"
        ]
        for key, value in artifacts.items()
        if value["type"] == STACK_ARTIFACT
    }


def test_the_pipeline_runs_in_the_deployment_account(synthesis: Synthesis) -> None:
    assert CONFIG.delivery is not None
    stack = synthesis.stack(PIPELINE)
    assert stack.account == CONFIG.account_named(CONFIG.delivery.account).id
    assert [s["Name"] for s in _stages(synthesis)][:3] == ["Source", "Gates", "Synth"]


def test_every_stack_deploys_once_after_everything_it_depends_on(synthesis: Synthesis) -> None:
    waves = _waves(synthesis)
    deployed = [name for wave in waves for name in wave]
    organization = [s.name for s in synthesis.stacks if not s.environment_agnostic and s.name != PIPELINE]
    assert sorted(deployed) == sorted(organization)
    wave_of = {name: index for index, wave in enumerate(waves) for name in wave}
    for name, dependencies in _dependencies(synthesis).items():
        for dependency in dependencies:
            if name in wave_of:
                assert wave_of[dependency] < wave_of[name], f"{name} deploys with or before {dependency}"
    # Not one stack per wave: independent stacks share a wave and deploy in parallel.
    assert len(waves) < len(deployed)


def test_an_approval_stands_before_every_wave_that_changes_the_management_account(synthesis: Synthesis) -> None:
    management = CONFIG.account(AccountRole.MANAGEMENT).id
    accounts = {s.name: s.account for s in synthesis.stacks}
    for stage, wave in zip(
        [s for s in _stages(synthesis) if s["Name"].startswith("Wave")], _waves(synthesis), strict=True
    ):
        approvals = [a for a in stage["Actions"] if a["ActionTypeId"]["Category"] == "Approval"]
        changes_management = any(accounts[name] == management for name in wave)
        assert bool(approvals) == changes_management, stage["Name"]
        if approvals:
            (deploy,) = [a for a in stage["Actions"] if a["Name"] == "Deploy"]
            assert approvals[0]["RunOrder"] < deploy["RunOrder"]


def _build_commands(synthesis: Synthesis, stage_name: str) -> list[str]:
    stack = synthesis.stack(PIPELINE)
    (stage,) = [s for s in _stages(synthesis) if s["Name"] == stage_name]
    (build,) = [a for a in stage["Actions"] if a["ActionTypeId"]["Provider"] == "CodeBuild"]
    project_ref = build["Configuration"]["ProjectName"]["Ref"]
    spec = json.loads(stack.template["Resources"][project_ref]["Properties"]["Source"]["BuildSpec"])
    commands: list[str] = spec["phases"]["build"]["commands"]
    return commands


def test_the_gates_run_before_the_synth_and_the_waves_deploy_what_the_synth_wrote(synthesis: Synthesis) -> None:
    assert CONFIG.delivery is not None
    assert _build_commands(synthesis, "Gates") == [f"make check CONFIG={CONFIG.delivery.config_path}"]
    # The streaming pipeline's Flink code needs its connector JAR, fetched and verified first.
    assert _build_commands(synthesis, "Synth") == [
        "make flink-connector",
        f"make synth CONFIG={CONFIG.delivery.config_path}",
    ]
    deploy = _build_commands(synthesis, "Wave1")
    assert any('cdk deploy --app "$CODEBUILD_SRC_DIR_Assembly" $STACKS' in command for command in deploy)


def test_the_deploy_builds_may_assume_only_the_bootstrap_roles_of_the_organization(synthesis: Synthesis) -> None:
    stack = synthesis.stack(PIPELINE)
    targets = {(s.account, s.region) for s in synthesis.stacks if not s.environment_agnostic and s.name != PIPELINE}
    (deploy_stage,) = [s for s in _stages(synthesis) if s["Name"] == "Wave1"]
    (build,) = [a for a in deploy_stage["Actions"] if a["ActionTypeId"]["Provider"] == "CodeBuild"]
    project = stack.template["Resources"][build["Configuration"]["ProjectName"]["Ref"]]
    role = project["Properties"]["ServiceRole"]["Fn::GetAtt"][0]
    assumed = set()
    for policy in _resources(stack, "AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "sts:AssumeRole" in (
                statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            ):
                resources = statement["Resource"]
                assumed |= {_text(r) for r in (resources if isinstance(resources, list) else [resources])}
    expected = {
        f"arn:aws:iam::{account}:role/cdk-hnb659fds-{kind}-role-{account}-{region}"
        for account, region in targets
        for kind in ("deploy", "file-publishing", "image-publishing", "lookup")
    }
    assert assumed == expected


def _text(value: Any) -> str:
    """An ARN as the template writes it, with the partition resolved to aws."""
    if isinstance(value, str):
        return value
    if value == {"Ref": "AWS::Partition"}:
        return "aws"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_text(part) for part in parts)
    raise AssertionError(f"unexpected value {value}")


def test_every_account_the_pipeline_deploys_to_trusts_it_in_its_bootstrap(synthesis: Synthesis) -> None:
    from tools.plan import plan_for

    assert CONFIG.delivery is not None
    pipeline_account = CONFIG.account_named(CONFIG.delivery.account).id
    management = CONFIG.account(AccountRole.MANAGEMENT).id
    plan = plan_for(CONFIG, synthesis.outdir)
    for bootstrap in plan.bootstraps:
        expected = {management, pipeline_account} - {bootstrap.account}
        assert set(bootstrap.trust) == expected, bootstrap.environment
        for account in expected:
            assert f"--trust {account}" in bootstrap.command()
