"""A small cloud assembly written by hand: a manifest and templates, so the plan and the
gate can be tested on exact wiring without synthesizing the organization."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from analysis.assembly import StackTemplate, read_assembly


def stack_artifact(account: str, region: str, dependencies: list[str]) -> dict[str, Any]:
    return {
        "type": "aws:cloudformation:stack",
        "environment": f"aws://{account}/{region}",
        "properties": {
            "templateFile": "",
            "assumeRoleArn": f"arn:aws:iam::{account}:role/cdk-hnb659fds-deploy-role-{account}-{region}",
            "requiresBootstrapStackVersion": 6,
        },
        "dependencies": dependencies,
    }


def write_assembly(folder: Path, stacks: dict[str, tuple[str, str, list[str], dict[str, Any]]]) -> list[StackTemplate]:
    """``stacks`` maps a name to (account, region, dependencies, template)."""
    folder.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Any] = {}
    for name, (account, region, dependencies, template) in stacks.items():
        artifact = stack_artifact(account, region, [*dependencies, f"{name}.assets"])
        artifact["properties"]["templateFile"] = f"{name}.template.json"
        artifacts[f"{name}.assets"] = {"type": "cdk:asset-manifest", "properties": {"file": f"{name}.assets.json"}}
        artifacts[name] = artifact
        (folder / f"{name}.template.json").write_text(json.dumps(template), encoding="utf-8")
    manifest = folder / "manifest.json"
    manifest.unlink(missing_ok=True)  # a new file, so a reader sees this version
    manifest.write_text(json.dumps({"version": "48.0.0", "artifacts": artifacts}), encoding="utf-8")
    return read_assembly(folder)
