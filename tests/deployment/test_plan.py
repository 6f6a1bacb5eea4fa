"""The deployment plan: waves from the manifest's order, bootstraps with trust."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.deployment.plan import EXECUTION_POLICY, CycleError, build_plan, waves
from tests.deployment.fake_assembly import write_assembly

EMPTY: dict[str, object] = {"Resources": {}}


def test_waves_put_each_stack_after_everything_it_waits_for() -> None:
    order = waves({"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"], "e": []})
    assert order == [["a", "e"], ["b", "c"], ["d"]]


def test_a_cycle_is_refused_naming_its_stacks() -> None:
    with pytest.raises(CycleError, match="cycle among: b, c"):
        waves({"a": [], "b": ["a", "c"], "c": ["b"]})


def test_plan_trusts_the_deploying_account_everywhere_else(tmp_path: Path) -> None:
    stacks = write_assembly(
        tmp_path,
        {
            "org": ("111111111111", "eu-west-1", [], EMPTY),
            "logs": ("222222222222", "eu-west-1", [], EMPTY),
            "net": ("444444444444", "eu-central-1", ["logs", "org"], EMPTY),
        },
    )
    plan = build_plan(stacks, deployer_account="111111111111", account_names={"222222222222": "log-archive"})
    assert [[s.name for s in wave] for wave in plan.waves] == [["logs", "org"], ["net"]]
    assert plan.stack("net").waits_for == ("logs", "org")
    assert plan.stack("net").bootstrap.trust == ("111111111111",)
    assert plan.stack("org").bootstrap.trust == ()
    assert plan.bootstrap_commands() == [
        "# with credentials of account 111111111111",
        f"cdk bootstrap aws://111111111111/eu-west-1 --cloudformation-execution-policies {EXECUTION_POLICY}",
        "# with credentials of account 222222222222 (log-archive), trusting 111111111111",
        "cdk bootstrap aws://222222222222/eu-west-1 --trust 111111111111 "
        f"--cloudformation-execution-policies {EXECUTION_POLICY}",
        "# with credentials of account 444444444444, trusting 111111111111",
        "cdk bootstrap aws://444444444444/eu-central-1 --trust 111111111111 "
        f"--cloudformation-execution-policies {EXECUTION_POLICY}",
    ]


def test_plan_lists_the_manual_prerequisites_a_stack_needs(tmp_path: Path) -> None:
    identity = {
        "Resources": {
            "Admin": {"Type": "AWS::SSO::PermissionSet", "Properties": {"InstanceArn": "arn:aws:sso:::instance/x"}}
        }
    }
    stacks = write_assembly(tmp_path, {"identity": ("111111111111", "eu-west-1", [], identity)})
    plan = build_plan(stacks, deployer_account="111111111111")
    assert plan.stack("identity").prerequisites == ("cdk-bootstrap", "identity-center")
    assert "| 1 | `identity` | `111111111111` | eu-west-1 | - | cdk-bootstrap, identity-center | own account |" in (
        plan.render_markdown()
    )
