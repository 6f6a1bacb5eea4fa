"""What the organization's guardrails do, proven from the synthesized template.

Builds the organization tree from the config and the service control policies from the
``AWS::Organizations::Policy`` resources of the synthesized organization template (not
from a second copy), evaluates the guardrail request table with the offline evaluator,
and renders the generated sections of ``docs/patterns/organization.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.organization.scp_evaluator import Decision, Organization, Request, evaluate, minified_size
from org_config.model import KNOWN_REGIONS, ROOT_OU, Account, AccountRole, OrgConfig
from org_config.names import log_bucket_name

FULL_AWS_ACCESS = "FullAWSAccess"
_FULL_AWS_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
_CDK_QUALIFIER = "hnb659fds"


@dataclass(frozen=True)
class ScpResource:
    """One SCP as the template declares it, with the targets resolved to names."""

    name: str
    document: dict[str, Any]
    targets: tuple[str, ...]  # "Root" or OU names

    @property
    def minified_size(self) -> int:
        return minified_size(self.document)


def scps_from_template(config: OrgConfig, template: Mapping[str, Any]) -> list[ScpResource]:
    """The SCPs of the organization template, with ``TargetIds`` resolved to OU names."""
    resources: Mapping[str, Any] = template["Resources"]
    ou_names = {
        logical_id: resource["Properties"]["Name"]
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Organizations::OrganizationalUnit"
    }

    def target_name(target: Any) -> str:
        if target == config.organization.root_id:
            return ROOT_OU
        if isinstance(target, dict) and "Fn::GetAtt" in target:
            return str(ou_names[target["Fn::GetAtt"][0]])
        raise ValueError(f"unexpected SCP target {target!r}")

    scps = []
    for resource in resources.values():
        if resource["Type"] != "AWS::Organizations::Policy":
            continue
        properties = resource["Properties"]
        if properties["Type"] != "SERVICE_CONTROL_POLICY":
            continue
        name = str(properties["Name"]).removeprefix(f"{config.organization.name_prefix}-")
        targets = tuple(target_name(t) for t in properties["TargetIds"])
        scps.append(ScpResource(name, properties["Content"], targets))
    return sorted(scps, key=lambda scp: scp.name)


def build_organization(config: OrgConfig, scps: list[ScpResource]) -> Organization:
    """The evaluator's view: the OU tree and accounts from the config, FullAWSAccess on
    every target (AWS attaches it to each new OU and account), and the template's SCPs."""
    management = config.account(AccountRole.MANAGEMENT)
    org = Organization(management.id, root_id=ROOT_OU)
    org.attach(ROOT_OU, _FULL_AWS_ACCESS, FULL_AWS_ACCESS)
    pending = list(config.organization.organizational_units)
    added: set[str] = set()
    while pending:
        ou = next(o for o in pending if o.parent == ROOT_OU or o.parent in added)
        pending.remove(ou)
        org.add_ou(ou.name, ou.parent)
        org.attach(ou.name, _FULL_AWS_ACCESS, FULL_AWS_ACCESS)
        added.add(ou.name)
    for account in config.accounts:
        if account.role is AccountRole.MANAGEMENT:
            continue
        org.add_account(account.id, account.ou)
        org.attach(account.id, _FULL_AWS_ACCESS, FULL_AWS_ACCESS)
    for scp in scps:
        for target in scp.targets:
            org.attach(target, scp.document, scp.name)
    return org


# Who makes a request, as an IAM principal in the account.
PRINCIPALS: dict[str, str] = {
    "administrator": "role/aws-reserved/sso.amazonaws.com/{region}/AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6a7b",
    "application": "role/app-deployer",
    "root user": "root",
    "break-glass": "role/{break_glass}",
    "CDK deployment": "role/cdk-{qualifier}-cfn-exec-role-{account}-{region}",
    "service-linked role": "role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
}


@dataclass(frozen=True)
class Subject:
    """The account a case asks from, named by what it is, never by an example name: the
    first account (in config order) with ``role`` (any member account when ``None``) to
    which every SCP of ``under`` applies and none of ``not_under`` (attached to it, to an
    OU above it, or to the root)."""

    role: AccountRole | None
    under: tuple[str, ...] = ()
    not_under: tuple[str, ...] = ()

    def describe(self) -> str:
        """E.g. ``sandbox account that sandbox-cost-controls applies to and deny-all does not``."""
        text = f"{self.role.value} account" if self.role else "member account"
        clauses = []
        if self.under:
            clauses.append(f"{', '.join(self.under)} {'applies' if len(self.under) == 1 else 'apply'} to")
        if self.not_under:
            clauses.append(f"{', '.join(self.not_under)} {'does' if len(self.not_under) == 1 else 'do'} not")
        return text + (f" that {' and '.join(clauses)}" if clauses else "")


def applied_policies(org: Organization, account_id: str) -> set[str]:
    """The names of the SCPs that apply to an account: on it, on an OU above it, at the root."""
    return {policy.name for target in org.path_to(account_id) for policy in org.policies(target)}


def select_account(config: OrgConfig, org: Organization, subject: Subject) -> Account | None:
    """The account a case's subject names in this organization, or ``None`` if it has none."""
    for account in config.accounts:
        if account.role is AccountRole.MANAGEMENT and subject.role is not AccountRole.MANAGEMENT:
            continue
        if subject.role is not None and account.role is not subject.role:
            continue
        if account.role is AccountRole.MANAGEMENT:
            return account  # outside the tree's SCPs: exempt whatever is attached
        applied = applied_policies(org, account.id)
        if set(subject.under) <= applied and not set(subject.not_under) & applied:
            return account
    return None


@dataclass(frozen=True)
class GuardrailCase:
    """A request and the decision the guardrails must reach, with the reason."""

    who: str  # a key of PRINCIPALS
    subject: Subject  # which account asks
    action: str
    expected: bool  # True: allowed by the SCPs
    why: str  # may name {region} (of the request) and {ou} (the account's OU)
    resource: str  # an ARN ({account} and {region} filled in), or "*" for an action without a resource type
    region: str | None = None  # None: the home region
    context: Mapping[str, str | bool | list[str]] = field(default_factory=dict)

    def request(self, config: OrgConfig, account: Account) -> Request:
        """The case as the evaluator receives it, asked from ``account``."""
        values = placeholders(config, account, self.region)
        principal = PRINCIPALS[self.who].format(
            region=config.regions.home,
            break_glass=config.guardrails.break_glass_role,
            qualifier=_CDK_QUALIFIER,
            account=account.id,
        )
        return Request(
            principal_arn=f"arn:aws:iam::{account.id}:{principal}",
            account_id=account.id,
            action=self.action,
            resource=self.resource.format(**values),
            region=values["region"],
            context={
                key: [v.format(**values) for v in value]
                if isinstance(value, list)
                else value.format(**values)
                if isinstance(value, str)
                else value
                for key, value in self.context.items()
            },
        )


def outside_region(config: OrgConfig) -> str:
    """A region the organization does not allow: us-east-1 when it is not allowed (global
    services live there, which makes the exemptions interesting), else the first other."""
    candidates = ["us-east-1", *sorted(KNOWN_REGIONS)]
    return next(region for region in candidates if region not in config.regions.allowed)


# Instance types tried, in order, for one the sandbox cost controls refuse.
_LARGE_INSTANCES = ("m5.4xlarge", "p4d.24xlarge", "u-24tb1.112xlarge")


def _instance_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


def instance_types(config: OrgConfig) -> tuple[str, str]:
    """An instance type the sandbox cost controls allow (the first allowed pattern made
    concrete) and one they refuse (the first of a few large types no pattern allows)."""
    patterns = [_instance_pattern(p) for p in config.guardrails.sandbox_instance_types]
    small = config.guardrails.sandbox_instance_types[0].replace("*", "micro").replace("?", "1")
    large = next((t for t in _LARGE_INSTANCES if not any(p.fullmatch(t) for p in patterns)), _LARGE_INSTANCES[-1])
    return small, large


def placeholders(config: OrgConfig, account: Account, region: str | None) -> dict[str, str]:
    """What a case's resource, region and context may refer to: ``{account}`` and
    ``{region}`` of the request, and the organization's ``{home}``, ``{dr}``, ``{outside}``
    (a region it does not allow), ``{prefix}``, ``{log_archive}`` (account id),
    ``{cloudtrail_bucket}``, ``{small_instance}`` and ``{large_instance}`` (instance types the
    sandbox cost controls allow and refuse)."""
    small, large = instance_types(config)
    values = {
        "home": config.regions.home,
        "dr": config.regions.dr,
        "outside": outside_region(config),
        "prefix": config.organization.name_prefix,
        "log_archive": config.account(AccountRole.LOG_ARCHIVE).id,
        "cloudtrail_bucket": log_bucket_name(config, "cloudtrail"),
        "small_instance": small,
        "large_instance": large,
        "account": account.id,
    }
    values["region"] = (region or "{home}").format(**values)
    return values


@dataclass(frozen=True)
class Outcome:
    case: GuardrailCase
    account: Account
    """The account the case's subject names in this organization."""
    request: Request
    """The case as sent to the evaluator: account, region and resource filled in."""
    decision: Decision

    @property
    def as_expected(self) -> bool:
        return self.decision.allowed == self.case.expected

    @property
    def why(self) -> str:
        return self.case.why.format(region=self.request.region, ou=self.account.ou)


@dataclass(frozen=True)
class LeftOut:
    """A case whose subject this organization does not have."""

    case: GuardrailCase

    @property
    def reason(self) -> str:
        return f"this organization has no {self.case.subject.describe()}"


def evaluate_cases(config: OrgConfig, org: Organization, cases: list[GuardrailCase]) -> list[Outcome]:
    """Every case whose subject exists in this organization, evaluated; the others are
    :func:`left_out_cases`."""
    outcomes = []
    for case in cases:
        account = select_account(config, org, case.subject)
        if account is not None:
            request = case.request(config, account)
            outcomes.append(Outcome(case, account, request, evaluate(org, request)))
    return outcomes


def left_out_cases(config: OrgConfig, org: Organization, cases: list[GuardrailCase]) -> list[LeftOut]:
    """The cases :func:`evaluate_cases` leaves out, because their subject does not exist."""
    return [LeftOut(case) for case in cases if select_account(config, org, case.subject) is None]


# Rendering of the generated sections of docs/patterns/organization.md.


def render_ou_tree(config: OrgConfig, scps: list[ScpResource]) -> str:
    """A mermaid graph of the OUs and the accounts in them, with SCPs per OU."""
    by_target: dict[str, list[str]] = {}
    for scp in scps:
        for target in scp.targets:
            by_target.setdefault(target, []).append(scp.name)

    def node_id(name: str) -> str:
        return "".join(ch for ch in name.title() if ch.isalnum())

    root_label = "Root" + (f"<br/><small>{', '.join(by_target[ROOT_OU])}</small>" if ROOT_OU in by_target else "")
    lines = ["```mermaid", "graph TD", f'  Root["{root_label}"]']
    for ou in config.organization.organizational_units:
        label = ou.name + (
            f"<br/><small>{', '.join(sorted(by_target[ou.name]))}</small>" if ou.name in by_target else ""
        )
        lines.append(f'  {node_id(ou.name)}["{label}"]')
        lines.append(f"  {node_id(ou.parent) if ou.parent != ROOT_OU else 'Root'} --> {node_id(ou.name)}")
    for account in config.accounts:
        parent = "Root" if account.ou == ROOT_OU else node_id(account.ou)
        lines.append(f'  acct_{account.id}(["{account.name}<br/>{account.id}"])')
        lines.append(f"  {parent} -.- acct_{account.id}")
    lines.append("```")
    return "\n".join(lines)


def render_scp_matrix(config: OrgConfig, scps: list[ScpResource]) -> str:
    """Which SCP applies to which OU: attached there, or inherited from a parent."""
    columns = [ROOT_OU, *(ou.name for ou in config.organization.organizational_units)]
    header = "| SCP | minified size | " + " | ".join(columns) + " |"
    rows = [header, "|" + " --- |" * (len(columns) + 2)]
    for scp in scps:
        cells = []
        for column in columns:
            path = [ROOT_OU] if column == ROOT_OU else [ROOT_OU, *config.ou_path(column)]
            if column in scp.targets:
                cells.append("attached")
            elif any(p in scp.targets for p in path[:-1]):
                cells.append("inherited")
            else:
                cells.append("")
        rows.append(f"| `{scp.name}` | {scp.minified_size:,} | " + " | ".join(cells) + " |")
    rows.append(
        f"| `{FULL_AWS_ACCESS}` (AWS) | {minified_size(_FULL_AWS_ACCESS)} | "
        + " | ".join("attached" for _ in columns)
        + " |"
    )
    return "\n".join(rows)


def render_case_table(outcomes: list[Outcome], left_out: list[LeftOut] | None = None) -> str:
    """The request table: each case with the account and resource as requested and the
    decision; then one line per case left out because its subject does not exist here."""
    rows = ["| # | who | account | action | resource | region | decision | decided by | why |", "|" + " --- |" * 9]
    for number, outcome in enumerate(outcomes, start=1):
        case, decision = outcome.case, outcome.decision
        verdict = "allow" if decision.allowed else "**deny**"
        decided_by = (
            f"`{decision.deciding_policy}` / `{decision.deciding_statement}`"
            if decision.deciding_statement
            else ("exempt" if "not restrict" in decision.reason else "")
        )
        action = case.action + (f" `{json.dumps(dict(outcome.request.context))}`" if case.context else "")
        resource = outcome.request.resource
        region = "home" if case.region is None else outcome.request.region
        rows.append(
            f"| {number} | {case.who} | {outcome.account.name} | `{action}` | `{resource}` | {region} | "
            f"{verdict} | {decided_by} | {outcome.why} |"
        )
    if left_out:
        rows += ["", f"Left out: {len(left_out)} case(s) whose subject this organization does not have."]
        rows += [f"- {o.case.who}: `{o.case.action}` ({o.case.why}): {o.reason}" for o in left_out]
    return "\n".join(rows)
