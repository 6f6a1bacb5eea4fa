"""The deployment plan: the organization's stacks in waves that can deploy in parallel,
each with its account, region, what it waits for, the manual prerequisites it needs and
the CDK bootstrap (with trust) of its account and region.

Built from the synthesized assembly alone (the manifest's stack dependencies are the
order ``cdk deploy`` follows), so the plan is what the templates say, not what prose
says. ``make plan`` prints it, ``docs/deployment.md`` shows it, ``make bootstrap-commands``
prints :meth:`DeploymentPlan.bootstrap_commands`, and a deploy path (sandbox or pipeline)
deploys :attr:`DeploymentPlan.waves` in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from analysis.assembly import StackTemplate
from analysis.deployment.manifest import bootstrap_qualifier, deployed_by_cdk, direct_dependencies
from analysis.deployment.prerequisites import BOOTSTRAP, MANUAL, resource_needs

DEFAULT_QUALIFIER = "hnb659fds"
# The stacks create IAM roles, Organizations policies, StackSets and KMS keys: the role
# CloudFormation deploys with needs administrator rights. `cdk bootstrap` requires the
# policies to be named whenever --trust is given (CDK guide, "Bootstrapping your environment").
EXECUTION_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


class CycleError(ValueError):
    """The manifest orders some stacks after themselves: no wave can hold them."""

    def __init__(self, stacks: Sequence[str]) -> None:
        super().__init__(f"stack dependency cycle among: {', '.join(stacks)}")
        self.stacks = tuple(stacks)


@dataclass(frozen=True)
class Bootstrap:
    """The CDK bootstrap one account and region needs before any stack deploys there."""

    account: str
    region: str
    trust: tuple[str, ...]  # accounts that deploy into this one (cross-account)
    execution_policies: tuple[str, ...] = (EXECUTION_POLICY,)
    qualifier: str = DEFAULT_QUALIFIER
    account_name: str = ""

    @property
    def environment(self) -> str:
        return f"aws://{self.account}/{self.region}"

    def command(self) -> str:
        """The exact ``cdk bootstrap`` command, run with credentials of ``account``."""
        parts = ["cdk", "bootstrap", self.environment]
        if self.qualifier != DEFAULT_QUALIFIER:
            parts += ["--qualifier", self.qualifier]
        for account in self.trust:
            parts += ["--trust", account]
        parts += ["--cloudformation-execution-policies", ",".join(self.execution_policies)]
        return " ".join(parts)


@dataclass(frozen=True)
class PlannedStack:
    name: str
    account: str
    region: str
    wave: int  # 1 for a stack that waits for nothing
    waits_for: tuple[str, ...]  # the stacks the manifest orders directly before it
    prerequisites: tuple[str, ...]  # manual prerequisites (kinds of prerequisites.MANUAL)
    bootstrap: Bootstrap
    account_name: str = ""


@dataclass(frozen=True)
class DeploymentPlan:
    deployer_account: str
    waves: tuple[tuple[PlannedStack, ...], ...]
    bootstraps: tuple[Bootstrap, ...] = field(default=())

    @property
    def stacks(self) -> tuple[PlannedStack, ...]:
        return tuple(stack for wave in self.waves for stack in wave)

    def stack(self, name: str) -> PlannedStack:
        return next(stack for stack in self.stacks if stack.name == name)

    def bootstrap_commands(self) -> list[str]:
        """Every bootstrap in the order to run it, each after a comment naming whose
        credentials it needs."""
        lines: list[str] = []
        for bootstrap in self.bootstraps:
            who = f"{bootstrap.account} ({bootstrap.account_name})" if bootstrap.account_name else bootstrap.account
            trusts = f", trusting {', '.join(bootstrap.trust)}" if bootstrap.trust else ""
            lines += [f"# with credentials of account {who}{trusts}", bootstrap.command()]
        return lines

    def render_markdown(self) -> str:
        """The plan as a Markdown table, one row per stack, wave by wave."""
        rows = [
            "| wave | stack | account | region | waits for | manual prerequisites | bootstrap |",
            "|---:|---|---|---|---|---|---|",
        ]
        for stack in self.stacks:
            account = f"{stack.account_name} `{stack.account}`" if stack.account_name else f"`{stack.account}`"
            waits = ", ".join(f"`{name}`" for name in stack.waits_for) or "-"
            manual = ", ".join(stack.prerequisites) or "-"
            trust = f"trusts `{', '.join(stack.bootstrap.trust)}`" if stack.bootstrap.trust else "own account"
            rows.append(
                f"| {stack.wave} | `{stack.name}` | {account} | {stack.region} | {waits} | {manual} | {trust} |"
            )
        return "\n".join(rows)

    def render_text(self) -> str:
        """The plan for a terminal: each wave, then the bootstrap commands."""
        lines: list[str] = []
        for number, wave in enumerate(self.waves, start=1):
            lines.append(f"wave {number} ({len(wave)} stack{'s' if len(wave) != 1 else ''}, in parallel):")
            for stack in wave:
                waits = f"  after {', '.join(stack.waits_for)}" if stack.waits_for else ""
                manual = f"  needs {', '.join(stack.prerequisites)}" if stack.prerequisites else ""
                lines.append(f"  {stack.name}  {stack.account}/{stack.region}{waits}{manual}")
        return "\n".join(lines)


def waves(dependencies: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Stack names in waves: each stack one wave after the last of those it waits for.
    Raises :class:`CycleError` when the order has a cycle."""
    wave_of: dict[str, int] = {}
    remaining = dict(dependencies)
    while remaining:
        ready = sorted(name for name, deps in remaining.items() if all(d in wave_of for d in deps))
        if not ready:
            raise CycleError(sorted(remaining))
        for name in ready:
            wave_of[name] = 1 + max((wave_of[d] for d in remaining[name]), default=0)
            del remaining[name]
    count = max(wave_of.values(), default=0)
    return [sorted(name for name, wave in wave_of.items() if wave == number) for number in range(1, count + 1)]


def build_plan(
    stacks: Sequence[StackTemplate],
    *,
    deployer_account: str,
    account_names: Mapping[str, str] | None = None,
    pipeline_account: str | None = None,
) -> DeploymentPlan:
    """The plan for the stacks ``cdk deploy`` deploys (a StackSet body is left to its
    StackSet), deployed with credentials of ``deployer_account``: every other account
    trusts it in its bootstrap, and ``pipeline_account`` too when a delivery pipeline in
    that account deploys the same stacks."""
    names = account_names or {}
    deployed = [stack for stack in stacks if deployed_by_cdk(stack)]
    by_name = {stack.name: stack for stack in deployed}
    dependencies = direct_dependencies(deployed)
    ordered = waves(dependencies)

    bootstraps: dict[tuple[str, str], Bootstrap] = {}
    planned: list[list[PlannedStack]] = []
    for number, wave in enumerate(ordered, start=1):
        row: list[PlannedStack] = []
        for name in wave:
            stack = by_name[name]
            key = (stack.account, stack.region)
            if key not in bootstraps:
                deployers = dict.fromkeys(a for a in (deployer_account, pipeline_account) if a is not None)
                trust = tuple(a for a in deployers if a != stack.account)
                bootstraps[key] = Bootstrap(
                    stack.account,
                    stack.region,
                    trust,
                    qualifier=bootstrap_qualifier(stack),
                    account_name=names.get(stack.account, ""),
                )
            manual = sorted({need.kind for need in resource_needs(stack) if need.kind in MANUAL} | {BOOTSTRAP})
            row.append(
                PlannedStack(
                    name,
                    stack.account,
                    stack.region,
                    number,
                    dependencies[name],
                    tuple(manual),
                    bootstraps[key],
                    names.get(stack.account, ""),
                )
            )
        planned.append(row)
    # The deploying account's own environments first, then in the order the waves need them.
    order = sorted(bootstraps.values(), key=lambda b: (b.account != deployer_account,))
    return DeploymentPlan(deployer_account, tuple(tuple(row) for row in planned), tuple(order))
