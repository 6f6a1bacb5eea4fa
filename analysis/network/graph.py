"""The routing graph of the network, read from the synthesized CloudFormation templates.

Every template of the assembly is read and resources are selected by type, never by stack
name, so the graph is what the templates would deploy: VPCs, subnets, route tables and
their associations, routes (local, NAT gateway, internet gateway, Transit Gateway,
Network Firewall endpoint, gateway endpoints, prefix lists), Transit Gateways with their
attachments, route tables, associations, propagations, static and blackhole routes, VPN
connections and inter-region peering.

Values are resolved by ``analysis.network.values`` (intrinsics and the lookup custom
resources that carry ids across templates); ``Fn::ImportValue`` is an error: cross-stack
values never travel through exports.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from analysis.assembly import StackTemplate
from analysis.network.endpoint_policy import EndpointScope, PolicyShapeError, endpoint_scope
from analysis.network.values import (
    DX_ASSOCIATION,
    ENDPOINT_MARK,
    Endpoint,
    Key,
    Resolver,
    Resource,
    TemplateError,
)

IPv4Network = ipaddress.IPv4Network

__all__ = ["Key", "Network", "Resource", "TemplateError", "build_network"]


# --- route targets --------------------------------------------------------------------


@dataclass(frozen=True)
class Local:
    """The VPC's own address range (the implicit ``local`` route)."""


@dataclass(frozen=True)
class InternetGateway:
    key: Key


@dataclass(frozen=True)
class NatGateway:
    key: Key


@dataclass(frozen=True)
class TransitGatewayTarget:
    tgw: Key


@dataclass(frozen=True)
class FirewallEndpoint:
    """The endpoint of a Network Firewall in one Availability Zone."""

    firewall: Key
    az: str


@dataclass(frozen=True)
class Blackhole:
    """A Transit Gateway route that drops what it matches."""


@dataclass(frozen=True)
class AttachmentTarget:
    """A Transit Gateway route to one attachment."""

    attachment: Key


@dataclass(frozen=True)
class Unsupported:
    """A target the analysis does not follow (peering connection, network interface...)."""

    what: str


Target = (
    Local | InternetGateway | NatGateway | TransitGatewayTarget | FirewallEndpoint | Blackhole | AttachmentTarget
) | Unsupported
Origin = Literal["local", "static", "propagated-vpc", "propagated-dx", "propagated-vpn"]


@dataclass(frozen=True)
class Route:
    destination: IPv4Network
    target: Target
    origin: Origin


# --- the graph ------------------------------------------------------------------------


@dataclass(frozen=True)
class Vpc:
    key: Key
    name: str
    region: str
    cidrs: tuple[IPv4Network, ...]


@dataclass(frozen=True)
class Subnet:
    key: Key
    name: str
    vpc: Key
    cidr: IPv4Network
    az: str


@dataclass
class RouteTable:
    key: Key
    name: str
    vpc: Key
    routes: list[Route] = field(default_factory=list)
    gateway_endpoints: dict[str, Key] = field(default_factory=dict)  # service ("s3") -> endpoint


@dataclass(frozen=True)
class Firewall:
    key: Key
    name: str
    vpc: Key
    subnets_by_az: Mapping[str, Key]


@dataclass(frozen=True)
class TransitGateway:
    key: Key
    name: str
    region: str


AttachmentKind = Literal["vpc", "vpn", "dx", "peering"]


@dataclass(frozen=True)
class Attachment:
    key: Key
    name: str
    kind: AttachmentKind
    tgws: tuple[Key, ...]  # one, or both ends of a peering
    vpc: Key | None = None
    subnets_by_az: Mapping[str, Key] = field(default_factory=dict)
    appliance_mode: bool = False
    bgp: bool = False  # a VPN or Direct Connect gateway whose routes are learned (propagated)


@dataclass
class TgwRouteTable:
    key: Key
    name: str
    tgw: Key
    routes: list[Route] = field(default_factory=list)


@dataclass(frozen=True)
class ResolverEndpoint:
    """A Route 53 Resolver endpoint: its network interfaces sit in ``subnets``."""

    key: Key
    name: str
    direction: str  # INBOUND or OUTBOUND
    subnets: tuple[Key, ...]
    security_groups: tuple[Key, ...]


@dataclass(frozen=True)
class ForwardingRule:
    """A Resolver rule that forwards queries for ``domain`` from the VPCs it is associated
    with, through an outbound endpoint, to ``targets``."""

    key: Key
    name: str
    domain: str
    endpoint: Key
    targets: tuple[ipaddress.IPv4Address, ...]
    vpcs: tuple[Key, ...] = ()


@dataclass(frozen=True)
class EgressRule:
    """One outbound rule of a security group."""

    protocol: str  # tcp, udp, icmp or -1 (all)
    cidr: IPv4Network
    from_port: int
    to_port: int

    def allows(self, protocol: str, address: ipaddress.IPv4Address, port: int) -> bool:
        if self.protocol not in ("-1", protocol) or address not in self.cidr:
            return False
        return self.protocol == "-1" or self.from_port <= port <= self.to_port


@dataclass
class Network:
    """Everything the flow evaluation needs, keyed by resource."""

    vpcs: dict[Key, Vpc] = field(default_factory=dict)
    subnets: dict[Key, Subnet] = field(default_factory=dict)
    route_tables: dict[Key, RouteTable] = field(default_factory=dict)
    subnet_route_table: dict[Key, Key] = field(default_factory=dict)
    internet_gateways: dict[Key, Key] = field(default_factory=dict)  # IGW -> VPC
    nat_gateways: dict[Key, Key] = field(default_factory=dict)  # NAT -> subnet
    firewalls: dict[Key, Firewall] = field(default_factory=dict)
    tgws: dict[Key, TransitGateway] = field(default_factory=dict)
    attachments: dict[Key, Attachment] = field(default_factory=dict)
    tgw_route_tables: dict[Key, TgwRouteTable] = field(default_factory=dict)
    associations: dict[tuple[Key, Key], Key] = field(default_factory=dict)  # (attachment, TGW) -> route table
    on_premises: tuple[IPv4Network, ...] = ()
    resources: dict[Key, Resource] = field(default_factory=dict)
    gateway_endpoint_scopes: dict[Key, EndpointScope] = field(default_factory=dict)
    resolver_endpoints: dict[Key, ResolverEndpoint] = field(default_factory=dict)
    forwarding_rules: dict[Key, ForwardingRule] = field(default_factory=dict)
    security_group_egress: dict[Key, list[EgressRule]] = field(default_factory=dict)

    def name(self, key: Key) -> str:
        return self.resources[key].name if key in self.resources else str(key)

    def vpc_of_address(self, address: ipaddress.IPv4Address) -> Vpc | None:
        return next((v for v in self.vpcs.values() if any(address in c for c in v.cidrs)), None)

    def subnet_of_address(self, vpc: Key, address: ipaddress.IPv4Address) -> Subnet | None:
        return next((s for s in self.subnets.values() if s.vpc == vpc and address in s.cidr), None)

    def vpc_attachment(self, vpc: Key, tgw: Key) -> Attachment | None:
        return next(
            (a for a in self.attachments.values() if a.kind == "vpc" and a.vpc == vpc and tgw in a.tgws),
            None,
        )

    def firewall_of_subnet(self, subnet: Key) -> Firewall | None:
        return next((f for f in self.firewalls.values() if subnet in f.subnets_by_az.values()), None)


def _network(text: str, at: Resource) -> IPv4Network:
    try:
        return IPv4Network(text, strict=True)
    except ValueError as err:
        raise TemplateError(f"{at.key}: {text!r} is not an IPv4 CIDR block") from err


def _enabled(value: Any) -> bool:
    return str(value).lower() in ("enable", "true")


def build_network(stacks: Iterable[StackTemplate], on_premises: Sequence[str] = ()) -> Network:
    """The routing graph of every network resource in ``stacks``.

    ``on_premises`` are the ranges the on-premises routers advertise over BGP (the config's
    on-premises ranges): the templates cannot say what a peer will announce.
    """
    resolver = Resolver(list(stacks))
    net = Network(resources=resolver.resources, on_premises=tuple(IPv4Network(c) for c in on_premises))
    _read_vpcs(resolver, net)
    _read_vpc_routes(resolver, net)
    _read_transit_gateways(resolver, net)
    _read_tgw_routes(resolver, net)
    _read_resolver(resolver, net)
    return net


def _read_vpcs(resolver: Resolver, net: Network) -> None:
    for vpc in resolver.of_type("AWS::EC2::VPC"):
        cidr = _network(resolver.text(vpc.properties["CidrBlock"], vpc), vpc)
        net.vpcs[vpc.key] = Vpc(vpc.key, vpc.name, vpc.region, (cidr,))
    for block in resolver.of_type("AWS::EC2::VPCCidrBlock"):
        vpc_key = resolver.key(block.properties["VpcId"], block, "VpcId")
        extra = _network(resolver.text(block.properties["CidrBlock"], block), block)
        old = net.vpcs[vpc_key]
        net.vpcs[vpc_key] = Vpc(old.key, old.name, old.region, (*old.cidrs, extra))
    for subnet in resolver.of_type("AWS::EC2::Subnet"):
        vpc_key = resolver.key(subnet.properties["VpcId"], subnet, "VpcId")
        cidr = _network(resolver.text(subnet.properties["CidrBlock"], subnet), subnet)
        if "AvailabilityZone" not in subnet.properties:
            raise TemplateError(f"{subnet.key}: subnet without an AvailabilityZone (AZs come from the config)")
        az = resolver.text(subnet.properties["AvailabilityZone"], subnet)
        net.subnets[subnet.key] = Subnet(subnet.key, subnet.name, vpc_key, cidr, az)
    for attachment in resolver.of_type("AWS::EC2::VPCGatewayAttachment"):
        if "InternetGatewayId" in attachment.properties:
            igw = resolver.key(attachment.properties["InternetGatewayId"], attachment, "InternetGatewayId")
            net.internet_gateways[igw] = resolver.key(attachment.properties["VpcId"], attachment, "VpcId")
    for nat in resolver.of_type("AWS::EC2::NatGateway"):
        net.nat_gateways[nat.key] = resolver.key(nat.properties["SubnetId"], nat, "SubnetId")
    for firewall in resolver.of_type("AWS::NetworkFirewall::Firewall"):
        by_az: dict[str, Key] = {}
        for mapping in firewall.properties.get("SubnetMappings", ()):
            subnet_key = resolver.key(mapping["SubnetId"], firewall, "SubnetMappings.SubnetId")
            by_az[net.subnets[subnet_key].az] = subnet_key
        vpc_key = resolver.key(firewall.properties["VpcId"], firewall, "VpcId")
        net.firewalls[firewall.key] = Firewall(firewall.key, firewall.name, vpc_key, by_az)


def _read_vpc_routes(resolver: Resolver, net: Network) -> None:
    for table in resolver.of_type("AWS::EC2::RouteTable"):
        vpc_key = resolver.key(table.properties["VpcId"], table, "VpcId")
        local = [Route(cidr, Local(), "local") for cidr in net.vpcs[vpc_key].cidrs]
        net.route_tables[table.key] = RouteTable(table.key, table.name, vpc_key, local)
    for association in resolver.of_type("AWS::EC2::SubnetRouteTableAssociation"):
        subnet = resolver.key(association.properties["SubnetId"], association, "SubnetId")
        table_key = resolver.key(association.properties["RouteTableId"], association, "RouteTableId")
        net.subnet_route_table[subnet] = table_key
    for route in resolver.of_type("AWS::EC2::Route"):
        table_key = resolver.key(route.properties["RouteTableId"], route, "RouteTableId")
        target = _vpc_route_target(resolver, route)
        for destination in _destinations(resolver, route):
            net.route_tables[table_key].routes.append(Route(destination, target, "static"))
    for endpoint in resolver.of_type("AWS::EC2::VPCEndpoint"):
        if endpoint.properties.get("VpcEndpointType", "Gateway") != "Gateway":
            continue
        service = resolver.text(endpoint.properties["ServiceName"], endpoint).rsplit(".", 1)[-1]
        try:
            net.gateway_endpoint_scopes[endpoint.key] = endpoint_scope(endpoint.properties.get("PolicyDocument"))
        except PolicyShapeError as err:
            raise TemplateError(f"{endpoint.key}: PolicyDocument: {err}") from None
        for table_ref in endpoint.properties.get("RouteTableIds", ()):
            table_key = resolver.key(table_ref, endpoint, "RouteTableIds")
            net.route_tables[table_key].gateway_endpoints[service] = endpoint.key


def _destinations(resolver: Resolver, route: Resource) -> list[IPv4Network]:
    properties = route.properties
    if "DestinationCidrBlock" in properties:
        return [_network(resolver.text(properties["DestinationCidrBlock"], route), route)]
    if "DestinationPrefixListId" in properties:
        prefix_list = resolver.resources[resolver.key(properties["DestinationPrefixListId"], route, "PrefixListId")]
        if prefix_list.type != "AWS::EC2::PrefixList":
            raise TemplateError(f"{route.key}: DestinationPrefixListId is not an AWS::EC2::PrefixList")
        return [
            _network(resolver.text(entry["Cidr"], prefix_list), prefix_list)
            for entry in prefix_list.properties.get("Entries", ())
        ]
    raise TemplateError(f"{route.key}: only IPv4 destinations (CIDR block or prefix list) are modelled")


def _vpc_route_target(resolver: Resolver, route: Resource) -> Target:
    properties = route.properties
    if "TransitGatewayId" in properties:
        return TransitGatewayTarget(resolver.key(properties["TransitGatewayId"], route, "TransitGatewayId"))
    if "NatGatewayId" in properties:
        return NatGateway(resolver.key(properties["NatGatewayId"], route, "NatGatewayId"))
    if "GatewayId" in properties:
        gateway = resolver.key(properties["GatewayId"], route, "GatewayId")
        if resolver.resources[gateway].type == "AWS::EC2::InternetGateway":
            return InternetGateway(gateway)
        return Unsupported(f"gateway {resolver.resources[gateway].type}")
    if "VpcEndpointId" in properties:
        resolved = resolver.resolve(properties["VpcEndpointId"], route)
        if isinstance(resolved, str) and ENDPOINT_MARK in resolved:
            az, reference = resolved.split(ENDPOINT_MARK, 1)[1].split("|", 1)
            stack, logical_id = reference.rsplit("/", 1)
            return FirewallEndpoint(Key(stack, logical_id), az)
        if isinstance(resolved, Endpoint):
            return FirewallEndpoint(resolved.firewall, resolved.az)
        return Unsupported(f"VPC endpoint {resolved!r}")
    others = sorted(k for k in properties if k.endswith("Id") and k != "RouteTableId")
    return Unsupported(", ".join(others) or "no target")


def _read_transit_gateways(resolver: Resolver, net: Network) -> None:
    for tgw in resolver.of_type("AWS::EC2::TransitGateway"):
        for option in ("DefaultRouteTableAssociation", "DefaultRouteTablePropagation"):
            if _enabled(tgw.properties.get(option, "enable")):
                raise TemplateError(f"{tgw.key}: {option} is enabled; only explicit route tables are modelled")
        net.tgws[tgw.key] = TransitGateway(tgw.key, tgw.name, tgw.region)
    for attachment in resolver.of_type("AWS::EC2::TransitGatewayVpcAttachment", "AWS::EC2::TransitGatewayAttachment"):
        properties = attachment.properties
        subnets = [resolver.key(s, attachment, "SubnetIds") for s in properties.get("SubnetIds", ())]
        by_az = {net.subnets[s].az: s for s in subnets}
        if len(by_az) != len(subnets):
            raise TemplateError(f"{attachment.key}: two attachment subnets in one Availability Zone")
        options = properties.get("Options") or {}
        net.attachments[attachment.key] = Attachment(
            attachment.key,
            attachment.name,
            "vpc",
            (resolver.key(properties["TransitGatewayId"], attachment, "TransitGatewayId"),),
            vpc=resolver.key(properties["VpcId"], attachment, "VpcId"),
            subnets_by_az=by_az,
            appliance_mode=_enabled(options.get("ApplianceModeSupport", "disable")),
        )
    for vpn in resolver.of_type("AWS::EC2::VPNConnection"):
        if "TransitGatewayId" not in vpn.properties:
            continue
        key = Key(vpn.key.stack, f"{vpn.key.logical_id}#vpn")
        vpn_tgw = resolver.key(vpn.properties["TransitGatewayId"], vpn, "TransitGatewayId")
        bgp = not _enabled(vpn.properties.get("StaticRoutesOnly", False))
        net.attachments[key] = Attachment(key, vpn.name, "vpn", (vpn_tgw,), bgp=bgp)
    for dx in resolver.of_type(DX_ASSOCIATION):
        key = Key(dx.key.stack, f"{dx.key.logical_id}#dx")
        dx_tgw = resolver.key(dx.properties["AssociatedGatewayId"], dx, "AssociatedGatewayId")
        net.attachments[key] = Attachment(key, f"direct-connect {dx.name}", "dx", (dx_tgw,), bgp=True)
    for peering in resolver.of_type("AWS::EC2::TransitGatewayPeeringAttachment"):
        local = resolver.key(peering.properties["TransitGatewayId"], peering, "TransitGatewayId")
        peer = resolver.key(peering.properties["PeerTransitGatewayId"], peering, "PeerTransitGatewayId")
        net.attachments[peering.key] = Attachment(peering.key, peering.name, "peering", (local, peer))


def _attachment(net: Network, key: Key, at: Resource) -> Attachment:
    if key not in net.attachments:
        raise TemplateError(f"{at.key}: {key} is not a Transit Gateway attachment of the assembly")
    return net.attachments[key]


def _read_tgw_routes(resolver: Resolver, net: Network) -> None:
    for resource in resolver.of_type("AWS::EC2::TransitGatewayRouteTable"):
        tgw = resolver.key(resource.properties["TransitGatewayId"], resource, "TransitGatewayId")
        net.tgw_route_tables[resource.key] = TgwRouteTable(resource.key, resource.name, tgw)
    for association in resolver.of_type("AWS::EC2::TransitGatewayRouteTableAssociation"):
        attachment = _attachment(
            net,
            resolver.key(association.properties["TransitGatewayAttachmentId"], association, "attachment"),
            association,
        )
        table = net.tgw_route_tables[
            resolver.key(association.properties["TransitGatewayRouteTableId"], association, "route table")
        ]
        if table.tgw not in attachment.tgws:
            raise TemplateError(f"{association.key}: route table and attachment belong to different Transit Gateways")
        if (attachment.key, table.tgw) in net.associations:
            raise TemplateError(f"{association.key}: {attachment.name} is associated with two route tables")
        net.associations[(attachment.key, table.tgw)] = table.key
    for propagation in resolver.of_type("AWS::EC2::TransitGatewayRouteTablePropagation"):
        attachment = _attachment(
            net,
            resolver.key(propagation.properties["TransitGatewayAttachmentId"], propagation, "attachment"),
            propagation,
        )
        table = net.tgw_route_tables[
            resolver.key(propagation.properties["TransitGatewayRouteTableId"], propagation, "route table")
        ]
        to_attachment = AttachmentTarget(attachment.key)
        if attachment.kind == "vpc" and attachment.vpc is not None:
            table.routes += [Route(c, to_attachment, "propagated-vpc") for c in net.vpcs[attachment.vpc].cidrs]
        elif attachment.kind == "vpn" and attachment.bgp:
            table.routes += [Route(c, to_attachment, "propagated-vpn") for c in net.on_premises]
        elif attachment.kind == "dx":
            table.routes += [Route(c, to_attachment, "propagated-dx") for c in net.on_premises]
        elif attachment.kind == "peering":
            raise TemplateError(f"{propagation.key}: peering attachments do not propagate routes; use static routes")
    for route in resolver.of_type("AWS::EC2::TransitGatewayRoute"):
        table = net.tgw_route_tables[resolver.key(route.properties["TransitGatewayRouteTableId"], route, "route table")]
        destination = _network(resolver.text(route.properties["DestinationCidrBlock"], route), route)
        target: Target
        if _enabled(route.properties.get("Blackhole", False)):
            target = Blackhole()
        else:
            key = resolver.key(route.properties["TransitGatewayAttachmentId"], route, "TransitGatewayAttachmentId")
            target = AttachmentTarget(_attachment(net, key, route).key)
        table.routes.append(Route(destination, target, "static"))


def _read_resolver(resolver: Resolver, net: Network) -> None:
    """Resolver endpoints, forwarding rules with their VPC associations, and the egress
    rules of the endpoints' security groups (what an outbound endpoint may send)."""
    for endpoint in resolver.of_type("AWS::Route53Resolver::ResolverEndpoint"):
        subnets = tuple(
            resolver.key(address["SubnetId"], endpoint, "IpAddresses.SubnetId")
            for address in endpoint.properties.get("IpAddresses", ())
        )
        groups = tuple(
            resolver.key(group, endpoint, "SecurityGroupIds")
            for group in endpoint.properties.get("SecurityGroupIds", ())
        )
        direction = resolver.text(endpoint.properties["Direction"], endpoint)
        net.resolver_endpoints[endpoint.key] = ResolverEndpoint(endpoint.key, endpoint.name, direction, subnets, groups)
        for group_key in groups:
            group = resolver.resources[group_key]
            rules = group.properties.get("SecurityGroupEgress", ())
            net.security_group_egress[group_key] = [_egress_rule(resolver, rule, group) for rule in rules]
    for egress in resolver.of_type("AWS::EC2::SecurityGroupEgress"):
        group_key = resolver.key(egress.properties["GroupId"], egress, "GroupId")
        if group_key in net.security_group_egress:
            net.security_group_egress[group_key].append(_egress_rule(resolver, egress.properties, egress))
    for rule in resolver.of_type("AWS::Route53Resolver::ResolverRule"):
        if resolver.text(rule.properties["RuleType"], rule) != "FORWARD":
            continue
        endpoint_key = resolver.key(rule.properties["ResolverEndpointId"], rule, "ResolverEndpointId")
        if net.resolver_endpoints.get(endpoint_key, None) is None:
            raise TemplateError(f"{rule.key}: ResolverEndpointId is not a Resolver endpoint of the assembly")
        targets = tuple(
            ipaddress.IPv4Address(resolver.text(target["Ip"], rule)) for target in rule.properties.get("TargetIps", ())
        )
        domain = resolver.text(rule.properties["DomainName"], rule).rstrip(".")
        net.forwarding_rules[rule.key] = ForwardingRule(rule.key, rule.name, domain, endpoint_key, targets)
    for association in resolver.of_type("AWS::Route53Resolver::ResolverRuleAssociation"):
        rule_key = resolver.key(association.properties["ResolverRuleId"], association, "ResolverRuleId")
        vpc_key = resolver.key(association.properties["VPCId"], association, "VPCId")
        if rule_key not in net.forwarding_rules or vpc_key not in net.vpcs:
            raise TemplateError(f"{association.key}: associates no forwarding rule with a VPC of the assembly")
        known = net.forwarding_rules[rule_key]
        net.forwarding_rules[rule_key] = dataclasses.replace(known, vpcs=(*known.vpcs, vpc_key))


def _egress_rule(resolver: Resolver, rule: Mapping[str, Any], at: Resource) -> EgressRule:
    if "CidrIp" not in rule:
        raise TemplateError(f"{at.key}: only IPv4 CIDR egress rules are modelled")
    protocol = resolver.text(rule["IpProtocol"], at).lower()
    from_port = int(resolver.text(rule.get("FromPort", -1), at))
    to_port = int(resolver.text(rule.get("ToPort", -1), at))
    return EgressRule(protocol, _network(resolver.text(rule["CidrIp"], at), at), from_port, to_port)
