"""Read a synthesized cloud assembly (``cdk.out``) without importing the CDK.

Used by the tests, the limits check and ``make synth``'s summary, so there is one parser
of the assembly manifest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StackTemplate:
    """One CloudFormation stack of the assembly."""

    name: str
    account: str
    region: str
    template_path: Path
    template: dict[str, Any]

    @property
    def environment_agnostic(self) -> bool:
        """True for a template deployed by a StackSet into many accounts and regions."""
        return self.account == "unknown-account"

    @property
    def body_bytes(self) -> int:
        """Size of the template file as CloudFormation receives it."""
        return self.template_path.stat().st_size

    @property
    def resource_count(self) -> int:
        return len(self.template.get("Resources", {}))


def read_assembly(outdir: str | Path) -> list[StackTemplate]:
    """The stacks in the assembly at ``outdir`` and its nested assemblies (CDK stages),
    sorted by name."""
    root = Path(outdir)
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    stacks: list[StackTemplate] = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") == "cdk:cloud-assembly":
            stacks += read_assembly(root / artifact["properties"]["directoryName"])
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        environment = artifact["environment"].removeprefix("aws://")
        account, region = environment.split("/", 1)
        path = root / artifact["properties"]["templateFile"]
        template = json.loads(path.read_text(encoding="utf-8"))
        name = artifact.get("displayName", artifact_id)
        stacks.append(StackTemplate(name, account, region, path, template))
    return sorted(stacks, key=lambda stack: stack.name)
