"""CloudFormation quotas per template, checked on the synthesized templates.

Quotas (AWS CloudFormation User Guide, "Understand CloudFormation quotas"): 500 resources,
200 outputs, 200 parameters and 200 mappings per template, and a template body of
1,000,000 bytes when uploaded through S3 (the CDK uploads templates as assets). A body
over 51,200 bytes cannot be passed inline, which only matters outside the CDK.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.assembly import StackTemplate, read_assembly

MAX_RESOURCES = 500
MAX_OUTPUTS = 200
MAX_PARAMETERS = 200
MAX_MAPPINGS = 200
MAX_BODY_BYTES_VIA_S3 = 1_000_000
MAX_BODY_BYTES_INLINE = 51_200


@dataclass(frozen=True)
class LimitUsage:
    """How much of one quota a template uses."""

    name: str
    used: int
    maximum: int

    @property
    def fraction(self) -> float:
        return self.used / self.maximum

    @property
    def headroom(self) -> int:
        return self.maximum - self.used

    @property
    def exceeded(self) -> bool:
        return self.used > self.maximum


def check_template(template: Mapping[str, Any], body_bytes: int) -> list[LimitUsage]:
    """Usage of every per-template quota by ``template`` whose file is ``body_bytes`` long."""
    return [
        LimitUsage("resources", len(template.get("Resources", {})), MAX_RESOURCES),
        LimitUsage("outputs", len(template.get("Outputs", {})), MAX_OUTPUTS),
        LimitUsage("parameters", len(template.get("Parameters", {})), MAX_PARAMETERS),
        LimitUsage("mappings", len(template.get("Mappings", {})), MAX_MAPPINGS),
        LimitUsage("template bytes", body_bytes, MAX_BODY_BYTES_VIA_S3),
    ]


def summary_table(stacks: list[StackTemplate], account_names: dict[str, str] | None = None) -> str:
    """A plain-text table: which stack went to which account and region."""
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
    """Print the headroom of every template in a cloud assembly; exit 1 if one is over."""
    outdir = (argv if argv is not None else sys.argv[1:] or ["cdk.out"])[0]
    over = False
    for stack in read_assembly(outdir):
        print(stack.name)
        for usage in check_template(stack.template, stack.body_bytes):
            over |= usage.exceeded
            flag = "  OVER" if usage.exceeded else ""
            print(f"  {usage.name:<15} {usage.used:>9,} of {usage.maximum:>9,}  headroom {usage.headroom:>9,}{flag}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
