"""What ``make destroy-sandbox`` removes, resource by resource, and what is left after it.

Read from the synthesized sandbox templates: a resource is removed only if its template
lets CloudFormation delete it (``DeletionPolicy: Delete``, no deletion protection, no
lock that outlives the teardown). Buckets and backup vaults need the teardown to empty
them first; keys cannot be deleted at once, only scheduled. Anything else that holds data
and would stay behind is reported as left, with the reason, so nothing is left silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analysis.assembly import StackTemplate
from analysis.stateful import STATEFUL_TYPES

# Resources that hold data or cost money until removed, beyond the stateful ones.
TEARDOWN_TYPES: frozenset[str] = STATEFUL_TYPES | {
    "AWS::RDS::GlobalCluster",
    "AWS::SecretsManager::Secret",
    "AWS::Route53::HostedZone",
}
# A KMS key is never deleted at once: it waits this many days (AWS allows 7 to 30).
DEFAULT_KEY_WINDOW_DAYS = 30


@dataclass(frozen=True)
class TeardownStep:
    stack: str
    logical_id: str
    resource_type: str
    action: str  # what the teardown does with it
    left: str = ""  # why something stays after the teardown ("" when nothing does)


def _step(stack: str, logical_id: str, resource: Mapping[str, Any]) -> TeardownStep:
    kind = resource["Type"]
    properties = resource.get("Properties", {})
    policy = resource.get("DeletionPolicy", "Delete")  # CloudFormation's default for these types
    if policy != "Delete":
        return TeardownStep(stack, logical_id, kind, "kept", f"DeletionPolicy {policy} keeps it when the stack goes")
    if properties.get("DeletionProtection") or properties.get("DeletionProtectionEnabled"):
        return TeardownStep(stack, logical_id, kind, "kept", "deletion protection refuses the stack's delete")
    if kind == "AWS::S3::Bucket":
        retention = properties.get("ObjectLockConfiguration", {}).get("Rule", {}).get("DefaultRetention", {})
        if retention.get("Mode") == "COMPLIANCE":
            return TeardownStep(stack, logical_id, kind, "kept", "compliance-mode Object Lock: no one can delete it")
        return TeardownStep(stack, logical_id, kind, "emptied (every version; governance locks bypassed), deleted")
    if kind == "AWS::Backup::BackupVault":
        if "LockConfiguration" in properties:
            return TeardownStep(stack, logical_id, kind, "kept", "a vault lock keeps its recovery points")
        return TeardownStep(stack, logical_id, kind, "recovery points deleted, then the vault")
    if kind == "AWS::KMS::Key":
        days = int(properties.get("PendingWindowInDays", DEFAULT_KEY_WINDOW_DAYS))
        return TeardownStep(
            stack, logical_id, kind, f"scheduled for deletion in {days} days", f"pending deletion for {days} days"
        )
    if kind in ("AWS::RDS::DBCluster", "AWS::RDS::DBInstance"):
        return TeardownStep(stack, logical_id, kind, "deleted without a final snapshot")
    if kind == "AWS::Route53::HostedZone":
        return TeardownStep(stack, logical_id, kind, "records the stacks did not create deleted, then the zone")
    return TeardownStep(stack, logical_id, kind, "deleted with its stack")


def teardown_plan(stacks: Sequence[StackTemplate]) -> list[TeardownStep]:
    """Every resource of ``TEARDOWN_TYPES`` in the assembly, last-deployed stack first."""
    steps = []
    for stack in reversed(stacks):
        for logical_id, resource in sorted(stack.template.get("Resources", {}).items()):
            if resource["Type"] in TEARDOWN_TYPES:
                steps.append(_step(stack.name, logical_id, resource))
    return steps


def left_after_teardown(steps: Sequence[TeardownStep]) -> list[str]:
    """One line per resource that outlives the teardown, with the reason."""
    return [f"{s.stack}/{s.logical_id} ({s.resource_type}): {s.left}" for s in steps if s.left]


def kept(steps: Sequence[TeardownStep]) -> list[TeardownStep]:
    """Resources the teardown cannot remove at all (as opposed to keys, which it schedules)."""
    return [s for s in steps if s.action == "kept"]


def render_plan(steps: Sequence[TeardownStep]) -> str:
    rows = [f"{s.stack:<34} {s.logical_id:<56} {s.action}" for s in steps]
    return "\n".join(rows)
