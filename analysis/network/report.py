"""The reachability matrix of the network: every workload VPC, on-premises and the
internet, both directions, computed from the synthesized templates and compared with the
segment policy of the config.

Each VPC is represented by a workload subnet in its first Availability Zone as the
source and an address in its last Availability Zone as the destination, so every flow
between two VPCs crosses zones (where a missing appliance mode would show).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from analysis.assembly import StackTemplate, read_assembly
from analysis.network.dns import resolutions
from analysis.network.graph import Key, Network, Subnet, TemplateError, build_network
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
from org_config import ConfigError, load_config
from org_config.loader import config_source
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


# --- DNS and the gateway endpoints, beside the packet routes ---------------------------


@dataclass(frozen=True)
class DnsRow:
    """Whether a workload VPC resolves a forwarded on-premises domain, against the policy."""

    vpc: End
    domain: str
    resolves: bool
    reason: str
    policy_allows: bool  # the segment policy connects the VPC's segment with on-premises

    @property
    def leaks(self) -> bool:
        """Resolves on-premises names although the policy keeps the VPC from on-premises."""
        return self.resolves and not self.policy_allows

    @property
    def text(self) -> str:
        if self.leaks:
            return "**resolves (policy: no on-premises)**"
        if self.resolves:
            return "resolves"
        return "does not resolve (policy: reaches on-premises)" if self.policy_allows else "does not resolve"


def _vpc_of(net: Network, end: End) -> Key:
    if end.source.subnet is None:
        raise ValueError(f"{end.label} is not a VPC")
    return net.subnets[end.source.subnet].vpc


def dns_matrix(config: OrgConfig, net: Network) -> list[DnsRow]:
    """Every workload VPC against every domain the templates forward to on-premises."""
    rows = []
    for end in matrix_ends(config, net):
        if end.source.kind != "subnet":
            continue
        allows = config.network.connection(end.segment, ON_PREMISES) is not None
        for resolution in resolutions(net, _vpc_of(net, end)):
            rows.append(DnsRow(end, resolution.domain, resolution.resolves, resolution.reason, allows))
    return rows


def render_dns(rows: Sequence[DnsRow]) -> str:
    if not rows:
        return "The templates forward no domain to on-premises resolvers."
    lines = ["| VPC | segment | domain | on-premises names | how |", "| --- | --- | --- | --- | --- |"]
    for row in rows:
        lines.append(f"| {row.vpc.label} | {row.vpc.segment} | {row.domain} | {row.text} | {row.reason} |")
    leaks = [r for r in rows if r.leaks]
    gaps = [r for r in rows if r.policy_allows and not r.resolves]
    summary = (
        f"**{len(leaks)} VPCs resolve on-premises names although the segment policy denies them on-premises.**"
        if leaks
        else "No VPC resolves on-premises names that the segment policy keeps from on-premises."
    )
    if gaps:
        names = ", ".join(r.vpc.label for r in gaps)
        summary += (
            f" {len(gaps)} of the VPCs the policy connects with on-premises "
            f"{'does' if len(gaps) == 1 else 'do'} not resolve them: {names}."
        )
    return "\n".join([*lines, "", summary])


def render_gateway_endpoints(config: OrgConfig, net: Network) -> str:
    """What each workload VPC reaches through its S3 and DynamoDB gateway endpoints."""
    lines = ["| VPC | S3 | DynamoDB |", "| --- | --- | --- |"]
    for end in matrix_ends(config, net):
        if end.source.subnet is None:
            continue
        table = net.route_tables.get(net.subnet_route_table.get(end.source.subnet, Key("", "")))
        cells = []
        for service in ("s3", "dynamodb"):
            endpoint = table.gateway_endpoints.get(service) if table is not None else None
            cells.append("no gateway endpoint" if endpoint is None else net.gateway_endpoint_scopes[endpoint].text)
        lines.append(f"| {end.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def selected_config(argument: str | None) -> str | None:
    """The config file to read, from the same places as the synth: ``--config``, else
    ``ORG_CONFIG``, else the example organization (``None``)."""
    return argument or os.environ.get("ORG_CONFIG") or None


def _foreign_accounts(config: OrgConfig, stacks: Sequence[StackTemplate]) -> list[str]:
    known = {account.id for account in config.accounts}
    return sorted({s.account for s in stacks if not s.environment_agnostic} - known)


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis.network.report cdk.out``: the matrix; with ``--from`` and
    ``--to`` (subnet names, on-premises, internet, s3, dynamodb or an address), one flow's
    path out and back. The config is ``--config``, else ``ORG_CONFIG``, else the example
    organization; anything that stops the report ends in one line, exit code 2."""
    parser = argparse.ArgumentParser(description="Reachability of the synthesized network.")
    parser.add_argument("outdir", nargs="?", default="cdk.out")
    parser.add_argument(
        "--config", help="the config the assembly was synthesized from (default: ORG_CONFIG, else the example)"
    )
    parser.add_argument("--from", dest="source")
    parser.add_argument("--to", dest="destination")
    args = parser.parse_args(argv)
    if (args.source is None) != (args.destination is None):
        parser.error("--from and --to go together: both to trace one flow, neither for the whole matrix")
    path = selected_config(args.config)
    try:
        config = load_config(path)
        stacks = read_assembly(args.outdir)
        foreign = _foreign_accounts(config, stacks)
        if foreign:
            raise ValueError(
                f"{args.outdir} was synthesized for other accounts ({', '.join(foreign)}) than "
                f"{config_source(path)} describes; pass the organization's config with --config FILE "
                "(or set ORG_CONFIG)"
            )
        net = network_from_assembly(config, stacks)
        if args.source:
            result = trace_flow(net, args.source, args.destination)
        else:
            cells = reachability_matrix(config, net)
            dns = dns_matrix(config, net)
    except (ConfigError, TemplateError, KeyError, ValueError, OSError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"network report: {message}", file=sys.stderr)
        return 2
    if args.source:
        print(result.explanation)
        print(f"out:  {result.forward.path}")
        print(f"back: {result.back.path if result.back else '-'}")
        return 0 if result.allowed else 1
    print(render_matrix(cells))
    print()
    print(render_dns(dns))
    return 0 if all(c.matches_policy for c in cells) and not any(r.leaks for r in dns) else 1


if __name__ == "__main__":
    sys.exit(main())
