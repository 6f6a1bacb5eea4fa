"""The segment policy turned into Transit Gateway routing, per region (no CDK import).

Each region's Transit Gateway has one route table per segment with VPCs there, and in
the home region also ``on-premises``, ``inspection``, ``egress`` and ``peering``. How a
connection of the policy becomes routes:

* uninspected, same region: the destination VPC's attachment **propagates** into the
  source segment's table;
* inspected: a **static** route to the inspection VPC's attachment; the ``inspection``
  table (used by traffic leaving the firewall) then routes to the destination;
* the other region: a static route to the **peering** attachment (peerings do not
  propagate);
* the internet: ``0.0.0.0/0`` to the inspection VPC, whose table sends it to the egress
  VPC; the ``egress`` table sends the replies back through the inspection VPC, so both
  directions pass the same firewall;
* on-premises: static routes for the configured ranges (BGP may learn more-specific
  prefixes, which must not bypass the firewall, so the VPN never propagates into a
  segment's table).

A table with a default route also gets **blackhole** routes for the supernet and for
every on-premises range it may not reach: without them, traffic to another segment
would follow the default route to the firewall and, from the inspection table, on to
that segment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from org_config.model import INTERNET, ON_PREMISES, Network, Vpc

PEERING = "peering"
VPN = "vpn"
DIRECT_CONNECT = "direct-connect"
DEFAULT_ROUTE = "0.0.0.0/0"


@dataclass(frozen=True, order=True)
class StaticRoute:
    table: str
    cidr: str
    target: str | None  # an attachment key; None for a blackhole


@dataclass(frozen=True, order=True)
class Propagation:
    table: str
    attachment: str  # the key of a VPC attachment


@dataclass
class RegionRouting:
    """Route tables, associations (attachment key -> table), propagations and static routes."""

    tables: list[str] = field(default_factory=list)
    associations: dict[str, str] = field(default_factory=dict)
    propagations: set[Propagation] = field(default_factory=set)
    routes: dict[tuple[str, str], StaticRoute] = field(default_factory=dict)
    inspection: str = ""  # the inspection VPC's attachment key (home region only)

    def add_route(self, table: str, cidr: str, target: str | None) -> None:
        """Add a static route; for the same table and prefix, the inspection path wins over
        a direct one (inspection is never weakened by a second policy entry)."""
        key = (table, cidr)
        existing = self.routes.get(key)
        if existing is not None and existing.target != target:
            if target == self.inspection:
                self.routes[key] = StaticRoute(table, cidr, target)
            return
        self.routes[key] = StaticRoute(table, cidr, target)

    @property
    def static_routes(self) -> list[StaticRoute]:
        return sorted(self.routes.values(), key=lambda r: (r.table, r.cidr))


def _on_premises_target(network: Network) -> str:
    # With both, Direct Connect carries the traffic and the VPN is the path on-premises
    # uses back in (associated with the same table).
    return DIRECT_CONNECT if network.direct_connect is not None else VPN


def _workload_vpcs(network: Network, segment: str) -> dict[str, Vpc]:
    return {name: vpc for name, vpc in network.vpcs.items() if vpc.segment == segment}


def _segments_in(network: Network, region: str) -> list[str]:
    present = {vpc.segment for vpc in network.vpcs.values() if vpc.region == region}
    return [s for s in network.segments if s in present]


def _ends(network: Network) -> list[str]:
    return [*network.segments, ON_PREMISES, INTERNET]


def home_routing(network: Network, home: str, dr: str) -> RegionRouting:
    """The home region: spokes, the hub (inspection, egress), on-premises, the peering."""
    inspection, _ = network.hub_vpc("inspection")
    egress, _ = network.hub_vpc("egress")
    has_on_premises = network.vpn is not None or network.direct_connect is not None
    has_dr = any(vpc.region == dr for vpc in network.vpcs.values())
    on_premises_target = _on_premises_target(network)
    plan = RegionRouting(inspection=inspection)
    plan.tables = [*_segments_in(network, home), *([ON_PREMISES] if has_on_premises else []), "inspection", "egress"]
    if has_dr:
        plan.tables.append(PEERING)
    for name, vpc in network.vpcs_in(home).items():
        plan.associations[name] = vpc.segment
    if network.vpn is not None:
        plan.associations[VPN] = ON_PREMISES
    if network.direct_connect is not None:
        plan.associations[DIRECT_CONNECT] = ON_PREMISES
    if has_dr:
        plan.associations[PEERING] = PEERING

    def route_to(table: str, destination: str, inspected: bool) -> None:
        """Routes in ``table`` to every network of ``destination`` (a segment, on-premises
        or the internet)."""
        if destination == INTERNET:
            plan.add_route(table, DEFAULT_ROUTE, inspection)
        elif destination == ON_PREMISES:
            for cidr in network.on_premises:
                plan.add_route(table, cidr, inspection if inspected else on_premises_target)
        else:
            for name, vpc in _workload_vpcs(network, destination).items():
                if inspected:
                    plan.add_route(table, vpc.cidr, inspection)
                elif vpc.region == home:
                    plan.propagations.add(Propagation(table, name))
                elif table != PEERING:  # from the DR region, a DR VPC is reached there
                    plan.add_route(table, vpc.cidr, PEERING)

    def route_from(table: str, sources: list[str]) -> None:
        for source in sources:
            for destination in _ends(network):
                connection = network.connection(source, destination)
                if connection is not None:
                    route_to(table, destination, connection.inspected)

    for segment in _segments_in(network, home):
        route_from(segment, [segment])
    if has_on_premises:
        route_from(ON_PREMISES, [ON_PREMISES])
    if has_dr:
        # Traffic from the DR region: whatever its segments may reach here. The DR side's
        # own tables decide per segment what enters the peering at all.
        route_from(PEERING, _segments_in(network, dr))

    # Leaving the firewall: onward to both ends of every inspected connection.
    for connection in network.policy:
        if not connection.inspected:
            continue
        for end in connection.between:
            if end == INTERNET:
                plan.add_route("inspection", DEFAULT_ROUTE, egress)
            elif end == ON_PREMISES:
                for cidr in network.on_premises:
                    plan.add_route("inspection", cidr, on_premises_target)
            else:
                for name, vpc in _workload_vpcs(network, end).items():
                    if vpc.region == home:
                        plan.propagations.add(Propagation("inspection", name))
                    else:
                        plan.add_route("inspection", vpc.cidr, PEERING)
    # Replies from the internet go back through the firewall that saw the request.
    for segment in network.segments:
        if network.connection(segment, INTERNET) is not None:
            for vpc in _workload_vpcs(network, segment).values():
                plan.add_route("egress", vpc.cidr, inspection)

    _blackholes(network, plan, [t for t in plan.tables if t not in ("inspection", "egress")])
    return plan


def dr_routing(network: Network, dr: str) -> RegionRouting:
    """The DR region: its VPCs' segments; everything beyond the region over the peering.

    The inspection firewall is in the home region: a DR VPC's inspected and internet
    traffic crosses the peering to it. Two DR VPCs of connected segments reach each other
    directly (propagation), uninspected.
    """
    plan = RegionRouting()
    segments = _segments_in(network, dr)
    plan.tables = [*segments, PEERING]
    for name, vpc in network.vpcs_in(dr).items():
        plan.associations[name] = vpc.segment
        # Traffic arriving over the peering may reach every DR VPC; the home side's
        # tables only send what the policy allows.
        plan.propagations.add(Propagation(PEERING, name))
    plan.associations[PEERING] = PEERING
    for segment in segments:
        for destination in _ends(network):
            if network.connection(segment, destination) is None:
                continue
            if destination == INTERNET:
                plan.add_route(segment, DEFAULT_ROUTE, PEERING)
            elif destination == ON_PREMISES:
                for cidr in network.on_premises:
                    plan.add_route(segment, cidr, PEERING)
            else:
                for name, vpc in _workload_vpcs(network, destination).items():
                    if vpc.region == dr:
                        plan.propagations.add(Propagation(segment, name))
                    else:
                        plan.add_route(segment, vpc.cidr, PEERING)
    _blackholes(network, plan, segments)
    return plan


def _blackholes(network: Network, plan: RegionRouting, tables: list[str]) -> None:
    """In every table with a default route, drop the supernet and the on-premises ranges
    it has no route for, so neither leaks through the default route."""
    for table in tables:
        if (table, DEFAULT_ROUTE) not in plan.routes:
            continue
        plan.add_route(table, network.supernet, None)
        for cidr in network.on_premises:
            if (table, cidr) not in plan.routes:
                plan.add_route(table, cidr, None)
