"""The gates every synthesized template must pass, as plain functions over an assembly.

The test suite runs them on the example organization (one test per gate and stack) and
``make check`` runs them on a user's own organization; both call these functions, so
there is one definition of what passing means. Each gate returns its findings; an empty
list is a pass.

The synth-time gates (cdk-nag, Control Tower) fail ``cdk synth`` itself; here they are
checked again on the templates (Control Tower rules on every template, including the
StackSet body that no synth-time plugin sees) together with the reasons every
acknowledgement, exemption and skip must carry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from analysis import control_tower, scanners
from analysis.assembly import StackTemplate
from analysis.deployment import gate as deployment_gate
from analysis.limits import check_template
from analysis.stateful import unretained
from org_config.model import RESOURCE_BUDGET, OrgConfig

MIN_REASON_LENGTH = 30


@dataclass(frozen=True)
class Finding:
    gate: str
    stack: str
    message: str

    def __str__(self) -> str:
        return f"{self.gate}: {self.stack}: {self.message}"


Gate = Callable[[Sequence[StackTemplate]], list[Finding]]


def cfn_lint(stacks: Sequence[StackTemplate]) -> list[Finding]:
    """Any cfn-lint error, warning or informational finding."""
    results = scanners.cfn_lint(tuple(stack.template_path for stack in stacks))
    return [
        Finding("cfn-lint", stack.name, f"{m['Rule']['Id']} {m['Level']}: {m['Message']}")
        for stack in stacks
        for m in results.get(stack.template_path.name, [])
    ]


def checkov(stacks: Sequence[StackTemplate]) -> list[Finding]:
    """Any failed checkov check; a skip without a reason; a skip of a check that does not
    run on that resource (stale)."""
    results = scanners.checkov(tuple(stack.template_path for stack in stacks))
    findings: list[Finding] = []
    for stack in stacks:
        result = results[stack.template_path.name]
        findings += [
            Finding("checkov", stack.name, f"{c['check_id']} {c['resource']}: {c['check_name']}")
            for c in result["failed"]
        ]
        applied = {(c["resource"].split(".", 1)[1], c["check_id"]) for c in result["skipped"]}
        for logical_id, resource in stack.template.get("Resources", {}).items():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                if len(skip.get("comment", "").strip()) < MIN_REASON_LENGTH:
                    findings.append(Finding("checkov", stack.name, f"{logical_id} skips {skip['id']} without a reason"))
                if (logical_id, skip["id"]) not in applied:
                    findings.append(
                        Finding(
                            "checkov", stack.name, f"{logical_id} skips {skip['id']}, which checkov does not run there"
                        )
                    )
    return findings


def control_tower_controls(stacks: Sequence[StackTemplate]) -> list[Finding]:
    """Any Control Tower proactive control a resource fails without an exemption; an
    exemption without a reason; an exemption no finding needs (stale)."""
    results = control_tower.evaluate([stack.template_path for stack in stacks])
    findings: list[Finding] = []
    for stack in stacks:
        result = results[stack.template_path.name]
        findings += [Finding("control-tower", stack.name, line) for line in control_tower.describe(result.failed)]
        for (logical_id, rule), reason in control_tower.exemptions(stack.template).items():
            if len(reason.strip()) < MIN_REASON_LENGTH:
                findings.append(
                    Finding("control-tower", stack.name, f"{logical_id} is exempt from {rule} without a reason")
                )
        findings += [
            Finding("control-tower", stack.name, f"exemption no finding needs: {unused}")
            for unused in control_tower.unused_exemptions(stack.template, result)
        ]
    return findings


def cdk_nag_reasons(stacks: Sequence[StackTemplate]) -> list[Finding]:
    """A cdk-nag acknowledgement without a reason (open findings fail the synth itself)."""
    return [
        Finding("cdk-nag", stack.name, f"{logical_id} acknowledges {rule['id']} without a reason")
        for stack in stacks
        for logical_id, resource in stack.template.get("Resources", {}).items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
        if len(rule.get("reason", "").strip()) < MIN_REASON_LENGTH
    ]


def limits(stacks: Sequence[StackTemplate]) -> list[Finding]:
    """Any CloudFormation quota exceeded, or more resources than the project's budget
    (half the quota, so a stack can grow without hitting the wall)."""
    findings: list[Finding] = []
    for stack in stacks:
        findings += [
            Finding("limits", stack.name, f"{usage.name} {usage.used:,} over {usage.maximum:,}")
            for usage in check_template(stack.template, stack.body_bytes)
            if usage.exceeded
        ]
        if stack.resource_count > RESOURCE_BUDGET:
            findings.append(
                Finding("limits", stack.name, f"{stack.resource_count} resources, over the budget of {RESOURCE_BUDGET}")
            )
    return findings


def retention(stacks: Sequence[StackTemplate]) -> list[Finding]:
    """A bucket, key, table, stream or vault that a stack deletion or replacement would destroy."""
    return [
        Finding("retention", stack.name, f"{logical_id} is not retained on delete and replace")
        for stack in stacks
        for logical_id in unretained(stack.template)
    ]


def offline(stacks: Sequence[StackTemplate]) -> list[Finding]:
    """A value looked up from an AWS account at deploy time instead of taken from the config."""
    return [
        Finding("offline", stack.name, "Fn::GetAZs: availability zones must come from the config")
        for stack in stacks
        if "Fn::GetAZs" in str(stack.template)
    ]


def deployability(stacks: Sequence[StackTemplate]) -> list[Finding]:
    """A broken wire of a first deploy: a value, a permission or an organization prerequisite
    a stack needs that nothing provides before it (:mod:`analysis.deployment.gate`)."""
    return [Finding("deployability", stack, message) for stack, message in deployment_gate.check(stacks)]


# Every template gate, in the order `make check` reports them.
TEMPLATE_GATES: dict[str, Gate] = {
    "cfn-lint": cfn_lint,
    "checkov": checkov,
    "control-tower": control_tower_controls,
    "cdk-nag": cdk_nag_reasons,
    "limits": limits,
    "retention": retention,
    "offline": offline,
    "deployability": deployability,
}


def run_template_gates(stacks: Sequence[StackTemplate]) -> dict[str, list[Finding]]:
    """Every template gate on ``stacks``, by gate name. The gates run side by side: the
    slow ones (cfn-lint, checkov, cfn-guard) are separate processes, so on two cores this
    takes as long as the slowest rather than the sum."""
    with ThreadPoolExecutor(max_workers=len(TEMPLATE_GATES)) as pool:
        futures = {name: pool.submit(gate, stacks) for name, gate in TEMPLATE_GATES.items()}
    return {name: future.result() for name, future in futures.items()}


def guardrail_table(config: OrgConfig, stacks: Sequence[StackTemplate]) -> list[Finding]:
    """A request of the guardrail table whose decision, evaluated against the service
    control policies in the synthesized organization template, is not the expected one."""
    from analysis.organization.guardrail_cases import CASES
    from analysis.organization.report import build_organization, evaluate_cases, scps_from_template

    organization = next((s for s in stacks if s.name == f"organization-{config.regions.home}"), None)
    if organization is None:
        return [Finding("guardrails", "-", f"no organization-{config.regions.home} stack in the assembly")]
    scps = scps_from_template(config, organization.template)
    return [
        Finding(
            "guardrails",
            organization.name,
            f"{outcome.case.who} in {outcome.account.name}: {outcome.case.action} on {outcome.request.resource} "
            f"was {'allowed' if outcome.decision.allowed else 'denied'}, expected "
            f"{'allowed' if outcome.case.expected else 'denied'} ({outcome.why})",
        )
        for outcome in evaluate_cases(config, build_organization(config, scps), CASES)
        if not outcome.as_expected
    ]


def determinism(first: Sequence[StackTemplate], second: Sequence[StackTemplate]) -> list[Finding]:
    """A template that differs between two synths of the same config."""
    names = {s.name for s in first} ^ {s.name for s in second}
    findings = [Finding("determinism", name, "synthesized by only one of two synths") for name in sorted(names)]
    by_name = {s.name: s for s in second}
    findings += [
        Finding("determinism", stack.name, "template differs between two synths of the same config")
        for stack in first
        if stack.name in by_name and stack.template_path.read_bytes() != by_name[stack.name].template_path.read_bytes()
    ]
    return findings
