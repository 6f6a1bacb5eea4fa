"""The reachability matrix of the network: every workload VPC, on-premises and the
internet, both directions, computed from the synthesized templates and compared with the
segment policy of the config.

Each VPC is represented by a workload subnet in its first Availability Zone as the
source and an address in its last Availability Zone as the destination, so every flow
between two VPCs crosses zones (where a missing appliance mode would show).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from analysis.assembly import StackTemplate, read_assembly
from analysis.network.graph import Network, Subnet, build_network
from analysis.network.reachability import (
    INTERNET,
    INTERNET_ADDRESS,
    ON_PREMISES,
    FlowResult,
    IPv4Address,
    Place,
    evaluate,
    host_address,
    trace_flow,
)
from org_config.model import HUB_SEGMENTS, OrgConfig


@dataclass(frozen=True)
class End:
    """A row or column of the matrix."""

    label: str  # a VPC name of the config, "on-premises" or "internet"
    segment: str  # the VPC's segment, or the label
    source: Place
    source_address: IPv4Address
    destination: IPv4Address
    subnet: str = ""  # the source subnet's name, for a VPC


@dataclass(frozen=True)
class Cell:
    source: End
    destination: End
    result: FlowResult
    expected_allowed: bool
    expected_inspected: bool

    @property
    def matches_policy(self) -> bool:
        if self.result.allowed != self.expected_allowed:
            return False
        return not self.expected_allowed or self.result.inspected == self.expected_inspected

    @property
    def text(self) -> str:
        verdict = ("allowed, inspected" if self.result.inspected else "allowed") if self.result.allowed else "denied"
        return verdict if self.matches_policy else f"**{verdict} (policy: {self.expected_text})**"

    @property
    def expected_text(self) -> str:
        if not self.expected_allowed:
            return "denied"
        return "allowed, inspected" if self.expected_inspected else "allowed"


def network_from_assembly(config: OrgConfig, stacks: Sequence[StackTemplate]) -> Network:
    """The routing graph of every template; BGP peers advertise the on-premises ranges."""
    return build_network(stacks, config.network.on_premises)


def workload_subnets(net: Network, cidr: str) -> list[Subnet]:
    """The subnets of the VPC with block ``cidr`` that hold workloads: not a Transit Gateway
    attachment, firewall or NAT gateway subnet, sorted by Availability Zone."""
    vpc = next((v for v in net.vpcs.values() if any(str(c) == cidr for c in v.cidrs)), None)
    if vpc is None:
        raise KeyError(f"no VPC with block {cidr} in the templates")
    infrastructure = {s for a in net.attachments.values() for s in a.subnets_by_az.values()}
    infrastructure |= {s for f in net.firewalls.values() for s in f.subnets_by_az.values()}
    infrastructure |= set(net.nat_gateways.values())
    subnets = [s for s in net.subnets.values() if s.vpc == vpc.key and s.key not in infrastructure]
    if not subnets:
        raise KeyError(f"VPC {vpc.name} has no workload subnet")
    return sorted(subnets, key=lambda s: (s.az, s.cidr))


def matrix_ends(config: OrgConfig, net: Network) -> list[End]:
    ends = []
    for name, vpc in config.network.vpcs.items():
        if vpc.segment in HUB_SEGMENTS:
            continue
        subnets = workload_subnets(net, vpc.cidr)
        source = subnets[0]
        ends.append(
            End(
                name,
                vpc.segment,
                Place("subnet", source.key),
                host_address(source),
                host_address(subnets[-1], 11),
                source.name,
            )
        )
    if net.on_premises:
        address = net.on_premises[0].network_address + 10
        ends.append(End(ON_PREMISES, ON_PREMISES, Place(ON_PREMISES), address, address))
    ends.append(End(INTERNET, INTERNET, Place(INTERNET), INTERNET_ADDRESS, INTERNET_ADDRESS))
    return ends


def expected(config: OrgConfig, source: End, destination: End) -> tuple[bool, bool]:
    """(allowed, inspected) by the segment policy. The internet is reached outbound only."""
    if source.segment == INTERNET:
        return False, False
    connection = config.network.connection(source.segment, destination.segment)
    if connection is None:
        return False, False
    return True, connection.inspected


def reachability_matrix(config: OrgConfig, net: Network) -> list[Cell]:
    ends = matrix_ends(config, net)
    cells = []
    for source in ends:
        for destination in ends:
            if source.label == destination.label:
                continue
            result = evaluate(net, source.source, source.source_address, destination.destination)
            allowed, inspected = expected(config, source, destination)
            cells.append(Cell(source, destination, result, allowed, inspected))
    return cells


def render_matrix(cells: Sequence[Cell]) -> str:
    labels = list(dict.fromkeys(c.source.label for c in cells))
    by_pair = {(c.source.label, c.destination.label): c for c in cells}
    rows = ["| from \\ to | " + " | ".join(labels) + " |", "| --- |" + " --- |" * len(labels)]
    for source in labels:
        row = [by_pair[(source, d)].text if (source, d) in by_pair else "-" for d in labels]
        rows.append(f"| **{source}** | " + " | ".join(row) + " |")
    mismatches = [c for c in cells if not c.matches_policy]
    rows += [
        "",
        f"{len(cells)} flows, {sum(c.result.allowed for c in cells)} allowed; "
        + (
            f"**{len(mismatches)} differ from the segment policy**."
            if mismatches
            else "all as the segment policy says."
        ),
        "",
        "| from | to | what the templates do |",
        "| --- | --- | --- |",
    ]
    for cell in cells:
        rows.append(f"| {cell.source.label} | {cell.destination.label} | {cell.result.explanation} |")
    example = next((c.source.subnet for c in cells if c.source.subnet), "<subnet name>")
    rows += [
        "",
        "Each VPC is represented by a workload subnet in its first Availability Zone (as a source) and an "
        "address in its last one (as a destination), so flows between VPCs cross zones. To follow any flow "
        f"hop by hop, out and back: `python -m analysis.network.report cdk.out --from {example} --to internet` "
        "(a subnet name, an address, `on-premises`, `internet`, `s3` or `dynamodb`).",
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis.network.report cdk.out``: the matrix; with ``--from`` and
    ``--to`` (subnet names, on-premises, internet, s3, dynamodb or an address), one flow's
    path out and back."""
    parser = argparse.ArgumentParser(description="Reachability of the synthesized network.")
    parser.add_argument("outdir", nargs="?", default="cdk.out")
    parser.add_argument("--config", help="config file (default: the example organization)")
    parser.add_argument("--from", dest="source")
    parser.add_argument("--to", dest="destination")
    args = parser.parse_args(argv)
    from org_config import load_config

    config = load_config(args.config or None)
    net = network_from_assembly(config, read_assembly(args.outdir))
    if args.source and args.destination:
        result = trace_flow(net, args.source, args.destination)
        print(result.explanation)
        print(f"out:  {result.forward.path}")
        print(f"back: {result.back.path if result.back else '-'}")
        return 0 if result.allowed else 1
    cells = reachability_matrix(config, net)
    print(render_matrix(cells))
    return 0 if all(c.matches_policy for c in cells) else 1


if __name__ == "__main__":
    sys.exit(main())
