"""Which networks can reach which, evaluated hop by hop the way AWS routes a packet.

A flow (a source subnet, on-premises or the internet, and a destination address) is
followed through the routing graph that ``analysis.network.graph`` reads from the
synthesized templates:

- a VPC route table picks the longest prefix that contains the destination; ``local``
  delivers inside the VPC and nowhere else, so two VPCs only reach each other through a
  Transit Gateway (VPC routing is not transitive);
- traffic enters a Transit Gateway only through its VPC's attachment, and only from an
  Availability Zone where the attachment has a subnet;
- a Transit Gateway route table (the one associated with the attachment the packet came
  in on) picks the longest prefix; for an equal prefix a static route beats a propagated
  one (VPC propagation before VPN propagation); a blackhole route drops the packet;
- a VPC attachment delivers in the packet's own Availability Zone when it has a subnet
  there; with appliance mode, the Transit Gateway instead picks one AZ per flow from a
  hash of the flow's two addresses, so both directions pick the same one;
- a Network Firewall endpoint hands the packet to the route table of the firewall's
  subnet in its AZ; a NAT gateway translates the source and routes from its own subnet;
  an internet gateway carries only public destinations.

Then the return traffic is followed from the destination back to the source (to the NAT
gateway first, when one translated the source). A flow is allowed when both directions
arrive and cross the same firewall endpoints: a stateful firewall drops a return packet
it has not seen leave (asymmetric routing). A packet that comes back to a place it has
already been is reported as a loop.

The verdict is about routing: security groups, network ACLs and the firewall's own rules
decide further what an allowed route may carry.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from analysis.network.graph import (
    Attachment,
    AttachmentTarget,
    Blackhole,
    FirewallEndpoint,
    InternetGateway,
    Key,
    Local,
    NatGateway,
    Network,
    Route,
    Subnet,
    TemplateError,
    TransitGatewayTarget,
)

IPv4Address = ipaddress.IPv4Address
_MAX_HOPS = 64
# Ranges the internet does not route (RFC 1918, shared address space, link-local, loopback).
_NOT_ON_THE_INTERNET = tuple(
    ipaddress.IPv4Network(c)
    for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8")
)
# Equal prefixes in a Transit Gateway route table: static first, then propagation from a VPC,
# from Direct Connect, from a VPN.
_TGW_PREFERENCE = {"static": 0, "propagated-vpc": 1, "propagated-dx": 2, "propagated-vpn": 3, "local": 4}

ON_PREMISES = "on-premises"
INTERNET = "internet"
SERVICE = "service"
# Stand-ins for addresses the templates cannot name (documentation ranges, RFC 5737).
INTERNET_ADDRESS = IPv4Address("198.51.100.10")
SERVICE_ADDRESS = IPv4Address("203.0.113.10")  # a public address of an AWS service
GATEWAY_ENDPOINT_SERVICES = ("s3", "dynamodb")


class Verdict(StrEnum):
    REACHED = "reached"
    DROPPED = "dropped"
    LOOP = "loop"


@dataclass(frozen=True)
class Place:
    """Where a trace ends: a subnet, on-premises or the internet."""

    kind: str  # "subnet", ON_PREMISES, INTERNET or SERVICE
    subnet: Key | None = None


@dataclass
class Trace:
    """One direction of a flow, hop by hop."""

    verdict: Verdict = Verdict.DROPPED
    hops: list[str] = field(default_factory=list)
    reason: str = ""
    firewalls: list[tuple[str, str]] = field(default_factory=list)  # (firewall name, AZ)
    nat: Key | None = None  # the NAT gateway that translated the source
    end: Place | None = None

    @property
    def path(self) -> str:
        return " > ".join(self.hops)


@dataclass(frozen=True)
class FlowResult:
    forward: Trace
    back: Trace | None

    @property
    def symmetric(self) -> bool:
        """Both directions cross the same firewall endpoints (or none)."""
        return self.back is not None and sorted(self.forward.firewalls) == sorted(self.back.firewalls)

    @property
    def allowed(self) -> bool:
        return (
            self.forward.verdict is Verdict.REACHED
            and self.back is not None
            and self.back.verdict is Verdict.REACHED
            and self.symmetric
        )

    @property
    def inspected(self) -> bool:
        return bool(self.forward.firewalls)

    @property
    def explanation(self) -> str:
        """One line: why the flow is allowed or not."""
        if self.forward.verdict is not Verdict.REACHED:
            return f"{self.forward.verdict.value}: {self.forward.reason}"
        if self.back is None or self.back.verdict is not Verdict.REACHED:
            reason = self.back.reason if self.back else "no return path"
            return f"return {self.back.verdict.value if self.back else 'dropped'}: {reason}"
        if not self.symmetric:
            return (
                f"asymmetric: out through {_endpoints(self.forward)}, back through {_endpoints(self.back)}; "
                "the stateful firewall drops the return"
            )
        return "allowed, inspected by " + _endpoints(self.forward) if self.inspected else "allowed"


def _endpoints(trace: Trace) -> str:
    return ", ".join(f"{name} ({az})" for name, az in trace.firewalls) or "no firewall"


# --- the walk -------------------------------------------------------------------------


@dataclass
class _Packet:
    source: IPv4Address
    destination: IPv4Address
    az: str | None
    service: str | None = None  # "s3", "dynamodb": an AWS service at a public address


def _best_vpc_route(routes: Sequence[Route], destination: IPv4Address) -> Route | None:
    matching = [r for r in routes if destination in r.destination]
    return max(matching, key=lambda r: r.destination.prefixlen, default=None)


def _best_tgw_route(routes: Sequence[Route], destination: IPv4Address) -> Route | None:
    matching = [r for r in routes if destination in r.destination]
    return min(matching, key=lambda r: (-r.destination.prefixlen, _TGW_PREFERENCE[r.origin]), default=None)


def _flow_hash(packet: _Packet, choices: int) -> int:
    """The same index for both directions of a flow (the two addresses, in either order)."""
    low, high = sorted((int(packet.source), int(packet.destination)))
    digest = hashlib.sha256(f"{low}-{high}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % choices


def _on_the_internet(address: IPv4Address) -> bool:
    return not any(address in block for block in _NOT_ON_THE_INTERNET)


class _Walk:
    def __init__(self, net: Network, packet: _Packet, trace: Trace) -> None:
        self.net = net
        self.packet = packet
        self.trace = trace
        self.seen: set[tuple[str, Key, str | None]] = set()

    def _visit(self, kind: str, where: Key) -> bool:
        """Record a position; False (and a loop verdict) when the packet has been there."""
        state = (kind, where, self.packet.az)
        if state in self.seen or len(self.trace.hops) > _MAX_HOPS:
            self.trace.verdict = Verdict.LOOP
            self.trace.reason = f"the packet returns to {self.net.name(where)}"
            self.trace.hops.append(f"LOOP at {self.net.name(where)}")
            return False
        self.seen.add(state)
        return True

    def _stop(self, verdict: Verdict, reason: str, end: Place | None = None) -> Trace:
        self.trace.verdict, self.trace.reason, self.trace.end = verdict, reason, end
        return self.trace

    def from_subnet(self, subnet_key: Key) -> Trace:
        """Route the packet from a subnet (its source, or a hop inside a VPC)."""
        while True:
            subnet = self.net.subnets[subnet_key]
            self.packet.az = subnet.az
            if not self._visit("subnet", subnet_key):
                return self.trace
            table_key = self.net.subnet_route_table.get(subnet_key)
            if table_key is None:  # the VPC's main route table: only the local route
                routes: Sequence[Route] = [Route(c, Local(), "local") for c in self.net.vpcs[subnet.vpc].cidrs]
                table_name = "main route table"
            else:
                routes = self.net.route_tables[table_key].routes
                table_name = self.net.name(table_key)
            self.trace.hops.append(f"{subnet.name} [{table_name}]")
            endpoints = self.net.route_tables[table_key].gateway_endpoints if table_key is not None else {}
            if self.packet.service in endpoints:
                # The endpoint's route is the service's prefix list, more specific than a default route.
                scope = self.net.gateway_endpoint_scopes[endpoints[self.packet.service]].text
                self.trace.hops.append(f"{self.packet.service} gateway endpoint ({scope})")
                return self._stop(
                    Verdict.REACHED, f"{self.packet.service} through a gateway endpoint: {scope}", Place(SERVICE)
                )
            route = _best_vpc_route(routes, self.packet.destination)
            if route is None:
                return self._stop(Verdict.DROPPED, f"no route to {self.packet.destination} in {table_name}")
            target = route.target
            if isinstance(target, Local):
                return self._deliver_local(subnet)
            if isinstance(target, InternetGateway):
                self.trace.hops.append(self.net.name(target.key))
                if not _on_the_internet(self.packet.destination):
                    return self._stop(Verdict.DROPPED, f"the internet gateway does not carry {self.packet.destination}")
                return self._stop(Verdict.REACHED, "internet", Place(INTERNET))
            if isinstance(target, NatGateway):
                self.trace.hops.append(self.net.name(target.key))
                self.trace.nat = target.key
                subnet_key = self.net.nat_gateways[target.key]
                continue
            if isinstance(target, FirewallEndpoint):
                firewall = self.net.firewalls[target.firewall]
                self.trace.hops.append(f"{firewall.name} ({target.az})")
                self.trace.firewalls.append((firewall.name, target.az))
                if target.az not in firewall.subnets_by_az:
                    return self._stop(Verdict.DROPPED, f"{firewall.name} has no endpoint in {target.az}")
                subnet_key = firewall.subnets_by_az[target.az]
                continue
            if isinstance(target, TransitGatewayTarget):
                attachment = self.net.vpc_attachment(subnet.vpc, target.tgw)
                if attachment is None:
                    return self._stop(Verdict.DROPPED, f"{self.net.name(subnet.vpc)} has no attachment to the TGW")
                if subnet.az not in attachment.subnets_by_az:
                    return self._stop(Verdict.DROPPED, f"{attachment.name} has no subnet in {subnet.az}")
                return self.from_tgw(target.tgw, attachment)
            # A peering connection or a network interface may well carry the packet: an
            # error, never a "denied" the templates do not say.
            raise TemplateError(
                f"{table_name}: the route to {route.destination} has a target the analysis does not model ({target})"
            )

    def _deliver_local(self, subnet: Subnet) -> Trace:
        destination = self.net.subnet_of_address(subnet.vpc, self.packet.destination)
        if destination is None:
            return self._stop(
                Verdict.DROPPED, f"no subnet of {self.net.name(subnet.vpc)} holds {self.packet.destination}"
            )
        if destination.key != subnet.key:
            self.trace.hops.append(destination.name)
        return self._stop(Verdict.REACHED, destination.name, Place("subnet", destination.key))

    def from_tgw(self, tgw: Key, ingress: Attachment) -> Trace:
        """Route the packet on a Transit Gateway it entered through ``ingress``."""
        while True:
            if not self._visit("tgw", ingress.key):
                return self.trace
            table_key = self.net.associations.get((ingress.key, tgw))
            if table_key is None:
                self.trace.hops.append(self.net.name(tgw))
                return self._stop(Verdict.DROPPED, f"{ingress.name} is associated with no route table")
            table = self.net.tgw_route_tables[table_key]
            self.trace.hops.append(f"{self.net.name(tgw)} [{table.name}]")
            route = _best_tgw_route(table.routes, self.packet.destination)
            if route is None:
                return self._stop(Verdict.DROPPED, f"no route to {self.packet.destination} in {table.name}")
            if isinstance(route.target, Blackhole):
                return self._stop(Verdict.DROPPED, f"blackhole route {route.destination} in {table.name}")
            if not isinstance(route.target, AttachmentTarget):
                return self._stop(Verdict.DROPPED, f"unexpected target in {table.name}")
            egress = self.net.attachments[route.target.attachment]
            if egress.kind == "peering":
                self.trace.hops.append(egress.name)
                tgw = next(t for t in egress.tgws if t != tgw)
                ingress = egress
                continue
            if egress.kind in ("vpn", "dx"):
                self.trace.hops.append(egress.name)
                if not any(self.packet.destination in block for block in self.net.on_premises):
                    return self._stop(Verdict.DROPPED, f"on-premises does not hold {self.packet.destination}")
                return self._stop(Verdict.REACHED, ON_PREMISES, Place(ON_PREMISES))
            return self._into_vpc(egress)

    def _into_vpc(self, attachment: Attachment) -> Trace:
        azs = sorted(attachment.subnets_by_az)
        if not azs:
            return self._stop(Verdict.DROPPED, f"{attachment.name} has no subnets")
        if attachment.appliance_mode:
            az = azs[_flow_hash(self.packet, len(azs))]
        elif self.packet.az is not None and self.packet.az in attachment.subnets_by_az:
            az = self.packet.az
        else:
            az = azs[0]
        self.trace.hops.append(f"{attachment.name} ({az})")
        return self.from_subnet(attachment.subnets_by_az[az])


# --- flows ----------------------------------------------------------------------------


def host_address(subnet: Subnet, offset: int = 10) -> IPv4Address:
    """An address inside ``subnet`` past the five AWS reserves."""
    return subnet.cidr.network_address + offset


def on_premises_attachment(net: Network) -> Attachment | None:
    """Where on-premises traffic enters: the Direct Connect gateway if there is one, else the VPN."""
    connections = [a for a in net.attachments.values() if a.kind in ("dx", "vpn")]
    return min(connections, key=lambda a: (a.kind != "dx", a.key), default=None)


def _trace_from(
    net: Network, start: Place, source: IPv4Address, destination: IPv4Address, service: str | None = None
) -> Trace:
    trace = Trace()
    if start.kind == "subnet" and start.subnet is not None:
        return _Walk(net, _Packet(source, destination, None, service), trace).from_subnet(start.subnet)
    if start.kind == ON_PREMISES:
        connection = on_premises_attachment(net)
        trace.hops.append(ON_PREMISES)
        if connection is None:
            trace.reason = "no VPN or Direct Connect attachment connects on-premises"
            return trace
        trace.hops.append(connection.name)
        return _Walk(net, _Packet(source, destination, None), trace).from_tgw(connection.tgws[0], connection)
    return _from_internet(net, destination, trace)


def _from_internet(net: Network, destination: IPv4Address, trace: Trace) -> Trace:
    """Unsolicited traffic from the internet reaches only a public subnet of a VPC with an
    internet gateway (and then only an address with a public IP)."""
    trace.hops.append(INTERNET)
    vpc = net.vpc_of_address(destination)
    if vpc is None:
        trace.reason = f"no VPC holds {destination}"
        return trace
    gateways = [igw for igw, owner in net.internet_gateways.items() if owner == vpc.key]
    if not gateways:
        trace.reason = f"{vpc.name} has no internet gateway"
        return trace
    trace.hops.append(net.name(gateways[0]))
    subnet = net.subnet_of_address(vpc.key, destination)
    if subnet is None:
        trace.reason = f"no subnet of {vpc.name} holds {destination}"
        return trace
    table = net.route_tables.get(net.subnet_route_table.get(subnet.key, Key("", "")))
    public = table is not None and any(
        isinstance(r.target, InternetGateway) and r.destination.prefixlen == 0 for r in table.routes
    )
    if not public:
        trace.reason = f"{subnet.name} is not a public subnet"
        return trace
    trace.hops.append(subnet.name)
    trace.verdict, trace.reason, trace.end = Verdict.REACHED, subnet.name, Place("subnet", subnet.key)
    return trace


def evaluate(
    net: Network,
    source: Place,
    source_address: IPv4Address,
    destination: IPv4Address,
    service: str | None = None,
) -> FlowResult:
    """Follow a flow out and back (``service``: the destination is that AWS service)."""
    forward = _trace_from(net, source, source_address, destination, service)
    if forward.verdict is not Verdict.REACHED or forward.end is None:
        return FlowResult(forward, None)
    end = forward.end
    if end.kind == SERVICE:  # the gateway endpoint answers straight back into the subnet
        return FlowResult(forward, Trace(Verdict.REACHED, [forward.hops[-1], forward.hops[0]], "gateway endpoint"))
    if forward.nat is not None:
        # The reply goes to the NAT gateway's address, which translates it back.
        nat_subnet = net.nat_gateways[forward.nat]
        if end.kind == INTERNET:
            back = Trace(hops=[INTERNET, net.name(forward.nat)])
        else:
            back = _trace_from(net, end, destination, host_address(net.subnets[nat_subnet], 4))
            if back.verdict is not Verdict.REACHED:
                return FlowResult(forward, back)
        rest = _Walk(net, _Packet(destination, source_address, None), back).from_subnet(nat_subnet)
        return FlowResult(forward, rest)
    if end.kind == INTERNET:
        if source.kind == "subnet" and source.subnet is not None:
            back = Trace(hops=[INTERNET])
            return FlowResult(
                forward, _Walk(net, _Packet(destination, source_address, None), back).from_subnet(source.subnet)
            )
        return FlowResult(forward, Trace(hops=[INTERNET], reason="no return path"))
    return FlowResult(forward, _trace_from(net, end, destination, source_address))


def subnet_named(net: Network, name: str) -> Subnet:
    """The subnet whose ``Name`` tag is ``name``."""
    found = [s for s in net.subnets.values() if s.name == name]
    if len(found) != 1:
        raise KeyError(f"{len(found)} subnets are named {name!r}")
    return found[0]


def _endpoint(net: Network, name: str) -> tuple[Place, IPv4Address, str | None]:
    if name == ON_PREMISES:
        if not net.on_premises:
            raise KeyError("the network has no on-premises range")
        return Place(ON_PREMISES), net.on_premises[0].network_address + 10, None
    if name == INTERNET:
        return Place(INTERNET), INTERNET_ADDRESS, None
    if name in GATEWAY_ENDPOINT_SERVICES:
        return Place(SERVICE), SERVICE_ADDRESS, name
    try:
        address = IPv4Address(name)
    except ValueError:
        subnet = subnet_named(net, name)
        return Place("subnet", subnet.key), host_address(subnet), None
    subnet_key = next((s.key for s in net.subnets.values() if address in s.cidr), None)
    return Place("subnet", subnet_key), address, None


def trace_flow(net: Network, source: str, destination: str) -> FlowResult:
    """A flow between names: a subnet's ``Name`` tag, ``on-premises``, ``internet``, ``s3``,
    ``dynamodb`` (destination only) or an IPv4 address (a source address must lie in a
    subnet of the templates)."""
    start, source_address, service = _endpoint(net, source)
    if service is not None:
        raise KeyError(f"{source} is a destination only: a flow starts in a subnet, on-premises or the internet")
    if start.kind == "subnet" and start.subnet is None:
        raise KeyError(f"no subnet of the templates holds the source address {source_address}")
    _, destination_address, service = _endpoint(net, destination)
    return evaluate(net, start, source_address, destination_address, service)
