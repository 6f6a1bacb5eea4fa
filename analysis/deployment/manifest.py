"""The stack order the assembly manifest declares, which ``cdk deploy`` follows.

CDK writes a stack dependency (``add_stack_dependency``, or one it infers from a
cross-stack reference) into the manifest as the stack artifact's ``dependencies``; stacks
of different accounts and regions are ordered the same way.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from analysis.assembly import StackTemplate


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    stat = path.stat()
    return _parsed(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _parsed(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    """The manifest at ``path``, read once per version of the file."""
    del mtime_ns, size  # the cache key: a rewritten manifest is read again
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def _artifact(stack: StackTemplate) -> dict[str, Any]:
    artifacts: dict[str, Any] = _manifest(stack.template_path.parent).get("artifacts", {})
    for artifact_id, artifact in artifacts.items():
        is_stack = artifact.get("type") == "aws:cloudformation:stack"
        if is_stack and artifact.get("displayName", artifact_id) == stack.name:
            found: dict[str, Any] = artifact
            return found
    raise KeyError(f"{stack.name} is not in the manifest beside its template")


def direct_dependencies(stacks: Sequence[StackTemplate]) -> dict[str, tuple[str, ...]]:
    """Each stack's declared dependencies on other stacks (assets left out), by stack name."""
    names = {stack.name for stack in stacks}
    ids = {}
    for stack in stacks:
        artifacts = _manifest(stack.template_path.parent).get("artifacts", {})
        ids.update({artifact_id: a.get("displayName", artifact_id) for artifact_id, a in artifacts.items()})
    result: dict[str, tuple[str, ...]] = {}
    for stack in stacks:
        declared = (ids.get(d, d) for d in _artifact(stack).get("dependencies", []))
        result[stack.name] = tuple(sorted(name for name in declared if name in names))
    return result


def deployed_by_cdk(stack: StackTemplate) -> bool:
    """False for a template another engine deploys (the StackSet body, in a nested assembly
    with no bootstrap): it has no place in the plan."""
    return not stack.environment_agnostic and "requiresBootstrapStackVersion" in _artifact(stack).get("properties", {})


def bootstrap_qualifier(stack: StackTemplate) -> str:
    """The bootstrap qualifier in the stack's deploy role name (``cdk-<qualifier>-deploy-role-…``)."""
    role = str(_artifact(stack).get("properties", {}).get("assumeRoleArn", ""))
    name = role.rsplit("/", 1)[-1]
    return name.split("-")[1] if name.startswith("cdk-") else "hnb659fds"


def ordered_before(dependencies: Mapping[str, Sequence[str]]) -> dict[str, frozenset[str]]:
    """Every stack each stack transitively waits for. A stack in a cycle waits for itself."""
    closure: dict[str, frozenset[str]] = {}

    def reach(name: str) -> frozenset[str]:
        seen: set[str] = set()
        pending = list(dependencies.get(name, ()))
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            pending.extend(dependencies.get(current, ()))
        return frozenset(seen)

    for name in dependencies:
        closure[name] = reach(name)
    return closure
