"""The network section: the CIDR plan, segments and their policy, the Transit Gateway,
firewall, VPN, Direct Connect and hybrid DNS settings.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from org_config.common import _NAME, _Model, raise_problems
from org_config.network_catalog import AVAILABILITY_ZONES, INTERFACE_ENDPOINT_SERVICES


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
    availability_zones: dict[str, tuple[str, ...]] = Field(
        default={},
        description="per region with VPCs, at least 2 zones the region has (org_config/network_catalog.py)",
    )
    # Amazon side BGP ASN of the Transit Gateway in each region with VPCs.
    transit_gateway_asns: dict[str, int] = {}
    segments: tuple[Annotated[str, Field(pattern=_NAME)], ...] = ()
    segment_policy: tuple[SegmentConnection, ...] | None = Field(
        default=None,
        description="required when there are VPCs; [] isolates every segment on purpose",
    )
    vpcs: dict[Annotated[str, Field(pattern=_NAME)], Vpc]
    on_premises: tuple[str, ...] = Field(
        default=(), description="on-premises CIDR ranges; need network.vpn or network.direct_connect"
    )
    vpn: Vpn | None = None
    direct_connect: DirectConnect | None = None
    on_premises_dns: OnPremisesDns | None = None
    # The home-region VPC that serves the others: central interface endpoints and the
    # Route 53 Resolver endpoints.
    services_vpc: str | None = None
    # Interface endpoints served centrally from services_vpc (service names as in
    # com.amazonaws.<region>.<name>).
    interface_endpoints: tuple[Annotated[str, Field(pattern=r"^[a-z0-9-]+(\.[a-z0-9-]+)*$")], ...] = Field(
        default=(),
        description="services AWS offers as interface endpoints (org_config/network_catalog.py), each once",
    )
    firewall: Firewall = Field(
        default=Firewall(),
        description="required when there are VPCs: at least one rule or allowed domain",
    )

    @field_validator("supernet")
    @classmethod
    def _supernet(cls, value: str) -> str:
        _parse_network(value)
        return value

    @field_validator("on_premises")
    @classmethod
    def _on_premises(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        problems = []
        for index, cidr in enumerate(value):
            try:
                _parse_network(cidr)
            except ValueError as err:
                problems.append(f"network.on_premises[{index}]: {err}")
        raise_problems(problems)
        return value

    @field_validator("transit_gateway_asns")
    @classmethod
    def _asns(cls, value: dict[str, int]) -> dict[str, int]:
        problems = []
        for region, asn in value.items():
            try:
                _asn_rule(asn)
            except ValueError as err:
                problems.append(f"network.transit_gateway_asns.{region}: {err}")
        raise_problems(problems)
        return value

    @model_validator(mode="after")
    def _rules(self) -> Network:
        """Every cross-field rule of the section, each problem collected, in a stable order."""
        raise_problems(
            [
                *self._overlap_problems(),
                *self._segment_problems(),
                *self._zone_problems(),
                *self._endpoint_problems(),
                *self._hybrid_problems(),
                *self._firewall_problems(),
            ]
        )
        return self

    def _overlap_problems(self) -> list[str]:
        problems = []
        supernet = ipaddress.IPv4Network(self.supernet)
        named: list[tuple[str, ipaddress.IPv4Network]] = []
        for name, vpc in self.vpcs.items():
            if not vpc.network.subnet_of(supernet):
                problems.append(f"network.vpcs.{name}.cidr: {vpc.cidr} is outside network.supernet {self.supernet}")
            named.append((f"network.vpcs.{name}.cidr", vpc.network))
        for index, cidr in enumerate(self.on_premises):
            named.append((f"network.on_premises[{index}]", ipaddress.IPv4Network(cidr)))
        for i, (field_a, net_a) in enumerate(named):
            for field_b, net_b in named[i + 1 :]:
                if net_a.overlaps(net_b):
                    problems.append(f"{field_b}: {net_b} overlaps {field_a} {net_a}")
        return problems

    def _segment_problems(self) -> list[str]:
        problems = []
        for index, segment in enumerate(self.segments):
            if segment in HUB_SEGMENTS or segment in (ON_PREMISES, INTERNET) or self.segments.count(segment) > 1:
                problems.append(f"network.segments[{index}]: '{segment}' is reserved or listed twice")
        known = (*self.segments, *HUB_SEGMENTS)
        for name, vpc in self.vpcs.items():
            if vpc.segment not in known:
                problems.append(
                    f"network.vpcs.{name}.segment: '{vpc.segment}' is not in network.segments "
                    f"(nor one of {', '.join(HUB_SEGMENTS)})"
                )
        if self.segment_policy is None and self.vpcs:
            # A decision, not a default: without a policy nothing reaches anything, which
            # a user should choose on purpose rather than get by leaving the key out.
            problems.append(
                "network.segment_policy: required: it decides which segments reach each other, on-premises and "
                "the internet (write [] to isolate every segment on purpose)"
            )
        ends = (*self.segments, ON_PREMISES, INTERNET)
        for index, connection in enumerate(self.policy):
            for position, end in enumerate(connection.between):
                if end not in ends:
                    problems.append(
                        f"network.segment_policy[{index}].between[{position}]: '{end}' is not a segment "
                        f"of network.segments, '{ON_PREMISES}' or '{INTERNET}'"
                    )
            if INTERNET in connection.between and not connection.inspected:
                problems.append(
                    f"network.segment_policy[{index}].inspected: traffic to the internet always passes the firewall"
                )
            if connection.between[0] == connection.between[1]:
                problems.append(
                    f"network.segment_policy[{index}].between: a segment always reaches itself; name two different ends"
                )
            if ON_PREMISES in connection.between and INTERNET in connection.between:
                problems.append(
                    f"network.segment_policy[{index}].between: on-premises does not reach the internet here"
                )
        # One route table per segment plus the hub's own must fit the Transit Gateway quota.
        tables = len(self.segments) + len(_FIXED_ROUTE_TABLES)
        if tables > TGW_MAX_ROUTE_TABLES:
            problems.append(
                f"network.segments: {len(self.segments)} segments need {tables} Transit Gateway route tables; "
                f"a Transit Gateway has at most {TGW_MAX_ROUTE_TABLES}"
            )
        return problems

    def _zone_problems(self) -> list[str]:
        problems = []
        for name, vpc in self.vpcs.items():
            zones = self.availability_zones.get(vpc.region)
            if zones is None:
                problems.append(f"network.availability_zones: no availability zones for {vpc.region} (VPC '{name}')")
                continue
            prefix = vpc.subnet_prefix(len(zones))
            if prefix > SMALLEST_SUBNET_PREFIX or len(zones) > 2 ** (ATTACHMENT_SUBNET_PREFIX - prefix):
                problems.append(
                    f"network.vpcs.{name}.cidr: {vpc.cidr} is too small for {len(zones)} availability zones "
                    f"(its subnets would be /{prefix}; the smallest subnet is /{SMALLEST_SUBNET_PREFIX})"
                )
        for region, zones in self.availability_zones.items():
            # The attachments need two AZs to survive one; NAT and firewall endpoints are per AZ.
            if len(zones) < 2:
                problems.append(
                    f"network.availability_zones.{region}: {len(zones)} given; a Transit Gateway attachment "
                    "needs subnets in at least 2 availability zones"
                )
            offered = AVAILABILITY_ZONES.get(region)
            for zone in zones:
                if not re.fullmatch(rf"{re.escape(region)}[a-z]", zone) or zones.count(zone) > 1:
                    problems.append(
                        f"network.availability_zones.{region}: '{zone}' is not a zone of {region} or is listed twice"
                    )
                elif offered is not None and zone not in offered:
                    problems.append(
                        f"network.availability_zones.{region}: '{zone}' is not an availability zone of {region} "
                        f"(it has {', '.join(offered)})"
                    )
        return problems

    def _endpoint_problems(self) -> list[str]:
        problems = []
        for index, service in enumerate(self.interface_endpoints):
            if service not in INTERFACE_ENDPOINT_SERVICES:
                close = difflib.get_close_matches(service, sorted(INTERFACE_ENDPOINT_SERVICES), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                problems.append(
                    f"network.interface_endpoints[{index}]: '{service}' is not a service AWS offers as an "
                    f"interface endpoint{hint}"
                )
            elif self.interface_endpoints.count(service) > 1 and self.interface_endpoints.index(service) < index:
                problems.append(f"network.interface_endpoints[{index}]: '{service}' is listed twice")
        return problems

    def _hybrid_problems(self) -> list[str]:
        problems = []
        if self.vpn is not None:
            for region, asn in self.transit_gateway_asns.items():
                if asn == self.vpn.bgp_asn:
                    problems.append(
                        f"network.vpn.bgp_asn: {asn} is also the Transit Gateway ASN in {region}; BGP needs two ASNs"
                    )
        if self.on_premises_dns is not None:
            ranges = [ipaddress.IPv4Network(c) for c in self.on_premises]
            for index, address in enumerate(self.on_premises_dns.resolvers):
                if not any(ipaddress.IPv4Address(address) in r for r in ranges):
                    problems.append(
                        f"network.on_premises_dns.resolvers[{index}]: {address} is not in network.on_premises"
                    )
        connected = self.vpn is not None or self.direct_connect is not None
        connects_on_premises = any(ON_PREMISES in c.between for c in self.policy)
        if connects_on_premises and (not self.on_premises or not connected):
            problems.append(
                "network.segment_policy: connects on-premises, but network.on_premises or a "
                "network.vpn / network.direct_connect is missing"
            )
        elif self.on_premises and not connected:
            # Ranges without a connection would only ever be blackholed: say so instead.
            problems.append(
                "network.on_premises: ranges are given but neither network.vpn nor network.direct_connect "
                "connects them; add the connection or remove the ranges"
            )
        return problems

    def _firewall_problems(self) -> list[str]:
        if not self.vpcs or self.firewall.rules or self.firewall.allowed_domains:
            return []  # no VPCs: no hub, no firewall
        inspected = [f"segment_policy[{i}]" for i, c in enumerate(self.policy) if c.inspected]
        why = f"the segment policy inspects traffic ({', '.join(inspected)})" if inspected else "the hub inspects"
        # A firewall policy without rule groups is what Control Tower's CT.NETWORK-FIREWALL.PR.1 refuses.
        return [
            f"network.firewall: required, with at least one rule or allowed domain: {why}, and a Network "
            "Firewall policy without rule groups is refused (Control Tower CT.NETWORK-FIREWALL.PR.1)"
        ]

    @property
    def policy(self) -> tuple[SegmentConnection, ...]:
        """The segment policy (empty when the required key is missing and validation failed)."""
        return self.segment_policy or ()

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
        return next((c for c in self.policy if set(c.between) == {a, b}), None)
