"""The root of the config: :class:`OrgConfig` composes the sections and checks the rules
that span them.

Each section validates its own fields in its own module (``organization``, ``network``,
``disaster_recovery``, ``streaming``, ``object_index``); this module holds only what needs
more than one section: references between them (an account a pattern names exists and is
a workload account, a VPC the DR workload runs in exists and is shared with it), the
network's hub placement, and the Lambda concurrency the patterns reserve in one account
and region (summed by :mod:`org_config.quotas`). Every rule adds ``"<field path>: <rule>"``
to a list and the validator raises them together
(:func:`org_config.common.raise_problems`), so a user sees every cross-field mistake of a
file in one run.

The four pattern sections after the organization are optional: a section that is absent
means its pattern is not built. Imports only the section modules, ``quotas`` and ``common``.
"""

from __future__ import annotations

from collections import Counter
from typing import TypeVar

from pydantic import Field, model_validator

from org_config.common import (
    KNOWN_REGIONS,
    LOG_RETENTION_DAYS,
    PATTERN_RULES,
    REQUIRED_ROLES,
    RESOURCE_BUDGET,
    ROOT_OU,
    S3_RESERVED_PREFIXES,
    S3_RESERVED_SUFFIXES,
    WORKLOAD_ROLES,
    AccountRole,
    LogRetentionDays,
    OptionalEmail,
    Regions,
    _Model,
    raise_problems,
)
from org_config.delivery import Delivery
from org_config.disaster_recovery import BACKUP_FREQUENCIES_HOURS, BACKUP_START_WINDOW_MINUTES, DisasterRecovery
from org_config.network import (
    ATTACHMENT_SUBNET_PREFIX,
    HUB_SEGMENTS,
    INTERNET,
    ON_PREMISES,
    PRIVATE_ASN_RANGES,
    SMALLEST_SUBNET_PREFIX,
    TGW_MAX_ROUTE_TABLES,
    DirectConnect,
    Firewall,
    FirewallRule,
    Network,
    OnPremisesDns,
    SegmentConnection,
    Vpc,
    Vpn,
)
from org_config.object_index import ObjectIndex
from org_config.organization import (
    DR_TIERS,
    PERMISSION_SET_COUNT,
    Account,
    Assignment,
    BackupPolicy,
    Guardrails,
    IdentityCenter,
    LogArchive,
    Organization,
    OrganizationalUnit,
    ScpLimits,
    SecurityMonitoring,
    TagPolicy,
)
from org_config.quotas import (
    LAMBDA_UNRESERVED_MINIMUM,
    AccountQuotas,
    ConcurrencyReservation,
    concurrency_problems,
    disaster_recovery_reservations,
    object_index_reservation,
    streaming_reservation,
)
from org_config.sandbox import Sandbox
from org_config.streaming import Streaming

# Re-exported: every section model is importable from here, the root that composes them.
__all__ = [
    "ATTACHMENT_SUBNET_PREFIX",
    "BACKUP_FREQUENCIES_HOURS",
    "BACKUP_START_WINDOW_MINUTES",
    "DR_TIERS",
    "HUB_SEGMENTS",
    "INTERNET",
    "KNOWN_REGIONS",
    "LAMBDA_UNRESERVED_MINIMUM",
    "LOG_RETENTION_DAYS",
    "ON_PREMISES",
    "PATTERN_RULES",
    "PERMISSION_SET_COUNT",
    "PRIVATE_ASN_RANGES",
    "REQUIRED_ROLES",
    "RESOURCE_BUDGET",
    "ROOT_OU",
    "S3_RESERVED_PREFIXES",
    "S3_RESERVED_SUFFIXES",
    "SMALLEST_SUBNET_PREFIX",
    "TGW_MAX_ROUTE_TABLES",
    "WORKLOAD_ROLES",
    "Account",
    "AccountQuotas",
    "AccountRole",
    "Assignment",
    "BackupPolicy",
    "ConcurrencyReservation",
    "DirectConnect",
    "DisasterRecovery",
    "Firewall",
    "FirewallRule",
    "Guardrails",
    "IdentityCenter",
    "LogArchive",
    "LogRetentionDays",
    "Network",
    "ObjectIndex",
    "OnPremisesDns",
    "OptionalEmail",
    "OrgConfig",
    "Organization",
    "OrganizationalUnit",
    "Regions",
    "ScpLimits",
    "SecurityMonitoring",
    "SegmentConnection",
    "Streaming",
    "TagPolicy",
    "Vpc",
    "Vpn",
]


class OrgConfig(_Model):
    """The whole organization: the foundation (organization, accounts, regions, guardrails,
    tags, backups, Identity Center, log archive, security monitoring) and the optional
    pattern sections.

    A pattern section is stored as ``<name>_section`` (``None`` when the file leaves it
    out; the stacks' placement code builds nothing for it) and read by the stacks as
    ``config.<name>``, which is only asked of a pattern that is built.
    """

    organization: Organization
    accounts: tuple[Account, ...]
    regions: Regions
    log_archive: LogArchive = LogArchive()
    guardrails: Guardrails
    tag_policy: TagPolicy
    backup_policy: BackupPolicy = BackupPolicy()
    identity_center: IdentityCenter
    security_monitoring: SecurityMonitoring = SecurityMonitoring()
    account_quotas: AccountQuotas = AccountQuotas()
    network_section: Network | None = Field(
        default=None,
        alias="network",
        description="Pattern 2, the hub-and-spoke Transit Gateway network; absent: no network is built",
    )
    disaster_recovery_section: DisasterRecovery | None = Field(
        default=None,
        alias="disaster_recovery",
        description="Pattern 3, the DR workload in the network's shared VPCs; absent: not built",
    )
    object_index_section: ObjectIndex | None = Field(
        default=None, alias="object_index", description="Pattern 4, S3 objects indexed in DynamoDB; absent: not built"
    )
    streaming_section: Streaming | None = Field(
        default=None, alias="streaming", description="Pattern 5, the Kinesis streaming pipeline; absent: not built"
    )
    sandbox: Sandbox | None = Field(
        default=None,
        description="The sandbox profile: every stack in one account (org_config/sandbox.py); absent: an organization",
    )
    delivery: Delivery | None = Field(
        default=None, description="The pipeline that deploys the organization; absent: deployed by hand"
    )

    # The sections as the stacks of a built pattern read them.

    @property
    def network(self) -> Network:
        return _present(self.network_section, "network")

    @property
    def disaster_recovery(self) -> DisasterRecovery:
        return _present(self.disaster_recovery_section, "disaster_recovery")

    @property
    def object_index(self) -> ObjectIndex:
        return _present(self.object_index_section, "object_index")

    @property
    def streaming(self) -> Streaming:
        return _present(self.streaming_section, "streaming")

    @property
    def has_vpcs(self) -> bool:
        """Whether the network pattern is built: a network section with at least one VPC."""
        return self.network_section is not None and bool(self.network_section.vpcs)

    @model_validator(mode="after")
    def _cross_references(self) -> OrgConfig:
        # In the order of the file; each check skips what an earlier problem makes unknowable.
        problems: list[str] = []
        problems += self._unique_problems()
        ou_problems = self._ou_problems()
        problems += ou_problems
        role_problems = self._role_problems()
        problems += role_problems
        problems += self._reference_problems(ous_valid=not ou_problems)
        if not role_problems:
            problems += self._network_problems()
        problems += self._disaster_recovery_problems()
        problems += self._concurrency_problems()
        raise_problems(problems)
        return self

    def _unique_problems(self) -> list[str]:
        problems = []
        if self.sandbox is not None:
            # The sandbox profile: one account plays every role, so every id is the sandbox's.
            problems += [
                f"accounts[{index}].id: '{account.id}' is not sandbox.account_id '{self.sandbox.account_id}'; "
                "in the sandbox profile every account is that one account"
                for index, account in enumerate(self.accounts)
                if account.id != self.sandbox.account_id
            ]
        for attribute in ("name", "email") if self.sandbox is not None else ("name", "id", "email"):
            seen: set[str] = set()
            for index, account in enumerate(self.accounts):
                value: str = getattr(account, attribute)
                key = value.lower() if attribute == "email" else value  # emails: case-insensitive
                if key in seen:
                    problems.append(f"accounts[{index}].{attribute}: '{value}' is used by more than one account")
                seen.add(key)
        return problems

    def _ou_problems(self) -> list[str]:
        problems = []
        ous = self.organization.organizational_units
        names = [ou.name for ou in ous]
        field = "organization.organizational_units"
        for index, ou in enumerate(ous):
            if ou.name == ROOT_OU:
                problems.append(f"{field}[{index}].name: '{ROOT_OU}' is reserved for the root")
            elif ou.name in names[:index]:
                problems.append(f"{field}[{index}].name: '{ou.name}' is defined twice")
            if ou.parent != ROOT_OU and ou.parent not in names:
                problems.append(f"{field}[{index}].parent: '{ou.parent}' is not a defined OU")
        if not problems:  # the walk up needs every parent defined
            parents = {ou.name: ou.parent for ou in ous}
            for index, ou in enumerate(ous):
                seen = {ou.name}
                node = ou.parent
                while node != ROOT_OU:
                    if node in seen:
                        problems.append(f"{field}[{index}].parent: OU '{ou.name}' is in a cycle")
                        break
                    seen.add(node)
                    node = parents[node]
        for index, account in enumerate(self.accounts):
            if account.role is AccountRole.MANAGEMENT:
                if account.ou != ROOT_OU:
                    problems.append(f"accounts[{index}].ou: the management account stays at the root (ou: {ROOT_OU})")
            elif account.ou not in names:
                problems.append(
                    f"accounts[{index}].ou: '{account.ou}' is not a defined OU; every member account must be in one"
                )
        return problems

    def _role_problems(self) -> list[str]:
        problems = []
        roles = Counter(account.role for account in self.accounts)
        for role in REQUIRED_ROLES:
            if roles[role] == 0:
                problems.append(f"accounts: no account has the required role '{role.value}'")
            elif roles[role] > 1:
                problems.append(f"accounts: role '{role.value}' is given to more than one account")
        return problems

    def _reference_problems(self, *, ous_valid: bool) -> list[str]:
        problems = []
        names = {a.name for a in self.accounts}
        if self.delivery is not None and self.delivery.account not in names:
            problems.append(f"delivery.account: '{self.delivery.account}' is not a defined account")
        if self.network_section is not None:
            for name, vpc in self.network_section.vpcs.items():
                if vpc.account not in names:
                    problems.append(f"network.vpcs.{name}.account: '{vpc.account}' is not a defined account")
                if vpc.region not in self.regions.allowed:
                    problems.append(f"network.vpcs.{name}.region: '{vpc.region}' is not in regions.allowed")
        ous = {ou.name for ou in self.organization.organizational_units}
        for ou, scps in self.guardrails.scps_by_ou.items():
            if ou not in ous:
                problems.append(f"guardrails.scps_by_ou.{ou}: '{ou}' is not a defined OU")
            elif "deny-all" in scps and ous_valid:  # the OU paths need a valid tree
                held = [
                    a for a in self.accounts if a.role in REQUIRED_ROLES and a.ou in ous and ou in self.ou_path(a.ou)
                ]
                if held:
                    problems.append(
                        f"guardrails.scps_by_ou.{ou}: 'deny-all' would stop account '{held[0].name}' "
                        f"(role {held[0].role.value}), which the organization needs; attach it only to an OU "
                        "of accounts that are being retired"
                    )
        for index, ou in enumerate(self.guardrails.member_roles_ous):
            if ou not in ous:
                problems.append(f"guardrails.member_roles_ous[{index}]: '{ou}' is not a defined OU")
        for index, assignment in enumerate(self.identity_center.assignments):
            for position, account in enumerate(assignment.accounts):
                if account not in names:
                    field = f"identity_center.assignments[{index}].accounts[{position}]"
                    problems.append(f"{field}: '{account}' is not a defined account")
        for section, settings in (
            ("disaster_recovery", self.disaster_recovery_section),
            ("streaming", self.streaming_section),
            ("object_index", self.object_index_section),
        ):
            if settings is not None:
                problems += self._workload_account_problems(section, settings.account)
        return problems

    def _network_problems(self) -> list[str]:
        """The hub sits in the home region, the DR region has a Transit Gateway peered to
        it, and the network account owns the hub VPCs."""
        network = self.network_section
        if network is None:
            return []
        problems = []
        home, dr = self.regions.home, self.regions.dr
        network_account = self.account(AccountRole.NETWORK).name
        for name, vpc in network.vpcs.items():
            if vpc.region not in (home, dr):
                problems.append(
                    f"network.vpcs.{name}.region: '{vpc.region}' has no Transit Gateway; use regions.home "
                    f"({home}) or regions.dr ({dr})"
                )
            elif vpc.segment in HUB_SEGMENTS and vpc.region != home:
                problems.append(f"network.vpcs.{name}.region: the {vpc.segment} VPC belongs in regions.home ({home})")
            if vpc.segment in HUB_SEGMENTS and vpc.account != network_account:
                problems.append(
                    f"network.vpcs.{name}.account: the {vpc.segment} VPC belongs to the network account "
                    f"'{network_account}'"
                )
        if network.services_vpc is not None:
            services = network.vpcs.get(network.services_vpc)
            if services is None or services.region != home or services.segment in HUB_SEGMENTS:
                problems.append(
                    f"network.services_vpc: '{network.services_vpc}' is not a workload VPC of regions.home ({home})"
                )
        if (network.interface_endpoints or network.on_premises_dns) and network.services_vpc is None:
            problems.append("network.services_vpc: required for interface_endpoints and on_premises_dns")
        if not network.vpcs:
            return problems
        for segment in HUB_SEGMENTS:
            count = sum(1 for vpc in network.vpcs.values() if vpc.segment == segment)
            if count != 1:
                problems.append(f"network.vpcs: {count} VPCs have segment '{segment}'; the hub needs exactly one")
        for region in sorted({vpc.region for vpc in network.vpcs.values()}):
            if region not in network.transit_gateway_asns:
                problems.append(f"network.transit_gateway_asns: no ASN for {region}, which has VPCs")
        if len(set(network.transit_gateway_asns.values())) != len(network.transit_gateway_asns):
            problems.append("network.transit_gateway_asns: each Transit Gateway needs its own ASN")
        return problems

    def _disaster_recovery_problems(self) -> list[str]:
        """The workload runs in the network's VPCs: spokes shared with its account in the
        home and DR regions. Without them the pattern cannot be built, which is an error,
        not a reason to leave it out silently."""
        dr = self.disaster_recovery_section
        if dr is None:
            return []
        if not self.has_vpcs:
            return [
                f"disaster_recovery: runs in the network's VPCs (home_vpc '{dr.home_vpc}', dr_vpc '{dr.dr_vpc}'), "
                "but network.vpcs has none; add the network section with them, or remove disaster_recovery"
            ]
        vpcs = self.network.vpcs
        problems = []
        for field, name, region in (
            ("home_vpc", dr.home_vpc, self.regions.home),
            ("dr_vpc", dr.dr_vpc, self.regions.dr),
        ):
            vpc = vpcs.get(name)
            if vpc is None:
                problems.append(f"disaster_recovery.{field}: '{name}' is not a VPC of network.vpcs")
            elif vpc.region != region:
                problems.append(f"disaster_recovery.{field}: '{name}' is in {vpc.region}, not {region}")
            elif vpc.account != dr.account:
                problems.append(
                    f"disaster_recovery.{field}: '{name}' is shared with '{vpc.account}', not '{dr.account}'"
                )
        return problems

    def _workload_account_problems(self, section: str, name: str) -> list[str]:
        if name not in {a.name for a in self.accounts}:
            return [f"{section}.account: '{name}' is not a defined account"]
        role = self.account_named(name).role
        if role not in WORKLOAD_ROLES:
            allowed = ", ".join(sorted(r.value for r in WORKLOAD_ROLES))
            return [
                f"{section}.account: '{name}' has role '{role.value}'; "
                f"the pattern deploys only to an account with role {allowed}"
            ]
        return []

    def _concurrency_problems(self) -> list[str]:
        names = {a.name for a in self.accounts}
        reservations = [r for r in self.reserved_concurrency() if r.account in names]
        return concurrency_problems(reservations, self.account_quotas)

    def reserved_concurrency(self) -> list[ConcurrencyReservation]:
        """What each built pattern's functions reserve, by account and region."""
        home, dr_region = self.regions.home, self.regions.dr
        reservations = []
        if self.object_index_section is not None:
            reservations.append(object_index_reservation(self.object_index_section, home))
        if self.streaming_section is not None:
            reservations.append(streaming_reservation(self.streaming_section, home))
        if self.disaster_recovery_section is not None and self.has_vpcs:
            reservations += disaster_recovery_reservations(self.disaster_recovery_section, home, dr_region)
        return reservations

    # Lookups the stacks use, so no stack searches the account list itself.

    def account(self, role: AccountRole) -> Account:
        """The single account holding ``role`` (validation guarantees there is one)."""
        return next(a for a in self.accounts if a.role is role)

    def builds(self, pattern: str) -> bool:
        """Whether the sandbox profile builds ``pattern``: every pattern the config has in an
        organization, only the chosen ones in the sandbox profile."""
        return self.sandbox is None or self.sandbox.builds(pattern)

    def account_named(self, name: str) -> Account:
        return next(a for a in self.accounts if a.name == name)

    def ou_path(self, ou: str) -> list[str]:
        """OU names from the top level down to ``ou`` (the root is not included)."""
        parents = {o.name: o.parent for o in self.organization.organizational_units}
        path = [ou]
        while parents[path[0]] != ROOT_OU:
            path.insert(0, parents[path[0]])
        return path


_Section = TypeVar("_Section")


def _present(section: _Section | None, key: str) -> _Section:
    if section is None:
        raise LookupError(f"the config has no {key} section, so its pattern is not built")
    return section
