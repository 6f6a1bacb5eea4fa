"""Read a synthesized cloud assembly (``cdk.out``) without importing the CDK.

Used by the tests, the limits check and ``make synth``'s summary, so there is one parser
of the assembly manifest.
"""

from __future__ import annotations

import argparse
import json
import sys
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


def summary_table(stacks: list[StackTemplate], account_names: dict[str, str] | None = None) -> str:
    """A plain-text table: which stack went to which account and region."""
    from analysis.limits import check_template

    names = account_names or {}
    rows = [("stack", "account", "region", "resources", "template", "largest limit used")]
    for stack in stacks:
        usage = max(check_template(stack.template, stack.body_bytes), key=lambda u: u.fraction)
        account = f"{names[stack.account]} ({stack.account})" if stack.account in names else stack.account
        if stack.environment_agnostic:
            account = "every account in its OUs (StackSet)"
        rows.append(
            (
                stack.name,
                account,
                "StackSet regions" if stack.environment_agnostic else stack.region,
                str(stack.resource_count),
                f"{stack.body_bytes / 1024:.1f} KiB",
                f"{usage.name} {usage.fraction:.1%}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Summarize the stacks of a cloud assembly.")
    parser.add_argument("outdir", nargs="?", default="cdk.out")
    parser.add_argument("--config", help="config file, to print account names (default: the example)")
    args = parser.parse_args(argv)
    from org_config import load_config

    config = load_config(args.config or None)
    stacks = read_assembly(args.outdir)
    print(f"Synthesized {len(stacks)} stack(s) into {args.outdir}:")
    print(summary_table(stacks, {a.id: a.name for a in config.accounts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
