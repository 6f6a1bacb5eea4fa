"""What the network costs at rest, counted from the synthesized resources, and where
central egress becomes cheaper than a NAT gateway in every spoke.

"At rest" is what the resources cost by the hour with no traffic; per-GB and per-query
charges are listed separately because they depend on traffic the templates cannot know.
Prices come from ``analysis/network/prices.json`` (region, date and sources stated
there). Resources are selected by type from every template, never by stack name.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.assembly import StackTemplate
from analysis.network.graph import Network

PRICES_FILE = Path(__file__).resolve().parent / "prices.json"

# What the table counts: (price key, what one unit is).
ITEMS: Mapping[str, str] = {
    "transit_gateway_attachment": "Transit Gateway attachment (VPC, VPN, Direct Connect, each side of a peering)",
    "nat_gateway": "NAT gateway",
    "public_ipv4": "public IPv4 address (the NAT gateways' Elastic IPs)",
    "network_firewall_endpoint": "Network Firewall endpoint (one per AZ)",
    "interface_endpoint": "interface endpoint, per AZ",
    "vpn_connection": "Site-to-Site VPN connection",
    "resolver_endpoint": "Route 53 Resolver endpoint, per IP address (AZ)",
}


@dataclass(frozen=True)
class PriceList:
    as_of: str
    currency: str
    hours_per_month: int
    sources: Mapping[str, str]
    notes: tuple[str, ...]
    regions: Mapping[str, Mapping[str, Any]]

    def region(self, region: str) -> Mapping[str, Any]:
        if region not in self.regions:
            raise KeyError(f"{PRICES_FILE.name} has no prices for {region}; add the region's prices with their source")
        return self.regions[region]

    def hourly(self, region: str, item: str) -> float:
        return float(self.region(region)["hourly"][item])

    def per_gb(self, region: str, item: str) -> float:
        return float(self.region(region)["per_gb"][item])


def load_prices(path: Path = PRICES_FILE) -> PriceList:
    data = json.loads(path.read_text(encoding="utf-8"))
    return PriceList(
        as_of=str(data["as_of"]),
        currency=str(data["currency"]),
        hours_per_month=int(data["hours_per_month"]),
        sources=dict(data["sources"]),
        notes=tuple(data.get("notes", ())),
        regions=dict(data["regions"]),
    )


def _resources(stacks: Iterable[StackTemplate]) -> Iterable[tuple[str, str, Mapping[str, Any]]]:
    for stack in stacks:
        for resource in stack.template.get("Resources", {}).values():
            yield stack.region, str(resource["Type"]), resource.get("Properties", {})


def count_resources(stacks: Iterable[StackTemplate]) -> dict[tuple[str, str], int]:
    """Billable units at rest by (region, item of ``ITEMS``)."""
    counts: dict[tuple[str, str], int] = {}

    def add(region: str, item: str, units: int) -> None:
        counts[(region, item)] = counts.get((region, item), 0) + units

    for region, type_, properties in _resources(stacks):
        if type_ in ("AWS::EC2::TransitGatewayVpcAttachment", "AWS::EC2::TransitGatewayAttachment"):
            add(region, "transit_gateway_attachment", 1)
        elif type_ == "AWS::EC2::TransitGatewayPeeringAttachment":
            add(region, "transit_gateway_attachment", 1)  # the requester's side
            add(str(properties.get("PeerRegion", region)), "transit_gateway_attachment", 1)  # the accepter's
        elif type_ == "AWS::EC2::VPNConnection":
            add(region, "vpn_connection", 1)
            if "TransitGatewayId" in properties:
                add(region, "transit_gateway_attachment", 1)
        elif type_ == "AWS::DirectConnect::DirectConnectGatewayAssociation":
            add(region, "transit_gateway_attachment", 1)  # the Direct Connect gateway's attachment
        elif type_ == "AWS::EC2::NatGateway":
            add(region, "nat_gateway", 1)
            if properties.get("ConnectivityType", "public") == "public":
                add(region, "public_ipv4", 1)
        elif type_ == "AWS::NetworkFirewall::Firewall":
            add(region, "network_firewall_endpoint", len(properties.get("SubnetMappings", ())))
        elif type_ == "AWS::EC2::VPCEndpoint" and properties.get("VpcEndpointType") == "Interface":
            add(region, "interface_endpoint", len(properties.get("SubnetIds", ())))
        elif type_ == "AWS::Route53Resolver::ResolverEndpoint":
            add(region, "resolver_endpoint", len(properties.get("IpAddresses", ())))
    return counts


@dataclass(frozen=True)
class CostLine:
    region: str
    item: str
    units: int
    hourly_each: float

    @property
    def hourly(self) -> float:
        return self.units * self.hourly_each


def cost_at_rest(stacks: Iterable[StackTemplate], prices: PriceList) -> list[CostLine]:
    counts = count_resources(stacks)
    regions = sorted({region for region, _ in counts})
    return [
        CostLine(region, item, counts[(region, item)], prices.hourly(region, item))
        for region in regions
        for item in ITEMS
        if counts.get((region, item))
    ]


def render_cost_table(lines: Sequence[CostLine], prices: PriceList) -> str:
    month = prices.hours_per_month
    currency = prices.currency
    rows = [
        f"| region | resource | count | {currency}/hour each | {currency}/hour | {currency}/month |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for line in lines:
        rows.append(
            f"| {line.region} | {ITEMS[line.item]} | {line.units} | {line.hourly_each:.3f} | "
            f"{line.hourly:.3f} | {line.hourly * month:,.2f} |"
        )
    total = sum(line.hourly for line in lines)
    rows.append(f"| **total** | | | | **{total:.3f}** | **{total * month:,.2f}** |")
    regions = sorted({line.region for line in lines})
    usage = ["", "Charged per use, on top of the above:", ""]
    usage += ["| charge | " + " | ".join(regions) + " |", "| --- |" + " ---: |" * len(regions)]
    first = prices.region(regions[0]) if regions else {"per_gb": {}, "per_million_queries": {}}
    for unit, label in (("per_gb", "per GB"), ("per_million_queries", "per million queries")):
        for item in first[unit]:
            cells = " | ".join(f"{float(prices.region(r)[unit][item]):.3f}" for r in regions)
            usage.append(f"| {item.replace('_', ' ')}, {currency} {label} | {cells} |")
    sources = ", ".join(f"[{name.replace('_', ' ')}]({url})" for name, url in prices.sources.items())
    footer = ["", f"List prices as of {prices.as_of}, {month} hours a month, from {sources}.", ""]
    footer += [f"- {note}" for note in prices.notes]
    return "\n".join(rows + usage + footer)


# --- central egress against a NAT gateway per spoke -----------------------------------


@dataclass(frozen=True)
class EgressModel:
    """The inputs of the break-even, from the templates and the price list."""

    region: str
    zones: int  # NAT gateways in the central egress VPC (one per AZ)
    nat_hour: float  # a NAT gateway and its public IPv4 address
    attachment_hour: float
    tgw_per_gb: float
    hours_per_month: int
    spokes: int  # spoke VPCs in the region today

    @property
    def per_spoke_nat_month(self) -> float:
        """A NAT gateway per AZ in one spoke."""
        return self.zones * self.nat_hour * self.hours_per_month

    @property
    def central_fixed_month(self) -> float:
        """The egress VPC's NAT gateways and its Transit Gateway attachment."""
        return (self.zones * self.nat_hour + self.attachment_hour) * self.hours_per_month

    def break_even(self, gb_per_spoke_month: float, spoke_attachment_for_egress_only: bool = False) -> int | None:
        """The smallest number of spokes from which central egress costs less, or None when
        it never does (the Transit Gateway's per-GB charge outweighs the NAT gateways saved).

        Per-GB NAT processing is the same either way; central egress adds the Transit
        Gateway's processing. A spoke already attached for east-west traffic adds no
        attachment; one attached only for egress adds its attachment.
        """
        saving_per_spoke = self.per_spoke_nat_month - gb_per_spoke_month * self.tgw_per_gb
        if spoke_attachment_for_egress_only:
            saving_per_spoke -= self.attachment_hour * self.hours_per_month
        if saving_per_spoke <= 0:
            return None
        # Strictly cheaper: N * saving > fixed.
        return math.floor(self.central_fixed_month / saving_per_spoke) + 1

    @property
    def never_cheaper_above_gb(self) -> float:
        """Traffic per spoke and month above which central egress never pays off."""
        return self.per_spoke_nat_month / self.tgw_per_gb


def egress_model(net: Network, prices: PriceList) -> EgressModel:
    """The model for the central egress VPC: the VPC attached to a Transit Gateway whose
    NAT gateways sit behind an internet gateway. Spokes are the other attached VPCs of its
    region that hold neither NAT gateways nor a firewall."""
    vpcs_with_igw = set(net.internet_gateways.values())
    nat_vpcs = [net.subnets[subnet].vpc for subnet in net.nat_gateways.values()]
    attached = {a.vpc for a in net.attachments.values() if a.kind == "vpc"}
    egress = sorted({vpc for vpc in nat_vpcs if vpc in vpcs_with_igw and vpc in attached})
    if not egress:
        raise ValueError("no central egress VPC (NAT gateways behind an internet gateway, attached to a TGW)")
    vpc = egress[0]
    region = net.vpcs[vpc].region
    hubs = set(nat_vpcs) | {f.vpc for f in net.firewalls.values()}
    spokes = sum(1 for v in attached if v is not None and v not in hubs and net.vpcs[v].region == region)
    return EgressModel(
        region=region,
        zones=nat_vpcs.count(vpc),
        nat_hour=prices.hourly(region, "nat_gateway") + prices.hourly(region, "public_ipv4"),
        attachment_hour=prices.hourly(region, "transit_gateway_attachment"),
        tgw_per_gb=prices.per_gb(region, "transit_gateway_processing"),
        hours_per_month=prices.hours_per_month,
        spokes=spokes,
    )


TRAFFIC_CASES_GB: tuple[float, ...] = (0, 100, 1_000, 3_000)


def render_break_even(model: EgressModel, currency: str) -> str:
    rows = [
        f"Central egress in {model.region}: {model.zones} NAT gateways (one per AZ) and one Transit Gateway "
        f"attachment cost {model.central_fixed_month:,.2f} {currency}/month; a NAT gateway per AZ in a spoke "
        f"costs {model.per_spoke_nat_month:,.2f} {currency}/month per spoke. Central egress adds "
        f"{model.tgw_per_gb:.3f} {currency}/GB of Transit Gateway processing; NAT processing is paid either way.",
        "",
        "| traffic to the internet per spoke | central egress is cheaper from | "
        "if spokes were attached only for egress |",
        "| ---: | ---: | ---: |",
    ]

    def spokes(value: int | None) -> str:
        return "never" if value is None else f"{value} spoke VPC{'s' if value != 1 else ''}"

    for gb in TRAFFIC_CASES_GB:
        rows.append(f"| {gb:,.0f} GB/month | {spokes(model.break_even(gb))} | {spokes(model.break_even(gb, True))} |")
    at_rest = model.break_even(0)
    verdict = (
        "so central egress already costs less at rest"
        if at_rest is not None and model.spokes >= at_rest
        else "so at rest a NAT gateway per spoke would still cost less"
    )
    rows += [
        "",
        f"Above {model.never_cheaper_above_gb:,.0f} GB per spoke and month, the Transit Gateway processing "
        f"alone costs more than the spoke's own NAT gateways. This organization has {model.spokes} spoke "
        f"VPCs attached in {model.region}, {verdict}.",
    ]
    return "\n".join(rows)
