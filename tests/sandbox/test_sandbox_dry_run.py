"""``make deploy-sandbox DRY_RUN=1`` and ``make destroy-sandbox DRY_RUN=1``, offline, for each
workload pattern alone and for all of them together."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from analysis import gates
from analysis.assembly import StackTemplate, read_assembly
from analysis.sandbox.teardown import kept, teardown_plan
from analysis.stateful import STATEFUL_TYPES
from org_config.sandbox import ORGANIZATION_ONLY
from tests.support.synthesis import temporary_outdir
from tools import sandbox

# One account for every selection, each in its own folder: a stack that is the same in two
# selections is then the same template, and the scanners see it once.
ACCOUNT = "123456789012"
ALONE = {
    "object-index": ("object-index",),
    "streaming": ("streaming",),
    "network": ("network",),
    "disaster-recovery": ("network", "disaster-recovery"),  # the DR workload runs in the network's subnets
}
ALL = "network,disaster-recovery,object-index,streaming"
STACK_PREFIX = {
    "object-index": "object-index-",
    "streaming": "streaming-",
    "network": "network-",
    "disaster-recovery": "dr-",
}


@functools.cache
def _root(patterns: str) -> Path:
    return temporary_outdir("sandbox-")


@functools.cache
def _run(command: str, patterns: str) -> str:
    """The output of one dry run (cached: each profile is synthesized once per session)."""
    sandbox.SANDBOX_ROOT = _root(patterns)
    argv = [command, "--account", ACCOUNT, "--region", "eu-west-1", "--patterns", patterns, "--dry-run"]
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert sandbox.main(argv) == 0
    return out.getvalue()


def _assembly(patterns: str) -> list[StackTemplate]:
    _run("deploy", patterns)
    return read_assembly(_root(patterns) / f"{ACCOUNT}-eu-west-1" / "assembly")


def _stacks_listed(output: str) -> list[str]:
    block = output.split("Stacks, in deployment order", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines()[1:] if line.strip()]


@pytest.mark.parametrize("pattern", list(ALONE))
def test_a_dry_run_of_one_pattern_prints_its_stacks_bootstrap_cost_and_commands(pattern: str) -> None:
    output = _run("deploy", ",".join(ALONE[pattern]))
    stacks = _stacks_listed(output)
    assert stacks[0] == "sandbox-baseline-eu-west-1"  # the budget alert first
    built = {name for name in stacks[1:]}
    expected_prefixes = {STACK_PREFIX[p] for p in ALONE[pattern]}
    assert built and all(name.startswith(tuple(expected_prefixes)) for name in built)
    for other, prefix in STACK_PREFIX.items():
        if other not in ALONE[pattern]:
            assert not any(name.startswith(prefix) for name in built), other
    regions = sorted({s.region for s in _assembly(",".join(ALONE[pattern]))})
    for region in regions:
        assert f"bootstrap aws://{ACCOUNT}/{region}" in output
    assert re.search(r"^total \(USD\)\s+\d+\.\d{4}\s+\d+\.\d{2}$", output, re.M)
    assert f"deploy --app {sandbox.SANDBOX_ROOT}" in output or "deploy --app " in output
    for name, reason in ORGANIZATION_ONLY.items():
        assert f"  {name}: {reason}" in output
    assert output.rstrip().endswith("Dry run: nothing was created.")


def test_every_pattern_together_deploys_in_one_order() -> None:
    stacks = _stacks_listed(_run("deploy", ALL))
    assert stacks[0] == "sandbox-baseline-eu-west-1"
    assert (
        stacks.index("network-hub-eu-west-1") < stacks.index("dr-home-eu-west-1") or "dr-home-eu-west-1" not in stacks
    )
    assert stacks.index("object-index-data-eu-west-1") < stacks.index("object-index-api-eu-west-1")
    for pattern in ALONE:
        assert any(name.startswith(STACK_PREFIX[pattern]) for name in stacks), pattern


def test_the_sandbox_costs_what_its_patterns_cost() -> None:
    def totals(output: str) -> dict[str, float]:
        rows = output.split("Estimated cost at rest", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
        return {row.split()[0]: float(row.split()[2]) for row in rows if row and not row.startswith("total")}

    together = totals(_run("deploy", ALL))
    for pattern in ("object-index", "streaming", "network"):
        assert totals(_run("deploy", pattern))[pattern] == pytest.approx(together[pattern])
    assert together["network"] > 100  # NAT gateways, firewall endpoints and Transit Gateway attachments bill hourly
    assert together["streaming"] > 0  # shard hours bill whether or not records arrive


def test_a_destroy_dry_run_lists_every_stateful_resource_and_what_is_left() -> None:
    output = _run("destroy", ALL)
    stacks = _assembly(ALL)
    for stack in stacks:
        for logical_id, resource in stack.template.get("Resources", {}).items():
            if resource["Type"] in STATEFUL_TYPES:
                assert re.search(rf"^{re.escape(stack.name)}\s+{re.escape(logical_id)}\s+\S", output, re.M), logical_id
    left = output.split("Left after the teardown:", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    assert left and all("AWS::KMS::Key" in line or "CDKToolkit" in line for line in left), left
    assert output.rstrip().endswith("Dry run: nothing was removed.")


def test_teardown_removes_every_stateful_resource_of_the_sandbox() -> None:
    steps = teardown_plan(_assembly(ALL))
    planned = {(s.stack, s.logical_id) for s in steps}
    for stack in _assembly(ALL):
        for logical_id, resource in stack.template.get("Resources", {}).items():
            if resource["Type"] in STATEFUL_TYPES:
                assert (stack.name, logical_id) in planned
    assert kept(steps) == []
    assert {s.left for s in steps if s.left} == {"pending deletion for 7 days"}  # keys: AWS's minimum wait


@pytest.mark.parametrize("selection", [",".join(names) for names in ALONE.values()] + [ALL])
def test_every_gate_passes_on_each_sandbox_assembly(selection: str) -> None:
    """cfn-lint, checkov, Control Tower, cdk-nag's reasons, limits and the offline rule on each
    pattern alone and all together. Retention is the one organization gate that does not
    apply: the sandbox deletes what an organization keeps, and the teardown tests above hold
    it to that instead. (Each assembly is scanned on its own: the scanners index findings by
    template file name, which the assemblies share; a template that two assemblies hold
    byte for byte is scanned once.)"""
    findings = gates.run_template_gates(_assembly(selection))
    assert findings.pop("retention")  # the gate would refuse the sandbox's teardown settings
    assert {gate: [str(f) for f in found] for gate, found in findings.items() if found} == {}
