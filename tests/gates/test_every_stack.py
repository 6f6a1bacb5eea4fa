"""The gates every synthesized stack must pass. Each test runs once per stack.

The gates themselves live in :mod:`analysis.gates`, which ``make check`` runs on a user's
own organization; these tests run the same functions on the example organization.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from analysis import gates
from analysis.assembly import StackTemplate
from analysis.stateful import stateful_inventory
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


def _findings(gate: gates.Gate, stack: StackTemplate, synthesis: Synthesis) -> list[str]:
    """The findings of ``gate`` for ``stack``; the gate runs once over every template."""
    return [finding.message for finding in gate(synthesis.stacks) if finding.stack == stack.name]


def test_snapshot(stack: StackTemplate, json_snapshot: SnapshotAssertion) -> None:
    """Any template change shows up as a diff; re-baseline with `make snapshot-update`."""
    assert _mask(stack.template) == json_snapshot


def test_stateful_logical_ids_are_pinned(stack: StackTemplate, json_snapshot: SnapshotAssertion) -> None:
    """A changed logical ID of a stateful resource means CloudFormation replaces it (a new,
    empty bucket or table). This snapshot holds only those IDs, so such a change cannot
    hide in a large template diff."""
    assert stateful_inventory(stack.template) == json_snapshot


@pytest.mark.parametrize("gate", list(gates.TEMPLATE_GATES), ids=list(gates.TEMPLATE_GATES))
def test_gate_passes(gate: str, stack: StackTemplate, synthesis: Synthesis) -> None:
    """cfn-lint, checkov, Control Tower controls, cdk-nag reasons, limits, retention, offline."""
    findings = _findings(gates.TEMPLATE_GATES[gate], stack, synthesis)
    assert not findings, "\n".join(findings)
