"""The gates every synthesized stack must pass. Each test runs once per stack."""

from __future__ import annotations

import re
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from analysis.assembly import StackTemplate
from analysis.limits import check_template
from analysis.stateful import stateful_inventory, unretained
from cdk_constructs.gates import MIN_REASON_LENGTH
from tests.support.scanners import cfn_lint, checkov
from tests.support.synthesis import Synthesis

_ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def _mask(value: Any) -> Any:
    """Replace what the CDK varies between versions or machines (asset hashes, in S3 keys
    and asset paths), so the snapshot shows only what this project decides."""
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if isinstance(value, str):
        return _ASSET_HASH.sub("<asset-hash>", value)
    return value


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def _templates(synthesis: Synthesis) -> tuple:  # type: ignore[type-arg]
    return tuple(s.template_path for s in synthesis.stacks)


def test_snapshot(stack: StackTemplate, json_snapshot: SnapshotAssertion) -> None:
    """Any template change shows up as a diff; re-baseline with `make snapshot-update`."""
    assert _mask(stack.template) == json_snapshot


def test_stateful_logical_ids_are_pinned(stack: StackTemplate, json_snapshot: SnapshotAssertion) -> None:
    """A changed logical ID of a stateful resource means CloudFormation replaces it (a new,
    empty bucket or table). This snapshot holds only those IDs, so such a change cannot
    hide in a large template diff."""
    assert stateful_inventory(stack.template) == json_snapshot


def test_stateful_resources_are_retained(stack: StackTemplate) -> None:
    not_retained = unretained(stack.template)
    assert not not_retained, f"stateful resources without Retain: {not_retained}"


def test_cfn_lint_reports_nothing(stack: StackTemplate, synthesis: Synthesis) -> None:
    findings = cfn_lint(_templates(synthesis)).get(stack.template_path.name, [])
    messages = [f"{f['Rule']['Id']} {f['Level']}: {f['Message']}" for f in findings]
    assert not messages, "\n".join(messages)


def test_checkov_passes(stack: StackTemplate, synthesis: Synthesis) -> None:
    results = checkov(_templates(synthesis))[stack.template_path.name]
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in results["failed"]]
    # (Some templates hold only resources checkov has no check for, such as Organizations
    # policies; the breakage tests prove the runner and this lookup work.)
    assert not failed, "\n".join(failed)


def test_checkov_skips_have_reasons_and_are_used(stack: StackTemplate, synthesis: Synthesis) -> None:
    """Every skip in resource metadata names a reason, and suppresses a check that would
    otherwise run on that resource (a skip of a check that never applies is stale)."""
    results = checkov(_templates(synthesis))[stack.template_path.name]
    applied = {(c["resource"].split(".", 1)[1], c["check_id"]) for c in results["skipped"]}
    problems = []
    for logical_id, resource in stack.template.get("Resources", {}).items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            if len(skip.get("comment", "").strip()) < MIN_REASON_LENGTH:
                problems.append(f"{logical_id} skips {skip['id']} without a reason")
            if (logical_id, skip["id"]) not in applied:
                problems.append(f"{logical_id} skips {skip['id']}, which checkov does not run there")
    assert not problems, "\n".join(problems)


def test_cdk_nag_acknowledgements_have_reasons(stack: StackTemplate) -> None:
    problems = [
        f"{logical_id}: {rule['id']}"
        for logical_id, resource in stack.template.get("Resources", {}).items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
        if len(rule.get("reason", "").strip()) < MIN_REASON_LENGTH
    ]
    assert not problems, f"acknowledged without a reason: {problems}"


def test_within_cloudformation_limits(stack: StackTemplate) -> None:
    over = [u for u in check_template(stack.template, stack.body_bytes) if u.exceeded]
    assert not over, ", ".join(f"{u.name} {u.used} > {u.maximum}" for u in over)


def test_no_context_lookups(stack: StackTemplate) -> None:
    """Offline synth: a stack must not depend on values looked up from an AWS account."""
    assert "Fn::GetAZs" not in str(stack.template), "use AZ names from the config"
