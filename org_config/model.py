"""Typed model of the organization the app synthesizes.

Every field a stack reads is declared here, validated once, and frozen. A rule that
spans fields (unique ids, OU parents, CIDR overlaps) lives in a model validator that
raises ``ValueError("<field path>: <rule>")`` so the loader can print one line that
names the field and the rule.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from analysis.streaming_schema import EVENT_COLUMNS, TIME_FIELD, column_type
from analysis.streaming_sizing import MAX_RECORD_KIB, StreamLoad, StreamSizing, size_stream

# Commercial AWS regions a config may name. A region outside this list is a typo or a
# partition (China, GovCloud) whose ARNs and service principals the stacks do not model.
KNOWN_REGIONS: frozenset[str] = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)

ROOT_OU = "Root"

# Bucket name starts and ends that S3 reserves ("General purpose bucket naming rules",
# Amazon S3 User Guide).
S3_RESERVED_PREFIXES: tuple[str, ...] = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES: tuple[str, ...] = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# Every stack stays at or below half the CloudFormation quota of 500 resources, so it can
# grow; config values that add resources are checked against it before anything is built.
RESOURCE_BUDGET = 250

_NAME = r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$"
_OU_NAME = r"^[A-Za-z][A-Za-z0-9-]{0,62}$"
_ORGANIZATION_ID = r"^o-[a-z0-9]{10,32}$"
_ROOT_ID = r"^r-[0-9a-z]{4,32}$"
_NAME_PREFIX = r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$"
_ROLE_NAME = r"^[A-Za-z0-9+=,.@_-]{1,64}$"
_GROUP_ID = r"^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$"
_INSTANCE_ARN = r"^arn:aws:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$"
# An EC2 instance type or a family wildcard: t3.micro, t3.*, m7i-flex.large.
_INSTANCE_TYPE = r"^[a-z][a-z0-9-]*\.(\*|[a-z0-9-]+)$"

# Every pattern a field must match, with its rule in words for the error message.
PATTERN_RULES: dict[str, str] = {
    _NAME: "must be 3 to 32 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen",
    _OU_NAME: "must be 1 to 63 letters, digits and hyphens, starting with a letter",
    _ORGANIZATION_ID: "must be an organization id: 'o-' and 10 to 32 lowercase letters or digits",
    _ROOT_ID: "must be a root id: 'r-' and 4 to 32 lowercase letters or digits",
    _NAME_PREFIX: (
        "must be 3 to 20 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen"
    ),
    _ROLE_NAME: "must be an IAM role name: 1 to 64 letters, digits and +=,.@_-",
    _GROUP_ID: "must be an IAM Identity Center group id (a UUID, optionally after a 10-character store prefix)",
    _INSTANCE_ARN: "must be an IAM Identity Center instance ARN (arn:aws:sso:::instance/ssoins-...)",
    _INSTANCE_TYPE: "must be an EC2 instance type or family wildcard such as t3.micro or t3.*",
}
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


# Retention periods CloudWatch Logs accepts, in days.
LOG_RETENTION_DAYS: frozenset[int] = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)


def _cloudwatch_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(days) for days in sorted(LOG_RETENTION_DAYS))
        raise ValueError(f"{value} is not a retention CloudWatch Logs accepts ({allowed})")
    return value


def _optional_email(value: str | None) -> str | None:
    if value is not None and not _EMAIL.fullmatch(value):
        raise ValueError(f"not a valid email address: '{value}'")
    return value


# A log retention in days that CloudWatch Logs accepts, and an optional alarm address.
LogRetentionDays = Annotated[int, AfterValidator(_cloudwatch_retention)]
OptionalEmail = Annotated[str | None, AfterValidator(_optional_email)]


class AccountRole(StrEnum):
    """What an account is for; stacks are placed by role, never by hard-coded id."""

    MANAGEMENT = "management"
    LOG_ARCHIVE = "log-archive"
    AUDIT = "audit"
    NETWORK = "network"
    SHARED_SERVICES = "shared-services"
    WORKLOAD_PROD = "workload-prod"
    WORKLOAD_NONPROD = "workload-nonprod"
    SANDBOX = "sandbox"


# Roles the stacks need exactly one account for. Sandbox accounts may be many or none.
REQUIRED_ROLES: tuple[AccountRole, ...] = (
    AccountRole.MANAGEMENT,
    AccountRole.LOG_ARCHIVE,
    AccountRole.AUDIT,
    AccountRole.NETWORK,
    AccountRole.SHARED_SERVICES,
    AccountRole.WORKLOAD_PROD,
    AccountRole.WORKLOAD_NONPROD,
)


class _Model(BaseModel):
    # Unknown keys are errors (a misspelt key must not be silently ignored); no type
    # coercion beyond JSON's (the loader validates YAML through its JSON form); models are
    # immutable once validated.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Account(_Model):
    name: Annotated[str, Field(pattern=_NAME)]
    id: str
    email: str
    role: AccountRole
    ou: str  # the OU the account sits in; "Root" only for the management account

    @field_validator("role", mode="before")
    @classmethod
    def _role_from_text(cls, value: object) -> object:
        # A friendlier message than the generic enum error, listing the roles.
        if isinstance(value, str):
            try:
                return AccountRole(value)
            except ValueError:
                allowed = ", ".join(r.value for r in AccountRole)
                raise ValueError(f"unknown account role '{value}' (allowed: {allowed})") from None
        return value

    @field_validator("id", mode="before")
    @classmethod
    def _twelve_digits(cls, value: object) -> object:
        if not isinstance(value, str):
            # YAML reads unquoted digits as a number and drops leading zeros.
            raise ValueError("account id must be a quoted string of exactly 12 digits")
        if not re.fullmatch(r"\d{12}", value):
            raise ValueError(f"account id must be exactly 12 digits (got '{value}')")
        return value

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        if not _EMAIL.fullmatch(value):
            raise ValueError(f"not a valid email address: '{value}'")
        return value


class OrganizationalUnit(_Model):
    name: Annotated[str, Field(pattern=_OU_NAME)]
    parent: str = ROOT_OU


class ScpLimits(_Model):
    """Service control policy quotas ("Quotas and service limits for AWS Organizations",
    AWS Organizations User Guide): 5,120 characters per SCP and 5 SCPs per root, OU or
    account, FullAWSAccess included. Some sources report 10,240 and 10 since May 2026, so
    both are settings; a value may be lowered, and raised only up to those figures, the
    largest AWS has stated (a higher one would let synth pass what AWS rejects)."""

    max_policy_characters: Annotated[int, Field(ge=1, le=10_240)] = 5120
    max_policies_per_target: Annotated[int, Field(ge=1, le=10)] = 5


class Organization(_Model):
    id: Annotated[str, Field(pattern=_ORGANIZATION_ID)]
    root_id: Annotated[str, Field(pattern=_ROOT_ID)]
    # Prefix of every deterministic physical name (buckets, aliases, roles), so names
    # never collide with another organization's in the global S3 namespace.
    name_prefix: Annotated[str, Field(pattern=_NAME_PREFIX)]
    organizational_units: tuple[OrganizationalUnit, ...]
    # Creating accounts with AWS::Organizations::Account is a one-way door (closing an
    # account takes 90 days), so existing accounts are referenced by id unless this is on.
    create_accounts: bool = False
    scp_limits: ScpLimits = ScpLimits()

    @field_validator("name_prefix")
    @classmethod
    def _prefix_not_reserved(cls, value: str) -> str:
        # Bucket names start with the prefix: S3 reserves these starts of a bucket name.
        for reserved in S3_RESERVED_PREFIXES:
            if value.startswith(reserved):
                raise ValueError(f"'{value}' starts with '{reserved}', which S3 reserves at the start of bucket names")
        # Key aliases are alias/<prefix>/...; KMS reserves alias/aws/ for AWS managed keys.
        if value == "aws":
            raise ValueError("'aws' would make key aliases start with alias/aws/, which KMS reserves")
        return value


class Regions(_Model):
    home: str
    dr: str
    # Regions the guardrails allow; the home and DR regions must be among them.
    allowed: tuple[str, ...]

    @field_validator("home", "dr")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in KNOWN_REGIONS:
            raise ValueError(f"unknown AWS region '{value}'")
        return value

    @field_validator("allowed")
    @classmethod
    def _all_known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for region in value:
            if region not in KNOWN_REGIONS:
                raise ValueError(f"unknown AWS region '{region}'")
        if len(set(value)) != len(value):
            raise ValueError("lists a region twice")
        return value

    @model_validator(mode="after")
    def _home_and_dr(self) -> Regions:
        if self.dr == self.home:
            raise ValueError(f"regions.dr: must differ from regions.home (both are '{self.home}')")
        for field, region in (("home", self.home), ("dr", self.dr)):
            if region not in self.allowed:
                raise ValueError(f"regions.{field}: '{region}' is not in regions.allowed")
        return self


def _parse_network(value: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as err:
        raise ValueError(f"not a valid IPv4 CIDR block '{value}' ({err})") from None


# Segments with a fixed role in the hub: they carry traffic for the others and have no
# policy of their own.
HUB_SEGMENTS: tuple[str, ...] = ("inspection", "egress")
# Ends of a segment policy connection that are not segments of VPCs.
ON_PREMISES = "on-premises"
INTERNET = "internet"
# Private BGP ASN ranges (RFC 6996); a Transit Gateway's Amazon side ASN must be in one.
PRIVATE_ASN_RANGES: tuple[tuple[int, int], ...] = ((64512, 65534), (4_200_000_000, 4_294_967_294))
# Transit Gateway quotas the config could break (the others, such as 5 attachments per VPC,
# cannot: every VPC has exactly one attachment).
TGW_MAX_ROUTE_TABLES = 20
SMALLEST_SUBNET_PREFIX = 28  # a /28 is the smallest subnet AWS allows
ATTACHMENT_SUBNET_PREFIX = 28  # the Transit Gateway attachment subnets: a /28 per AZ
# Transit Gateway route tables each region has besides one per segment.
_FIXED_ROUTE_TABLES = ("on-premises", "inspection", "egress", "peering")


# IPv4 blocks that are never a public address (RFC 6890 minus the documentation ranges,
# which the example organization uses as placeholders).
_NOT_PUBLIC: tuple[ipaddress.IPv4Network, ...] = tuple(
    ipaddress.IPv4Network(block)
    for block in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
    )
)


def _private_asn(value: int) -> bool:
    return any(low <= value <= high for low, high in PRIVATE_ASN_RANGES)


def _asn_rule(value: int) -> int:
    if not _private_asn(value):
        raise ValueError(f"BGP ASN {value} is outside the private ranges 64512-65534 and 4200000000-4294967294")
    return value


class Vpc(_Model):
    account: str  # account name
    region: str
    cidr: str
    # A segment of network.segments, or "inspection" / "egress" for the two hub VPCs.
    segment: Annotated[str, Field(pattern=_NAME)]

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        network = _parse_network(value)
        if not 16 <= network.prefixlen <= 28:
            raise ValueError(f"VPC CIDR must be /16 to /28 (got /{network.prefixlen})")
        return value

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr)

    def subnet_prefix(self, zone_count: int) -> int:
        """Prefix length of the per-AZ subnets for ``zone_count`` AZs (see :meth:`subnet_blocks`)."""
        parts = 1
        while parts < zone_count + 1:
            parts *= 2
        return self.network.prefixlen + (parts.bit_length() - 1)

    def subnet_blocks(self, zone_count: int) -> tuple[list[ipaddress.IPv4Network], list[ipaddress.IPv4Network]]:
        """The VPC's subnets: one workload (or hub) subnet per AZ, and one /28 attachment
        subnet per AZ.

        The block is cut into the smallest power of two of equal parts that leaves one
        part spare; the first ``zone_count`` parts are the per-AZ subnets and the last part
        holds the attachment /28s, so adding an AZ never moves a subnet.
        """
        blocks = list(self.network.subnets(new_prefix=self.subnet_prefix(zone_count)))
        attachment = list(blocks[-1].subnets(new_prefix=ATTACHMENT_SUBNET_PREFIX))[-zone_count:]
        return blocks[:zone_count], attachment


class SegmentConnection(_Model):
    """Two ends that may reach each other (both directions), and whether the traffic
    between them passes the inspection firewall. An end is a segment, ``on-premises`` or
    ``internet``; the internet is reached outbound only, and always inspected."""

    between: tuple[Annotated[str, Field(pattern=_NAME)], Annotated[str, Field(pattern=_NAME)]]
    inspected: bool = False


class FirewallRule(_Model):
    """A stateful 5-tuple rule; the firewall evaluates rules in the order given."""

    action: Literal["pass", "drop", "alert", "reject"]
    protocol: Literal["IP", "TCP", "UDP", "ICMP"]
    source: str = "ANY"  # a CIDR block or ANY
    destination: str = "ANY"
    port: Annotated[int, Field(ge=1, le=65535)] | None = None  # destination port; None for any
    description: str

    @field_validator("source", "destination")
    @classmethod
    def _cidr_or_any(cls, value: str) -> str:
        if value != "ANY":
            _parse_network(value)
        return value


class Firewall(_Model):
    """The inspection firewall's stateful rules (strict order).

    Default: a flow that no rule passes is dropped once the connection is established
    (``aws:drop_established``, so the TLS handshake reaches the domain rules) and logged
    (``aws:alert_established``).
    """

    # Hostnames (TLS SNI, HTTP Host) that inspected traffic may reach on the internet; a
    # leading dot allows the subdomains too.
    allowed_domains: tuple[Annotated[str, Field(pattern=r"^\.?[a-z0-9-]+(\.[a-z0-9-]+)+$")], ...] = ()
    rules: tuple[FirewallRule, ...] = ()


class Vpn(_Model):
    """Site-to-Site VPN from the hub Transit Gateway to the on-premises customer gateway."""

    customer_gateway_ip: str
    bgp_asn: int
    routing: Literal["bgp", "static"] = "bgp"

    @field_validator("customer_gateway_ip")
    @classmethod
    def _public_ipv4(cls, value: str) -> str:
        try:
            address = ipaddress.IPv4Address(value)
        except ValueError:
            raise ValueError(f"'{value}' is not an IPv4 address") from None
        if any(address in block for block in _NOT_PUBLIC) or address.is_multicast or address.is_reserved:
            raise ValueError(f"{value} is not a public IPv4 address; the VPN tunnels end on a public address")
        return value

    @field_validator("bgp_asn")
    @classmethod
    def _asn(cls, value: int) -> int:
        return _asn_rule(value)


class DirectConnect(_Model):
    """An existing Direct Connect gateway to associate with the hub Transit Gateway."""

    gateway_id: Annotated[str, Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]


class OnPremisesDns(_Model):
    domain: Annotated[str, Field(pattern=r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")]
    resolvers: Annotated[tuple[str, ...], Field(min_length=1, max_length=6)]  # on-premises DNS servers

    @field_validator("resolvers")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            try:
                ipaddress.IPv4Address(address)
            except ValueError:
                raise ValueError(f"'{address}' is not an IPv4 address") from None
        return value


class Network(_Model):
    """The CIDR plan, the Transit Gateways and the segment policy.

    Every VPC block and every on-premises block is disjoint, so any two networks can be
    routed to each other; which ones are, and through the firewall or not, is the segment
    policy.
    """

    supernet: str
    # Availability zones per region, by name: the stacks never look them up.
    availability_zones: dict[str, tuple[str, ...]] = {}
    # Amazon side BGP ASN of the Transit Gateway in each region with VPCs.
    transit_gateway_asns: dict[str, int] = {}
    segments: tuple[Annotated[str, Field(pattern=_NAME)], ...] = ()
    segment_policy: tuple[SegmentConnection, ...] = ()
    vpcs: dict[Annotated[str, Field(pattern=_NAME)], Vpc]
    on_premises: tuple[str, ...] = ()
    vpn: Vpn | None = None
    direct_connect: DirectConnect | None = None
    on_premises_dns: OnPremisesDns | None = None
    # The home-region VPC that serves the others: central interface endpoints and the
    # Route 53 Resolver endpoints.
    services_vpc: str | None = None
    # Interface endpoints served centrally from services_vpc (service names as in
    # com.amazonaws.<region>.<name>).
    interface_endpoints: tuple[Annotated[str, Field(pattern=r"^[a-z0-9-]+(\.[a-z0-9-]+)*$")], ...] = ()
    firewall: Firewall = Firewall()

    @field_validator("supernet")
    @classmethod
    def _supernet(cls, value: str) -> str:
        _parse_network(value)
        return value

    @field_validator("on_premises")
    @classmethod
    def _on_premises(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            _parse_network(cidr)
        return value

    @field_validator("transit_gateway_asns")
    @classmethod
    def _asns(cls, value: dict[str, int]) -> dict[str, int]:
        for region, asn in value.items():
            try:
                _asn_rule(asn)
            except ValueError as err:
                raise ValueError(f"{region}: {err}") from None
        return value

    @model_validator(mode="after")
    def _no_overlaps(self) -> Network:
        supernet = ipaddress.IPv4Network(self.supernet)
        named: list[tuple[str, ipaddress.IPv4Network]] = []
        for name, vpc in self.vpcs.items():
            if not vpc.network.subnet_of(supernet):
                raise ValueError(f"network.vpcs.{name}.cidr: {vpc.cidr} is outside network.supernet {self.supernet}")
            named.append((f"network.vpcs.{name}.cidr", vpc.network))
        for index, cidr in enumerate(self.on_premises):
            named.append((f"network.on_premises[{index}]", ipaddress.IPv4Network(cidr)))
        for i, (field_a, net_a) in enumerate(named):
            for field_b, net_b in named[i + 1 :]:
                if net_a.overlaps(net_b):
                    raise ValueError(f"{field_b}: {net_b} overlaps {field_a} {net_a}")
        return self

    @model_validator(mode="after")
    def _segments(self) -> Network:
        for index, segment in enumerate(self.segments):
            if segment in HUB_SEGMENTS or segment in (ON_PREMISES, INTERNET) or self.segments.count(segment) > 1:
                raise ValueError(f"network.segments[{index}]: '{segment}' is reserved or listed twice")
        known = (*self.segments, *HUB_SEGMENTS)
        for name, vpc in self.vpcs.items():
            if vpc.segment not in known:
                raise ValueError(
                    f"network.vpcs.{name}.segment: '{vpc.segment}' is not in network.segments "
                    f"(nor one of {', '.join(HUB_SEGMENTS)})"
                )
        ends = (*self.segments, ON_PREMISES, INTERNET)
        for index, connection in enumerate(self.segment_policy):
            for position, end in enumerate(connection.between):
                if end not in ends:
                    raise ValueError(
                        f"network.segment_policy[{index}].between[{position}]: '{end}' is not a segment "
                        f"of network.segments, '{ON_PREMISES}' or '{INTERNET}'"
                    )
            if INTERNET in connection.between and not connection.inspected:
                raise ValueError(
                    f"network.segment_policy[{index}].inspected: traffic to the internet always passes the firewall"
                )
            if connection.between[0] == connection.between[1]:
                raise ValueError(
                    f"network.segment_policy[{index}].between: a segment always reaches itself; name two different ends"
                )
            if ON_PREMISES in connection.between and INTERNET in connection.between:
                raise ValueError(
                    f"network.segment_policy[{index}].between: on-premises does not reach the internet here"
                )
        # One route table per segment plus the hub's own must fit the Transit Gateway quota.
        tables = len(self.segments) + len(_FIXED_ROUTE_TABLES)
        if tables > TGW_MAX_ROUTE_TABLES:
            raise ValueError(
                f"network.segments: {len(self.segments)} segments need {tables} Transit Gateway route tables; "
                f"a Transit Gateway has at most {TGW_MAX_ROUTE_TABLES}"
            )
        return self

    @model_validator(mode="after")
    def _zones_and_sizes(self) -> Network:
        for name, vpc in self.vpcs.items():
            zones = self.availability_zones.get(vpc.region)
            if zones is None:
                raise ValueError(f"network.availability_zones: no availability zones for {vpc.region} (VPC '{name}')")
            prefix = vpc.subnet_prefix(len(zones))
            if prefix > SMALLEST_SUBNET_PREFIX or len(zones) > 2 ** (ATTACHMENT_SUBNET_PREFIX - prefix):
                raise ValueError(
                    f"network.vpcs.{name}.cidr: {vpc.cidr} is too small for {len(zones)} availability zones "
                    f"(its subnets would be /{prefix}; the smallest subnet is /{SMALLEST_SUBNET_PREFIX})"
                )
        for region, zones in self.availability_zones.items():
            # The attachments need two AZs to survive one; NAT and firewall endpoints are per AZ.
            if len(zones) < 2:
                raise ValueError(
                    f"network.availability_zones.{region}: {len(zones)} given; a Transit Gateway attachment "
                    "needs subnets in at least 2 availability zones"
                )
            for zone in zones:
                if not re.fullmatch(rf"{re.escape(region)}[a-z]", zone) or zones.count(zone) > 1:
                    raise ValueError(
                        f"network.availability_zones.{region}: '{zone}' is not a zone of {region} or is listed twice"
                    )
        return self

    @model_validator(mode="after")
    def _hybrid(self) -> Network:
        if self.vpn is not None:
            for region, asn in self.transit_gateway_asns.items():
                if asn == self.vpn.bgp_asn:
                    raise ValueError(
                        f"network.vpn.bgp_asn: {asn} is also the Transit Gateway ASN in {region}; BGP needs two ASNs"
                    )
        if self.on_premises_dns is not None:
            ranges = [ipaddress.IPv4Network(c) for c in self.on_premises]
            for index, address in enumerate(self.on_premises_dns.resolvers):
                if not any(ipaddress.IPv4Address(address) in r for r in ranges):
                    raise ValueError(
                        f"network.on_premises_dns.resolvers[{index}]: {address} is not in network.on_premises"
                    )
        connects_on_premises = any(ON_PREMISES in c.between for c in self.segment_policy)
        if connects_on_premises and (not self.on_premises or (self.vpn is None and self.direct_connect is None)):
            raise ValueError(
                "network.segment_policy: connects on-premises, but network.on_premises or a "
                "network.vpn / network.direct_connect is missing"
            )
        return self

    # Questions the stacks and the analysis ask of the policy.

    def vpcs_in(self, region: str) -> dict[str, Vpc]:
        return {name: vpc for name, vpc in self.vpcs.items() if vpc.region == region}

    def hub_vpc(self, segment: str) -> tuple[str, Vpc]:
        """The one VPC of a hub segment ("inspection" or "egress")."""
        return next((name, vpc) for name, vpc in self.vpcs.items() if vpc.segment == segment)

    def connection(self, a: str, b: str) -> SegmentConnection | None:
        """The policy between two ends, or None when they may not reach each other. A
        segment reaches itself, uninspected."""
        if a == b and a in self.segments:
            return SegmentConnection(between=(a, b), inspected=False)
        return next((c for c in self.segment_policy if set(c.between) == {a, b}), None)


class LogArchive(_Model):
    """Retention of the central log buckets. Object Lock keeps every log version for
    ``object_lock_days``; lifecycle moves logs to colder storage and finally expires them."""

    object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = "GOVERNANCE"
    object_lock_days: Annotated[int, Field(ge=1, le=36_500)] = 365
    transition_to_infrequent_access_days: Annotated[int, Field(ge=30)] = 90
    transition_to_glacier_days: Annotated[int, Field(ge=1)] = 180
    expire_after_days: Annotated[int, Field(ge=1)] = 2555
    noncurrent_versions_expire_after_days: Annotated[int, Field(ge=1)] = 90

    @model_validator(mode="after")
    def _ordered(self) -> LogArchive:
        if self.transition_to_glacier_days <= self.transition_to_infrequent_access_days:
            raise ValueError(
                "log_archive.transition_to_glacier_days: must be later than transition_to_infrequent_access_days"
            )
        if self.expire_after_days < self.object_lock_days:
            raise ValueError(
                "log_archive.expire_after_days: must not be shorter than object_lock_days "
                "(locked versions cannot expire)"
            )
        if self.expire_after_days <= self.transition_to_glacier_days:
            raise ValueError("log_archive.expire_after_days: must be later than transition_to_glacier_days")
        return self


DR_TIERS: tuple[str, ...] = ("backup-restore", "pilot-light", "warm-standby", "multi-site")
# AWS Backup starts a scheduled job within its start window (at least an hour); the newest
# recovery point may be that much older than the schedule says.
BACKUP_START_WINDOW_MINUTES = 60
# Backup frequencies that divide the day, so ``cron(0 */N * * ? *)`` runs every N hours evenly.
BACKUP_FREQUENCIES_HOURS: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12, 24)


class DisasterRecovery(_Model):
    """Pattern 3: the sample workload and the DR tier it is deployed at.

    The workload runs in the prod spoke VPCs (``home_vpc`` in regions.home, ``dr_vpc`` in
    regions.dr), which the network account owns and shares with ``account``.
    """

    tier: str = "pilot-light"
    account: str = "workload-prod"
    home_vpc: Annotated[str, Field(pattern=_NAME)] = "prod"
    dr_vpc: Annotated[str, Field(pattern=_NAME)] = "prod-dr"
    # The most data, in minutes, the business accepts to lose; backup-restore must back up
    # often enough to meet it.
    rpo_target_minutes: Annotated[int, Field(ge=1, le=10_080)] = 300
    backup_frequency_hours: int = 4
    backup_retention_days: Annotated[int, Field(ge=7, le=36_500)] = 35
    # Vault lock: no one can delete a recovery point younger than this (nor shorten it).
    vault_lock_min_retention_days: Annotated[int, Field(ge=1, le=36_500)] = 7
    # The public hosted zone the stacks create, and the record clients use inside it.
    hosted_zone_name: str = "dr.example.com"
    record_name: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")] = "app"
    record_ttl_seconds: Annotated[int, Field(ge=0, le=86_400)] = 60
    health_check_interval_seconds: int = 30
    health_check_failure_threshold: int = 3
    # S3 Replication Time Control: 99.99% of objects replicated within 15 minutes, with an SLA.
    replication_time_control: bool = True
    # Aurora PostgreSQL: the instance class (Global Database needs a memory-optimized class)
    # and the instances of the home cluster (one writer, the rest readers).
    database_instance_class: Annotated[str, Field(pattern=r"^db\.r[0-9][a-z]*\.[0-9]*x?large$")] = "db.r6g.large"
    database_instances: Annotated[int, Field(ge=1, le=16)] = 2
    # The API function: memory, provisioned concurrency at production size (the home region,
    # and the DR region at multi-site) and at minimum size (warm standby), reserved concurrency.
    function_memory_mb: Annotated[int, Field(ge=128, le=10_240)] = 512
    provisioned_concurrency: Annotated[int, Field(ge=1, le=1_000)] = 4
    standby_provisioned_concurrency: Annotated[int, Field(ge=1, le=1_000)] = 1
    reserved_concurrency: Annotated[int, Field(ge=1, le=1_000)] = 20
    # Multi-site writes: one writer region (the DR region is read-only until promoted) or
    # Aurora write forwarding (the DR region's writes travel to the writer).
    multi_site_writes: Literal["single-writer", "write-forwarding"] = "write-forwarding"
    log_retention_days: LogRetentionDays = 365

    @field_validator("tier")
    @classmethod
    def _known_tier(cls, value: str) -> str:
        if value not in DR_TIERS:
            raise ValueError(f"unknown tier '{value}' (allowed: {', '.join(DR_TIERS)})")
        return value

    @field_validator("backup_frequency_hours")
    @classmethod
    def _divides_day(cls, value: int) -> int:
        if value not in BACKUP_FREQUENCIES_HOURS:
            allowed = ", ".join(str(hours) for hours in BACKUP_FREQUENCIES_HOURS)
            raise ValueError(f"{value} does not divide the day into equal parts (allowed: {allowed})")
        return value

    @field_validator("hosted_zone_name")
    @classmethod
    def _domain(cls, value: str) -> str:
        label = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
        if len(value) > 253 or not re.fullmatch(rf"({label}\.)+[a-z]{{2,63}}", value):
            raise ValueError(f"'{value}' is not a domain name (lower-case labels separated by dots, no trailing dot)")
        return value

    @field_validator("health_check_interval_seconds")
    @classmethod
    def _interval(cls, value: int) -> int:
        if value not in (10, 30):
            raise ValueError(f"{value} is not a Route 53 health-check interval (10 or 30 seconds)")
        return value

    @field_validator("health_check_failure_threshold")
    @classmethod
    def _threshold(cls, value: int) -> int:
        if not 1 <= value <= 10:
            raise ValueError(f"{value} is outside the Route 53 failure threshold range 1 to 10")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DisasterRecovery:
        worst = self.backup_frequency_hours * 60 + BACKUP_START_WINDOW_MINUTES
        if self.tier == "backup-restore" and worst > self.rpo_target_minutes:
            raise ValueError(
                f"disaster_recovery.backup_frequency_hours: a backup every {self.backup_frequency_hours} h "
                f"(plus the {BACKUP_START_WINDOW_MINUTES}-minute start window) cannot meet "
                f"rpo_target_minutes {self.rpo_target_minutes}"
            )
        if self.standby_provisioned_concurrency > self.provisioned_concurrency:
            raise ValueError(
                "disaster_recovery.standby_provisioned_concurrency: must not exceed provisioned_concurrency"
            )
        if self.reserved_concurrency < self.provisioned_concurrency:
            raise ValueError("disaster_recovery.reserved_concurrency: must be at least provisioned_concurrency")
        if self.vault_lock_min_retention_days > self.backup_retention_days:
            raise ValueError("disaster_recovery.vault_lock_min_retention_days: must not exceed backup_retention_days")
        return self


class Streaming(_Model):
    """Pattern 5: the Kinesis pipeline and the load its stream is sized for.

    The stream's shard count follows from the load and the consumers
    (:mod:`analysis.streaming_sizing`); every alarm threshold follows from these settings.
    """

    account: str = "workload-prod"  # account name the pattern is deployed to
    alarm_email: OptionalEmail = None
    # --- The load -------------------------------------------------------------------------
    capacity_mode: Literal["provisioned", "on-demand"] = "provisioned"
    records_per_second: Annotated[float, Field(gt=0, le=10_000_000)] = 3000
    average_record_kib: Annotated[float, Field(gt=0)] = 1.0
    max_record_kib: Annotated[float, Field(gt=0)] = 64.0
    headroom: Annotated[float, Field(ge=1, le=10)] = 1.25  # load multiplier before rounding up
    # Share of all records that carry the busiest partition key (a hot-key warning above one shard).
    hottest_key_share: Annotated[float, Field(gt=0, le=1)] | None = None
    retention_hours: Annotated[int, Field(ge=24, le=8760)] = 24
    # --- Consumers: enhanced fan-out gets 2 MiB/s per shard of its own --------------------
    lambda_consumer: Literal["classic", "enhanced-fan-out"] = "enhanced-fan-out"
    flink_consumer: Literal["classic", "enhanced-fan-out"] = "enhanced-fan-out"
    other_classic_consumers: Annotated[int, Field(ge=0, le=5)] = 0
    other_enhanced_fan_out_consumers: Annotated[int, Field(ge=0, le=20)] = 0
    # --- Lambda consumer (event source mapping) ------------------------------------------
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 500
    batching_window_seconds: Annotated[int, Field(ge=0, le=300)] = 1
    parallelization_factor: Annotated[int, Field(ge=1, le=10)] = 2
    # Bounded: -1 (retry until the record expires) would let one poison record stall its shard.
    maximum_retry_attempts: Annotated[int, Field(ge=0, le=10_000)] = 3
    maximum_record_age_seconds: Annotated[int, Field(ge=60, le=604_800)] = 3600
    consumer_timeout_seconds: Annotated[int, Field(ge=1, le=900)] = 60
    # --- Firehose to S3 -------------------------------------------------------------------
    parquet_conversion: bool = True
    firehose_buffer_mib: Annotated[int, Field(ge=1, le=128)] = 128
    firehose_buffer_seconds: Annotated[int, Field(ge=0, le=900)] = 300
    # Record fields Firehose partitions by, after the date (cut from the event time).
    partition_fields: tuple[str, ...] = ("event_type",)
    # --- Managed Service for Apache Flink ---------------------------------------------------
    flink_parallelism: Annotated[int, Field(ge=1, le=256)] = 2
    flink_parallelism_per_kpu: Annotated[int, Field(ge=1, le=8)] = 1
    flink_window_seconds: Annotated[int, Field(ge=1, le=86_400)] = 60
    flink_checkpoint_interval_seconds: Annotated[int, Field(ge=1, le=3_600)] = 60
    # --- Ingestion API, logs, data lake ----------------------------------------------------
    api_rate_limit_per_second: Annotated[int, Field(ge=1, le=10_000)] = 100
    api_burst_limit: Annotated[int, Field(ge=1, le=5_000)] = 200
    log_retention_days: LogRetentionDays = 365
    transition_to_infrequent_access_days: Annotated[int, Field(ge=30)] = 30
    transition_to_glacier_days: Annotated[int, Field(ge=1)] = 90
    expire_after_days: Annotated[int, Field(ge=1)] = 730
    noncurrent_versions_expire_after_days: Annotated[int, Field(ge=1)] = 30
    # Object Lock (governance mode) keeps each delivered object unchanged for this long.
    data_lake_object_lock_days: Annotated[int, Field(ge=1, le=36_500)] = 30
    # --- Alarms -----------------------------------------------------------------------------
    # Alarm when the oldest unread record is this share of the way to expiring (retention).
    iterator_age_alarm_percent_of_retention: Annotated[int, Field(ge=1, le=90)] = 25

    @model_validator(mode="after")
    def _consistent(self) -> Streaming:
        if self.max_record_kib > MAX_RECORD_KIB:
            raise ValueError(
                f"streaming.max_record_kib: {self.max_record_kib:g} KiB is over the {MAX_RECORD_KIB} KiB "
                "(1 MiB) a Kinesis record holds"
            )
        if self.average_record_kib > self.max_record_kib:
            raise ValueError("streaming.average_record_kib: must not exceed max_record_kib")
        retention_seconds = self.retention_hours * 3600
        if self.maximum_record_age_seconds >= retention_seconds:
            raise ValueError(
                f"streaming.maximum_record_age_seconds: {self.maximum_record_age_seconds} must be below the "
                f"stream's retention ({self.retention_hours} h = {retention_seconds} s), or records expire "
                "before the consumer gives up on them"
            )
        if self.parquet_conversion and self.firehose_buffer_mib < 64:
            raise ValueError(
                f"streaming.firehose_buffer_mib: {self.firehose_buffer_mib} MiB is below the 64 MiB Firehose "
                "requires with record format conversion (parquet_conversion) on"
            )
        if self.api_burst_limit < self.api_rate_limit_per_second:
            raise ValueError("streaming.api_burst_limit: must be at least api_rate_limit_per_second")
        for index, name in enumerate(self.partition_fields):
            if column_type(name) is None:
                raise ValueError(
                    f"streaming.partition_fields[{index}]: '{name}' is not a column of the event schema "
                    f"({', '.join(c for c, _ in EVENT_COLUMNS)})"
                )
            if column_type(name) != "string" or name == TIME_FIELD:
                raise ValueError(f"streaming.partition_fields[{index}]: '{name}' is not a string column")
        if len(set(self.partition_fields)) != len(self.partition_fields):
            raise ValueError("streaming.partition_fields: lists a field twice")
        if self.transition_to_glacier_days <= self.transition_to_infrequent_access_days:
            raise ValueError(
                "streaming.transition_to_glacier_days: must be later than transition_to_infrequent_access_days"
            )
        if self.expire_after_days <= self.transition_to_glacier_days:
            raise ValueError("streaming.expire_after_days: must be later than transition_to_glacier_days")
        if self.expire_after_days < self.data_lake_object_lock_days:
            raise ValueError(
                "streaming.expire_after_days: must not be shorter than data_lake_object_lock_days "
                "(locked versions cannot expire)"
            )
        sizing = size_stream(self.load())
        if sizing.warnings and not sizing.warnings[0].startswith("hot partition key"):
            raise ValueError(f"streaming: {sizing.warnings[0]}")
        return self

    def classic_consumer_polls(self) -> tuple[float, ...]:
        """GetRecords calls per second per shard of each classic consumer of the stream:
        Firehose and a classic Lambda event source poll each shard once a second; the Flink
        job is configured to poll once a second too; other consumers are counted at 1."""
        polls: list[float] = [1.0]  # Firehose reads with GetRecords
        if self.lambda_consumer == "classic":
            polls.append(1.0)
        if self.flink_consumer == "classic":
            polls.append(1.0)
        polls.extend([1.0] * self.other_classic_consumers)
        return tuple(polls)

    def load(self) -> StreamLoad:
        fan_out = [self.lambda_consumer, self.flink_consumer].count("enhanced-fan-out")
        return StreamLoad(
            records_per_second=self.records_per_second,
            average_record_kib=self.average_record_kib,
            max_record_kib=self.max_record_kib,
            classic_consumer_polls_per_second=self.classic_consumer_polls(),
            enhanced_fan_out_consumers=fan_out + self.other_enhanced_fan_out_consumers,
            headroom=self.headroom,
            hottest_key_share=self.hottest_key_share,
        )

    def sizing(self) -> StreamSizing:
        return size_stream(self.load())


# Roles of the accounts a workload pattern may be deployed to: never the management,
# security (log-archive, audit) or network accounts.
WORKLOAD_ROLES: frozenset[AccountRole] = frozenset(
    {AccountRole.WORKLOAD_PROD, AccountRole.WORKLOAD_NONPROD, AccountRole.SANDBOX}
)


class ObjectIndex(_Model):
    """Pattern 4: the S3 object index and its query API."""

    account: str = "workload-prod"  # account name the pattern is deployed to
    # An address subscribed to the alarm topic (optional: subscribe others to the topic).
    alarm_email: OptionalEmail = None
    # Query API throttling: the steady request rate and the burst (token bucket size) across
    # all callers. The all-customers by-day route costs four queries per page and gets a
    # quarter of both, hence at least 4.
    api_rate_limit_per_second: Annotated[int, Field(ge=4, le=10_000)] = 50
    api_burst_limit: Annotated[int, Field(ge=4, le=5_000)] = 100
    # Who may call the query API: the operator role reads every route; a role named with the
    # customer prefix followed by a customer id reads that customer's routes only.
    operator_role_name: Annotated[str, Field(pattern=_ROLE_NAME)] = "object-index-operator"
    customer_role_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9+=,.@_-]{1,63}$")] = "object-index-customer-"
    # Indexer sizing: the sustained S3 event rate (uploads and deletes per second) to carry,
    # the time one event takes (a consistent GetItem, a HeadObject and a TransactWriteItems
    # in sequence; calibrate it from the function's Duration divided by the batch size), and
    # spare capacity on top so a backlog drains. The concurrency follows (indexer_concurrency).
    indexer_target_events_per_second: Annotated[int, Field(ge=1, le=100_000)] = 50
    indexer_milliseconds_per_event: Annotated[int, Field(ge=10, le=10_000)] = 100
    indexer_headroom_percent: Annotated[int, Field(ge=0, le=400)] = 50
    # The account's Lambda concurrent-executions quota (1,000 unless raised).
    account_concurrency_quota: Annotated[int, Field(ge=1_000)] = 1_000
    query_reserved_concurrency: Annotated[int, Field(ge=1, le=1_000)] = 20
    # Reconcile invocations that may run at once (each walks one customer).
    reconcile_reserved_concurrency: Annotated[int, Field(ge=1, le=10)] = 2
    # How long an S3 event may wait in the queue before SQS deletes it (SQS allows 1 to 14
    # days); the backlog alarms are derived from it.
    event_retention_days: Annotated[int, Field(ge=1, le=14)] = 4
    # Alarm when the oldest S3 event has waited this long (a latency objective, far below
    # the retention).
    oldest_event_alarm_minutes: Annotated[int, Field(ge=1, le=1_440)] = 15
    # Retention of the function and API access logs (checkov asks for at least a year).
    log_retention_days: LogRetentionDays = 365
    # Lifecycle of the customer objects in the data bucket.
    transition_to_infrequent_access_days: Annotated[int, Field(ge=30)] = 90
    transition_to_glacier_days: Annotated[int, Field(ge=1)] = 365
    expire_after_days: Annotated[int, Field(ge=1)] = 3650
    noncurrent_versions_expire_after_days: Annotated[int, Field(ge=1)] = 30

    @property
    def indexer_concurrency(self) -> int:
        """Concurrent indexer invocations for the target rate plus headroom (at least 2, the
        event source's minimum): target x seconds per event x (1 + headroom), rounded up."""
        needed = self.indexer_target_events_per_second * self.indexer_milliseconds_per_event
        needed *= 100 + self.indexer_headroom_percent
        return max(2, -(-needed // 100_000))

    @property
    def indexer_sustained_events_per_second(self) -> int:
        """The event rate ``indexer_concurrency`` invocations carry, each one event at a time."""
        return self.indexer_concurrency * 1000 // self.indexer_milliseconds_per_event

    @model_validator(mode="after")
    def _consistent(self) -> ObjectIndex:
        if self.transition_to_glacier_days <= self.transition_to_infrequent_access_days:
            raise ValueError(
                "object_index.transition_to_glacier_days: must be later than transition_to_infrequent_access_days"
            )
        if self.expire_after_days <= self.transition_to_glacier_days:
            raise ValueError("object_index.expire_after_days: must be later than transition_to_glacier_days")
        if self.operator_role_name.startswith(self.customer_role_prefix):
            raise ValueError(
                "object_index.operator_role_name: must not start with customer_role_prefix "
                f"'{self.customer_role_prefix}', or it would name a customer's role"
            )
        concurrency = self.indexer_concurrency
        if concurrency > 1_000:
            raise ValueError(
                f"object_index.indexer_target_events_per_second: {self.indexer_target_events_per_second} events/s "
                f"needs {concurrency} concurrent indexer invocations; an SQS event source runs at most 1000"
            )
        reserved = concurrency + self.query_reserved_concurrency + self.reconcile_reserved_concurrency
        if reserved > self.account_concurrency_quota - 100:
            raise ValueError(
                f"object_index.indexer_target_events_per_second: the indexer ({concurrency}), query "
                f"({self.query_reserved_concurrency}) and reconcile ({self.reconcile_reserved_concurrency}) "
                f"functions reserve {reserved} concurrent executions, more than account_concurrency_quota "
                f"({self.account_concurrency_quota}) less the 100 Lambda keeps unreserved"
            )
        if self.oldest_event_alarm_minutes * 60 * 2 >= self.event_retention_days * 86_400:
            raise ValueError(
                "object_index.oldest_event_alarm_minutes: must be less than half of event_retention_days, "
                "so the alarm fires long before an event can expire"
            )
        return self


class SecurityMonitoring(_Model):
    """Pattern 1: the organization trail's log group and the alarms on it (CIS AWS Foundations
    Benchmark section 4), which notify a topic in the audit account."""

    # Retention of the trail's CloudWatch Logs copy; the log archive keeps the trail for years.
    trail_log_retention_days: LogRetentionDays = 365
    # An address subscribed to the audit account's security alarm topic (optional).
    alarm_email: OptionalEmail = None


class Guardrails(_Model):
    """Pattern 1: where the service control policies of the library attach.

    SCP names refer to ``stacks/organization/service_control_policies.py``; FullAWSAccess
    stays attached to every target (AWS attaches it to each new OU and account) and counts
    toward ``organization.scp_limits.max_policies_per_target``.
    """

    # The one role that may act outside the guardrails in an emergency (deployed to every
    # member account by the member-roles StackSet, assumable from the management account).
    break_glass_role: Annotated[str, Field(pattern=_ROLE_NAME)] = "OrganizationBreakGlass"
    # Empty by default: an SCP at the root also binds every future OU before anyone has
    # decided what that OU is for; attaching per OU keeps each OU's guardrails explicit.
    scps_at_root: tuple[str, ...] = ()
    scps_by_ou: dict[str, tuple[str, ...]] = {}
    sandbox_instance_types: Annotated[
        tuple[Annotated[str, Field(pattern=_INSTANCE_TYPE)], ...], Field(min_length=1)
    ] = ("t3.*", "t4g.*")
    # OUs whose accounts receive the cross-account roles (audit read-only, break-glass).
    member_roles_ous: Annotated[tuple[str, ...], Field(min_length=1)]

    @field_validator("scps_at_root")
    @classmethod
    def _root_keeps_the_organization_working(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "deny-all" in value:
            raise ValueError("'deny-all' at the root would deny every member account; attach it to an OU of accounts")
        return value

    @field_validator("member_roles_ous", "sandbox_instance_types")
    @classmethod
    def _no_repeats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, item in enumerate(value):
            if item in value[:index]:
                raise ValueError(f"lists '{item}' twice (at [{value.index(item)}] and [{index}])")
        return value


# AWS tag limits: a key is 1 to 128 characters, a value 0 to 256 (the policies below need
# non-empty values), and neither may start with the reserved "aws:" prefix.
_TagKey = Annotated[str, Field(min_length=1, max_length=128)]
_TagValue = Annotated[str, Field(min_length=1, max_length=256)]


def _not_reserved(value: str) -> str:
    if value.lower().startswith("aws:"):
        raise ValueError(f"'{value}' starts with 'aws:', which AWS reserves for its own tags")
    return value


class TagPolicy(_Model):
    cost_centers: Annotated[tuple[_TagValue, ...], Field(min_length=1)]
    environments: Annotated[tuple[_TagValue, ...], Field(min_length=1)]

    @field_validator("cost_centers", "environments")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, item in enumerate(value):
            if item in value[:index]:
                raise ValueError(f"lists '{item}' twice")
        return value


# AWS Backup schedules: a six-field cron expression or a rate, both in UTC.
_CRON = re.compile(r"^cron\((\S+ ){5}\S+\)$")
_RATE = re.compile(r"^rate\([1-9]\d* (minute|minutes|hour|hours|day|days)\)$")


class BackupPolicy(_Model):
    schedule: str = "cron(0 3 ? * * *)"  # daily, 03:00 UTC
    retention_days: Annotated[int, Field(ge=1, le=36_500)] = 35
    tag_key: _TagKey = "backup"
    tag_value: _TagValue = "daily"

    @field_validator("schedule")
    @classmethod
    def _schedule_expression(cls, value: str) -> str:
        if not (_CRON.fullmatch(value) or _RATE.fullmatch(value)):
            raise ValueError(
                f"'{value}' is not a schedule AWS Backup accepts: use cron(minutes hours day-of-month month "
                "day-of-week year), e.g. cron(0 3 ? * * *), or rate(N hours|days)"
            )
        return value

    @field_validator("tag_key")
    @classmethod
    def _key_not_reserved(cls, value: str) -> str:
        return _not_reserved(value)


class Assignment(_Model):
    group_name: str  # for people reading the config and the docs
    group_id: Annotated[str, Field(pattern=_GROUP_ID)]
    permission_set: Literal["administrator", "read-only", "network-administrator"]
    accounts: Annotated[tuple[str, ...], Field(min_length=1)]  # account names


# Permission sets the Identity Center stack always creates (see stacks/organization/identity_center.py).
PERMISSION_SET_COUNT = 3


class IdentityCenter(_Model):
    instance_arn: Annotated[str, Field(pattern=_INSTANCE_ARN)]
    session_duration_hours: Annotated[int, Field(ge=1, le=12)] = 4
    assignments: tuple[Assignment, ...] = ()

    @model_validator(mode="after")
    def _each_grant_once(self) -> IdentityCenter:
        seen: dict[tuple[str, str, str], str] = {}
        for index, assignment in enumerate(self.assignments):
            for position, account in enumerate(assignment.accounts):
                grant = (assignment.group_id, assignment.permission_set, account)
                field = f"identity_center.assignments[{index}].accounts[{position}]"
                if grant in seen:
                    raise ValueError(
                        f"{field}: group '{assignment.group_name}' already gets '{assignment.permission_set}' "
                        f"in '{account}' at {seen[grant]}"
                    )
                seen[grant] = field
        resources = PERMISSION_SET_COUNT + len(seen)
        if resources > RESOURCE_BUDGET:
            raise ValueError(
                f"identity_center.assignments: {len(seen)} group-account grants make the Identity Center stack "
                f"{resources} resources, over the budget of {RESOURCE_BUDGET} per stack (half the CloudFormation "
                "quota); assign groups to fewer accounts or split the assignments across stacks"
            )
        return self


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
    streaming: Streaming = Streaming()
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
        self._check_bucket_names()
        return self

    def _check_bucket_names(self) -> None:
        from org_config.names import bucket_name_problem, bucket_names  # names builds on this model

        for purpose, name in bucket_names(self).items():
            problem = bucket_name_problem(name)
            if problem:
                raise ValueError(
                    f"organization.name_prefix: the {purpose} bucket would be named '{name}', which {problem}"
                )

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
