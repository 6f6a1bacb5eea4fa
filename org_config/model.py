"""Typed model of the organization the app synthesizes.

Every field a stack reads is declared here, validated once, and frozen. A rule that
spans fields (unique ids, OU parents, CIDR overlaps) lives in a model validator that
raises ``ValueError("<field path>: <rule>")`` so the loader can print one line that
names the field and the rule.
"""

from __future__ import annotations

from collections import Counter

from pydantic import model_validator

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
)
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
    "AccountRole",
    "Assignment",
    "BackupPolicy",
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
    organization: Organization
    accounts: tuple[Account, ...]
    regions: Regions
    network: Network
    log_archive: LogArchive = LogArchive()
    guardrails: Guardrails
    tag_policy: TagPolicy
    backup_policy: BackupPolicy = BackupPolicy()
    identity_center: IdentityCenter
    disaster_recovery: DisasterRecovery = DisasterRecovery()
    streaming: Streaming  # required until the pattern sections become optional; its account has no default
    object_index: ObjectIndex = ObjectIndex()
    security_monitoring: SecurityMonitoring = SecurityMonitoring()

    @model_validator(mode="after")
    def _cross_references(self) -> OrgConfig:
        self._check_unique()
        self._check_ous()
        self._check_roles()
        self._check_references()
        self._check_network()
        self._check_disaster_recovery()
        return self

    def _check_unique(self) -> None:
        for attribute in ("name", "id", "email"):
            seen: set[str] = set()
            for index, account in enumerate(self.accounts):
                value: str = getattr(account, attribute)
                key = value.lower() if attribute == "email" else value  # emails: case-insensitive
                if key in seen:
                    raise ValueError(f"accounts[{index}].{attribute}: '{value}' is used by more than one account")
                seen.add(key)

    def _check_ous(self) -> None:
        ous = self.organization.organizational_units
        names = [ou.name for ou in ous]
        for index, ou in enumerate(ous):
            if ou.name == ROOT_OU:
                raise ValueError(
                    f"organization.organizational_units[{index}].name: '{ROOT_OU}' is reserved for the root"
                )
            if ou.name in names[:index]:
                raise ValueError(f"organization.organizational_units[{index}].name: '{ou.name}' is defined twice")
            if ou.parent != ROOT_OU and ou.parent not in names:
                raise ValueError(
                    f"organization.organizational_units[{index}].parent: '{ou.parent}' is not a defined OU"
                )
        parents = {ou.name: ou.parent for ou in ous}
        for index, ou in enumerate(ous):
            seen = {ou.name}
            node = ou.parent
            while node != ROOT_OU:
                if node in seen:
                    raise ValueError(f"organization.organizational_units[{index}].parent: OU '{ou.name}' is in a cycle")
                seen.add(node)
                node = parents[node]
        for index, account in enumerate(self.accounts):
            if account.role is AccountRole.MANAGEMENT:
                if account.ou != ROOT_OU:
                    raise ValueError(f"accounts[{index}].ou: the management account stays at the root (ou: {ROOT_OU})")
            elif account.ou not in names:
                raise ValueError(
                    f"accounts[{index}].ou: '{account.ou}' is not a defined OU; every member account must be in one"
                )

    def _check_roles(self) -> None:
        roles = Counter(account.role for account in self.accounts)
        for role in REQUIRED_ROLES:
            if roles[role] == 0:
                raise ValueError(f"accounts: no account has the required role '{role.value}'")
            if roles[role] > 1:
                raise ValueError(f"accounts: role '{role.value}' is given to more than one account")

    def _check_references(self) -> None:
        names = {a.name for a in self.accounts}
        for name, vpc in self.network.vpcs.items():
            if vpc.account not in names:
                raise ValueError(f"network.vpcs.{name}.account: '{vpc.account}' is not a defined account")
            if vpc.region not in self.regions.allowed:
                raise ValueError(f"network.vpcs.{name}.region: '{vpc.region}' is not in regions.allowed")
        ous = {ou.name for ou in self.organization.organizational_units}
        for ou, scps in self.guardrails.scps_by_ou.items():
            if ou not in ous:
                raise ValueError(f"guardrails.scps_by_ou.{ou}: '{ou}' is not a defined OU")
            if "deny-all" in scps:
                held = [
                    a
                    for a in self.accounts
                    if a.role in REQUIRED_ROLES and a.ou != ROOT_OU and ou in self.ou_path(a.ou)
                ]
                if held:
                    raise ValueError(
                        f"guardrails.scps_by_ou.{ou}: 'deny-all' would stop account '{held[0].name}' "
                        f"(role {held[0].role.value}), which the organization needs; attach it only to an OU "
                        "of accounts that are being retired"
                    )
        for index, ou in enumerate(self.guardrails.member_roles_ous):
            if ou not in ous:
                raise ValueError(f"guardrails.member_roles_ous[{index}]: '{ou}' is not a defined OU")
        for index, assignment in enumerate(self.identity_center.assignments):
            for position, account in enumerate(assignment.accounts):
                if account not in names:
                    field = f"identity_center.assignments[{index}].accounts[{position}]"
                    raise ValueError(f"{field}: '{account}' is not a defined account")
        self._check_workload_account("streaming", self.streaming.account)
        if self.object_index.account not in names:
            raise ValueError(f"object_index.account: '{self.object_index.account}' is not a defined account")
        role = self.account_named(self.object_index.account).role
        if role not in WORKLOAD_ROLES:
            allowed = ", ".join(sorted(r.value for r in WORKLOAD_ROLES))
            raise ValueError(
                f"object_index.account: '{self.object_index.account}' has role '{role.value}'; "
                f"the pattern deploys only to an account with role {allowed}"
            )

    def _check_network(self) -> None:
        """The hub sits in the home region, the DR region has a Transit Gateway peered to
        it, and the network account owns the hub VPCs."""
        network = self.network
        home, dr = self.regions.home, self.regions.dr
        network_account = self.account(AccountRole.NETWORK).name
        for name, vpc in network.vpcs.items():
            if vpc.region not in (home, dr):
                raise ValueError(
                    f"network.vpcs.{name}.region: '{vpc.region}' has no Transit Gateway; use regions.home "
                    f"({home}) or regions.dr ({dr})"
                )
            if vpc.segment in HUB_SEGMENTS:
                if vpc.region != home:
                    raise ValueError(
                        f"network.vpcs.{name}.region: the {vpc.segment} VPC belongs in regions.home ({home})"
                    )
                if vpc.account != network_account:
                    raise ValueError(
                        f"network.vpcs.{name}.account: the {vpc.segment} VPC belongs to the network account "
                        f"'{network_account}'"
                    )
        if network.services_vpc is not None:
            services = network.vpcs.get(network.services_vpc)
            if services is None or services.region != home or services.segment in HUB_SEGMENTS:
                raise ValueError(
                    f"network.services_vpc: '{network.services_vpc}' is not a workload VPC of regions.home ({home})"
                )
        if (network.interface_endpoints or network.on_premises_dns) and network.services_vpc is None:
            raise ValueError("network.services_vpc: required for interface_endpoints and on_premises_dns")
        if not network.vpcs:
            return
        for segment in HUB_SEGMENTS:
            count = sum(1 for vpc in network.vpcs.values() if vpc.segment == segment)
            if count != 1:
                raise ValueError(f"network.vpcs: {count} VPCs have segment '{segment}'; the hub needs exactly one")
        for region in sorted({vpc.region for vpc in network.vpcs.values()}):
            if region not in network.transit_gateway_asns:
                raise ValueError(f"network.transit_gateway_asns: no ASN for {region}, which has VPCs")
        if len(set(network.transit_gateway_asns.values())) != len(network.transit_gateway_asns):
            raise ValueError("network.transit_gateway_asns: each Transit Gateway needs its own ASN")

    def _check_disaster_recovery(self) -> None:
        """The workload account exists and is a workload account; its VPCs are spokes it
        shares in the home and DR regions."""
        dr = self.disaster_recovery
        self._check_workload_account("disaster_recovery", dr.account)
        if not self.network.vpcs:
            return  # no network, no workload: the pattern is not built
        for field, name, region in (
            ("home_vpc", dr.home_vpc, self.regions.home),
            ("dr_vpc", dr.dr_vpc, self.regions.dr),
        ):
            vpc = self.network.vpcs.get(name)
            if vpc is None:
                raise ValueError(f"disaster_recovery.{field}: '{name}' is not a VPC of network.vpcs")
            if vpc.region != region:
                raise ValueError(f"disaster_recovery.{field}: '{name}' is in {vpc.region}, not {region}")
            if vpc.account != dr.account:
                raise ValueError(
                    f"disaster_recovery.{field}: '{name}' is shared with '{vpc.account}', not '{dr.account}'"
                )

    def _check_workload_account(self, section: str, name: str) -> None:
        if name not in {a.name for a in self.accounts}:
            raise ValueError(f"{section}.account: '{name}' is not a defined account")
        role = self.account_named(name).role
        if role not in WORKLOAD_ROLES:
            allowed = ", ".join(sorted(r.value for r in WORKLOAD_ROLES))
            raise ValueError(
                f"{section}.account: '{name}' has role '{role.value}'; "
                f"the pattern deploys only to an account with role {allowed}"
            )

    # Lookups the stacks use, so no stack searches the account list itself.

    def account(self, role: AccountRole) -> Account:
        """The single account holding ``role`` (validation guarantees there is one)."""
        return next(a for a in self.accounts if a.role is role)

    def account_named(self, name: str) -> Account:
        return next(a for a in self.accounts if a.name == name)

    def ou_path(self, ou: str) -> list[str]:
        """OU names from the top level down to ``ou`` (the root is not included)."""
        parents = {o.name: o.parent for o in self.organization.organizational_units}
        path = [ou]
        while parents[path[0]] != ROOT_OU:
            path.insert(0, parents[path[0]])
        return path
