"""The network pattern's reachability, proven flow by flow on the synthesized templates.

The flow table states, for each flow, the verdict and the hops it must cross in order;
the mutation tests edit a copy of the templates (one route, one propagation, appliance
mode) and show the verdict the table expects change; the policy test changes the segment
policy in the config, synthesizes once, and sees both the templates and the matrix change.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from analysis.assembly import StackTemplate
from analysis.network.graph import Network
from analysis.network.reachability import FlowResult, trace_flow
from analysis.network.report import main as network_report_main
from analysis.network.report import network_from_assembly, reachability_matrix
from org_config import OrgConfig, load_config, parse_config
from org_config.loader import example_config_text
from org_config.model import HUB_SEGMENTS
from org_config.names import (
    firewall_name,
    subnet_name,
    tgw_attachment_name,
    tgw_peering_name,
    tgw_route_table_name,
)
from stacks.network.placement import build_network as build_network_stacks
from tests.support.synthesis import Synthesis, new_app, synthesize, temporary_outdir
from tools.docs import NETWORK_PAGE, network_sections, pages

CONFIG = load_config()
HOME, DR = CONFIG.regions.home, CONFIG.regions.dr
FIREWALL = firewall_name(CONFIG)
PEERING = tgw_peering_name(CONFIG)
ALLOWED, INSPECTED, DENIED = "allowed", "allowed, inspected", "denied"


def _region(vpc: str) -> str:
    return CONFIG.network.vpcs[vpc].region


def private(vpc: str, zone: str) -> str:
    """The workload subnet of ``vpc`` in zone ``a`` or ``b``."""
    return subnet_name(vpc, _region(vpc), "private", f"{_region(vpc)}{zone}")


def table(name: str, region: str = HOME) -> str:
    return tgw_route_table_name(name, region)


def attachment(vpc: str) -> str:
    return tgw_attachment_name(vpc, _region(vpc))


@dataclass(frozen=True)
class Flow:
    source: str  # a subnet name, "on-premises" or "internet"
    destination: str  # a subnet name, "on-premises", "internet", "s3", "dynamodb" or an address
    verdict: str  # ALLOWED, INSPECTED or DENIED
    via: tuple[str, ...] = ()  # hops the forward path crosses, in this order (substrings)
    reason: str = ""  # for a denied flow: part of the explanation

    @property
    def id(self) -> str:
        return f"{self.source}->{self.destination}"


TO_INTERNET = (FIREWALL, table("inspection"), attachment("egress"), "nat", "igw")

FLOWS: tuple[Flow, ...] = (
    # Segments: prod and nonprod never meet; both reach shared services, uninspected.
    Flow(
        private("prod", "a"), private("nonprod", "b"), DENIED, reason=f"blackhole route 10.0.0.0/8 in {table('prod')}"
    ),
    Flow(
        private("nonprod", "a"),
        private("prod", "b"),
        DENIED,
        reason=f"blackhole route 10.0.0.0/8 in {table('nonprod')}",
    ),
    Flow(private("prod", "b"), private("nonprod", "a"), DENIED, reason="blackhole"),
    Flow(
        private("prod", "a"), private("shared-services", "b"), ALLOWED, (table("prod"), attachment("shared-services"))
    ),
    Flow(
        private("prod", "b"), private("shared-services", "a"), ALLOWED, (table("prod"), attachment("shared-services"))
    ),
    Flow(private("shared-services", "a"), private("prod", "b"), ALLOWED, (table("shared"), attachment("prod"))),
    Flow(private("nonprod", "a"), private("shared-services", "b"), ALLOWED, (table("nonprod"),)),
    Flow(private("shared-services", "b"), private("nonprod", "a"), ALLOWED, (table("shared"), attachment("nonprod"))),
    Flow(private("prod", "a"), private("prod", "b"), ALLOWED),  # inside the VPC: the local route
    # The internet: out through inspection, then the egress VPC's NAT gateway; never in.
    Flow(private("prod", "a"), "internet", INSPECTED, (table("prod"), attachment("inspection"), *TO_INTERNET)),
    Flow(private("prod", "b"), "internet", INSPECTED, (table("prod"), *TO_INTERNET)),
    Flow(private("nonprod", "a"), "internet", INSPECTED, (table("nonprod"), *TO_INTERNET)),
    Flow(private("nonprod", "b"), "internet", INSPECTED, (table("nonprod"), *TO_INTERNET)),
    Flow(private("shared-services", "a"), "internet", INSPECTED, (table("shared"), *TO_INTERNET)),
    Flow(private("prod-dr", "a"), "internet", INSPECTED, (table("prod", DR), PEERING, table("peering"), *TO_INTERNET)),
    Flow("internet", private("prod", "a"), DENIED, reason="has no internet gateway"),
    Flow("internet", private("nonprod", "a"), DENIED, reason="has no internet gateway"),
    Flow("internet", private("shared-services", "b"), DENIED, reason="has no internet gateway"),
    Flow("internet", private("prod-dr", "a"), DENIED, reason="has no internet gateway"),
    Flow("internet", subnet_name("egress", HOME, "attachment", f"{HOME}a"), DENIED, reason="not a public subnet"),
    Flow("internet", "on-premises", DENIED, reason="no VPC holds"),
    # On-premises, per the segment policy: prod and shared services, inspected; not nonprod.
    Flow("on-premises", private("prod", "b"), INSPECTED, (table("on-premises"), FIREWALL, attachment("prod"))),
    Flow("on-premises", private("shared-services", "a"), INSPECTED, (table("on-premises"), FIREWALL)),
    Flow("on-premises", private("prod-dr", "b"), INSPECTED, (table("on-premises"), FIREWALL, PEERING)),
    Flow("on-premises", private("nonprod", "a"), DENIED, reason=f"no route to 10.20.0.10 in {table('on-premises')}"),
    Flow(private("prod", "a"), "on-premises", INSPECTED, (table("prod"), FIREWALL)),
    Flow(private("shared-services", "b"), "on-premises", INSPECTED, (table("shared"), FIREWALL)),
    Flow(private("prod-dr", "b"), "on-premises", INSPECTED, (PEERING, table("peering"), FIREWALL)),
    Flow(private("nonprod", "a"), "on-premises", DENIED, reason=f"blackhole route 172.16.0.0/12 in {table('nonprod')}"),
    Flow(private("prod", "a"), "172.31.255.10", INSPECTED, (table("prod"), FIREWALL)),  # anywhere in the range
    # The DR region, across the peering, uninspected within the prod segment.
    Flow(private("prod", "a"), private("prod-dr", "b"), ALLOWED, (table("prod"), PEERING, table("peering", DR))),
    Flow(private("prod-dr", "a"), private("prod", "b"), ALLOWED, (table("prod", DR), PEERING, table("peering"))),
    Flow(private("prod-dr", "b"), private("shared-services", "a"), ALLOWED, (PEERING, attachment("shared-services"))),
    Flow(private("shared-services", "a"), private("prod-dr", "b"), ALLOWED, (table("shared"), PEERING)),
    Flow(
        private("prod-dr", "a"),
        private("nonprod", "b"),
        DENIED,
        reason=f"blackhole route 10.0.0.0/8 in {table('prod', DR)}",
    ),
    Flow(
        private("nonprod", "b"),
        private("prod-dr", "a"),
        DENIED,
        reason=f"blackhole route 10.0.0.0/8 in {table('nonprod')}",
    ),
    # Addresses no route covers, and the longest prefix deciding between overlapping ones.
    Flow("on-premises", "198.51.100.10", DENIED, reason=f"no route to 198.51.100.10 in {table('on-premises')}"),
    Flow("on-premises", "10.99.0.10", DENIED, reason=f"no route to 10.99.0.10 in {table('on-premises')}"),
    Flow(private("prod", "a"), "10.99.0.10", DENIED, reason=f"blackhole route 10.0.0.0/8 in {table('prod')}"),
    Flow(private("nonprod", "a"), "10.20.128.10", DENIED, reason="no subnet of nonprod-eu-west-1 holds 10.20.128.10"),
    Flow(private("prod", "a"), "192.168.1.10", DENIED, reason="the internet gateway does not carry 192.168.1.10"),
    # Gateway endpoints: S3 and DynamoDB stay off the Transit Gateway.
    Flow(private("prod", "a"), "s3", ALLOWED, ("s3 gateway endpoint",)),
    Flow(private("nonprod", "b"), "dynamodb", ALLOWED, ("dynamodb gateway endpoint",)),
    Flow(private("prod-dr", "a"), "s3", ALLOWED, ("s3 gateway endpoint",)),
)


@pytest.fixture(scope="module")
def network(synthesis: Synthesis) -> Network:
    return network_from_assembly(CONFIG, synthesis.stacks)


def _verdict(result: FlowResult) -> str:
    if not result.allowed:
        return DENIED
    return INSPECTED if result.inspected else ALLOWED


def _assert_flow(result: FlowResult, flow: Flow) -> None:
    assert _verdict(result) == flow.verdict, f"{flow.id}: {result.explanation}\n  {result.forward.path}"
    path = result.forward.hops
    position = 0
    for hop in flow.via:
        found = next((i for i in range(position, len(path)) if hop in path[i]), None)
        assert found is not None, f"{flow.id}: no hop '{hop}' after {path[:position]} in {result.forward.path}"
        position = found + 1
    if flow.reason:
        assert flow.reason in result.explanation, f"{flow.id}: {result.explanation}"


def test_the_table_has_at_least_forty_flows() -> None:
    assert len(FLOWS) >= 40
    assert len({f.id for f in FLOWS}) == len(FLOWS), "each flow once"


@pytest.mark.parametrize("flow", FLOWS, ids=[f"{i:02d}-{f.id}" for i, f in enumerate(FLOWS, 1)])
def test_flow(flow: Flow, network: Network) -> None:
    _assert_flow(trace_flow(network, flow.source, flow.destination), flow)


def test_every_allowed_flow_returns_the_way_it_left(network: Network) -> None:
    for flow in FLOWS:
        result = trace_flow(network, flow.source, flow.destination)
        if result.allowed:
            assert result.back is not None and result.symmetric, flow.id


def test_the_matrix_follows_the_segment_policy(network: Network) -> None:
    cells = reachability_matrix(CONFIG, network)
    ends = {c.source.label for c in cells}
    assert ends == {
        *(n for n, v in CONFIG.network.vpcs.items() if v.segment not in HUB_SEGMENTS),
        "on-premises",
        "internet",
    }
    assert len(cells) == len(ends) * (len(ends) - 1), "every pair, both directions"
    wrong = [f"{c.source.label}->{c.destination.label}: {c.text}" for c in cells if not c.matches_policy]
    assert not wrong


# --- mutations: a copy of the templates, one change, the verdict the table expects moves ---


def _copies(synthesis: Synthesis) -> list[StackTemplate]:
    return [
        StackTemplate(s.name, s.account, s.region, s.template_path, copy.deepcopy(s.template)) for s in synthesis.stacks
    ]


def _named(stacks: list[StackTemplate], type_: str, name: str) -> tuple[StackTemplate, str]:
    for stack in stacks:
        for logical_id, resource in stack.template.get("Resources", {}).items():
            tags = resource.get("Properties", {}).get("Tags", [])
            if resource["Type"] == type_ and {"Key": "Name", "Value": name} in tags:
                return stack, logical_id
    raise LookupError(f"no {type_} named {name}")


def _refers_to(value: Any, logical_id: str) -> bool:
    return value in ({"Ref": logical_id}, {"Fn::GetAtt": [logical_id, "Id"]})


def _resources_of(stack: StackTemplate, type_: str, **refs: str) -> list[str]:
    return [
        logical_id
        for logical_id, resource in stack.template["Resources"].items()
        if resource["Type"] == type_ and all(_refers_to(resource["Properties"].get(k), v) for k, v in refs.items())
    ]


def _flow(stacks: list[StackTemplate], source: str, destination: str) -> FlowResult:
    return trace_flow(network_from_assembly(CONFIG, stacks), source, destination)


def _expected(source: str, destination: str) -> Flow:
    return next(f for f in FLOWS if (f.source, f.destination) == (source, destination))


def test_removing_the_default_route_cuts_prod_off_the_internet(synthesis: Synthesis) -> None:
    flow = _expected(private("prod", "a"), "internet")
    stacks = _copies(synthesis)
    stack, prod_table = _named(stacks, "AWS::EC2::TransitGatewayRouteTable", table("prod"))
    routes = _resources_of(stack, "AWS::EC2::TransitGatewayRoute", TransitGatewayRouteTableId=prod_table)
    default = [r for r in routes if stack.template["Resources"][r]["Properties"]["DestinationCidrBlock"] == "0.0.0.0/0"]
    assert len(default) == 1
    _assert_flow(_flow(stacks, flow.source, flow.destination), flow)  # the copy still behaves
    del stack.template["Resources"][default[0]]
    result = _flow(stacks, flow.source, flow.destination)
    assert flow.verdict == INSPECTED and _verdict(result) == DENIED, "the table expects internet access; now denied"
    assert result.explanation == f"dropped: no route to 198.51.100.10 in {table('prod')}"


def test_without_the_blackhole_prod_reaches_nonprod_through_the_firewall_but_no_reply_comes_back(
    synthesis: Synthesis,
) -> None:
    stacks = _copies(synthesis)
    stack, prod_table = _named(stacks, "AWS::EC2::TransitGatewayRouteTable", table("prod"))
    routes = _resources_of(stack, "AWS::EC2::TransitGatewayRoute", TransitGatewayRouteTableId=prod_table)
    (blackhole,) = [
        r
        for r in routes
        if stack.template["Resources"][r]["Properties"].get("Blackhole")
        and stack.template["Resources"][r]["Properties"]["DestinationCidrBlock"] == "10.0.0.0/8"
    ]
    del stack.template["Resources"][blackhole]
    result = _flow(stacks, private("prod", "a"), private("nonprod", "b"))
    assert result.forward.verdict == "reached", "the default route now leaks to nonprod via inspection"
    assert result.back is not None and f"blackhole route 10.0.0.0/8 in {table('nonprod')}" in result.back.reason


def test_flipping_one_propagation_cuts_prod_off_shared_services(synthesis: Synthesis) -> None:
    flow = _expected(private("prod", "a"), private("shared-services", "b"))
    stacks = _copies(synthesis)
    stack, prod_table = _named(stacks, "AWS::EC2::TransitGatewayRouteTable", table("prod"))
    _, shared = _named(stacks, "AWS::EC2::TransitGatewayVpcAttachment", attachment("shared-services"))
    (propagation,) = _resources_of(
        stack,
        "AWS::EC2::TransitGatewayRouteTablePropagation",
        TransitGatewayRouteTableId=prod_table,
        TransitGatewayAttachmentId=shared,
    )
    del stack.template["Resources"][propagation]
    result = _flow(stacks, flow.source, flow.destination)
    assert flow.verdict == ALLOWED and _verdict(result) == DENIED, "the table expects allowed; now denied"
    assert result.explanation == f"dropped: blackhole route 10.0.0.0/8 in {table('prod')}"


def test_appliance_mode_off_makes_inspected_replies_take_another_firewall_endpoint(synthesis: Synthesis) -> None:
    flow = _expected("on-premises", private("prod", "b"))
    stacks = _copies(synthesis)
    stack, inspection = _named(stacks, "AWS::EC2::TransitGatewayVpcAttachment", attachment("inspection"))
    options = stack.template["Resources"][inspection]["Properties"]["Options"]
    assert options["ApplianceModeSupport"] == "enable"
    options["ApplianceModeSupport"] = "disable"
    result = _flow(stacks, flow.source, flow.destination)
    assert flow.verdict == INSPECTED and _verdict(result) == DENIED, "the table expects inspected; now dropped"
    assert result.explanation.startswith("asymmetric"), result.explanation
    assert result.back is not None and result.forward.firewalls != result.back.firewalls


def test_a_static_route_beats_the_propagated_one_for_the_same_prefix(synthesis: Synthesis) -> None:
    flow = _expected(private("prod", "a"), private("shared-services", "b"))
    stacks = _copies(synthesis)
    stack, prod_table = _named(stacks, "AWS::EC2::TransitGatewayRouteTable", table("prod"))
    _, inspection = _named(stacks, "AWS::EC2::TransitGatewayVpcAttachment", attachment("inspection"))
    stack.template["Resources"]["StaticToSharedThroughInspection"] = {
        "Type": "AWS::EC2::TransitGatewayRoute",
        "Properties": {
            "TransitGatewayRouteTableId": {"Ref": prod_table},
            "DestinationCidrBlock": CONFIG.network.vpcs["shared-services"].cidr,  # as propagated
            "TransitGatewayAttachmentId": {"Ref": inspection},
        },
    }
    result = _flow(stacks, flow.source, flow.destination)
    assert flow.verdict == ALLOWED and result.inspected, "the static route to the firewall wins over propagation"


# --- the segment policy is config: change it, synthesize once, both outputs change ---
# The variant also makes the VPN static, adds a Direct Connect gateway and uses three AZs,
# so the same synth proves the analysis on those shapes too.


def _variant() -> OrgConfig:
    data = yaml.safe_load(example_config_text())
    data["network"]["segment_policy"].append({"between": ["nonprod", "on-premises"], "inspected": True})
    data["network"]["vpn"]["routing"] = "static"
    data["network"]["direct_connect"] = {"gateway_id": "5f3a7c2e-0b1d-4e8f-9a6b-2c4d6e8f0a1b"}
    data["network"]["availability_zones"] = {region: [f"{region}{z}" for z in "abc"] for region in (HOME, DR)}
    return parse_config(yaml.safe_dump(data, sort_keys=False), source="variant.yaml")


@pytest.fixture(scope="module")
def variant() -> tuple[OrgConfig, Synthesis]:
    config = _variant()
    outdir = temporary_outdir("cdk-out-network-policy-")
    app = new_app(outdir)
    build_network_stacks(app, config)  # the network stacks alone: all the analysis reads
    return config, synthesize(app, outdir)


def _routes_in(stacks: list[StackTemplate], name: str) -> set[tuple[str, bool]]:
    stack, logical_id = _named(stacks, "AWS::EC2::TransitGatewayRouteTable", name)
    return {
        (r["Properties"]["DestinationCidrBlock"], bool(r["Properties"].get("Blackhole")))
        for r in stack.template["Resources"].values()
        if r["Type"] == "AWS::EC2::TransitGatewayRoute"
        and _refers_to(r["Properties"]["TransitGatewayRouteTableId"], logical_id)
    }


def _cell(config: OrgConfig, stacks: list[StackTemplate], source: str, destination: str) -> Any:
    cells = reachability_matrix(config, network_from_assembly(config, stacks))
    return next(c for c in cells if (c.source.label, c.destination.label) == (source, destination))


def test_letting_nonprod_reach_on_premises_changes_templates_and_matrix(
    synthesis: Synthesis, variant: tuple[OrgConfig, Synthesis]
) -> None:
    config, changed = variant
    nonprod_cidr = config.network.vpcs["nonprod"].cidr
    before, after = _routes_in(synthesis.stacks, table("on-premises")), _routes_in(changed.stacks, table("on-premises"))
    assert (nonprod_cidr, False) not in before and (nonprod_cidr, False) in after
    assert ("172.16.0.0/12", True) in _routes_in(synthesis.stacks, table("nonprod"))
    assert ("172.16.0.0/12", False) in _routes_in(changed.stacks, table("nonprod"))
    for source, destination in (("nonprod", "on-premises"), ("on-premises", "nonprod")):
        old = _cell(CONFIG, synthesis.stacks, source, destination)
        new = _cell(config, changed.stacks, source, destination)
        assert (old.text, new.text) == (DENIED, INSPECTED), "the new policy: nonprod and on-premises, inspected"


def test_the_variant_matrix_follows_its_policy_over_direct_connect_and_three_zones(
    variant: tuple[OrgConfig, Synthesis],
) -> None:
    config, changed = variant
    net = network_from_assembly(config, changed.stacks)
    cells = reachability_matrix(config, net)
    assert [f"{c.source.label}->{c.destination.label}: {c.text}" for c in cells if not c.matches_policy] == []
    inbound = trace_flow(net, "on-premises", subnet_name("nonprod", HOME, "private", f"{HOME}c"))
    assert inbound.allowed and inbound.forward.hops[1].startswith("direct-connect"), inbound.forward.path
    assert {az for _, az in inbound.forward.firewalls} <= {f"{HOME}{z}" for z in "abc"}


# --- the doc page: its generated sections are what the code computes now ---


def test_network_page_matches_the_code(synthesis: Synthesis) -> None:
    """`make docs` rewrites the matrix, the cost at rest and the break-even."""
    expected = pages(synthesis.outdir)[NETWORK_PAGE]
    assert NETWORK_PAGE.read_text(encoding="utf-8") == expected, f"{NETWORK_PAGE.name} drifted: run `make docs`"


def test_network_page_sections_are_generated_from_the_templates(synthesis: Synthesis) -> None:
    sections = network_sections(CONFIG, synthesis.stacks)
    page = NETWORK_PAGE.read_text(encoding="utf-8")
    for name, body in sections.items():
        assert f"<!-- generated:{name} -->\n{body}\n<!-- /generated:{name} -->" in page, name
    assert "all as the segment policy says" in sections["network-reachability-matrix"]


def test_command_line_prints_a_flow_and_fails_a_denied_one(
    synthesis: Synthesis, capsys: pytest.CaptureFixture[str]
) -> None:
    outdir = str(synthesis.outdir)
    assert network_report_main([outdir, "--from", private("prod", "a"), "--to", "internet"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"allowed, inspected by {FIREWALL}") and "back: internet > " in printed
    assert network_report_main([outdir, "--from", private("prod", "a"), "--to", private("nonprod", "b")]) == 1
    assert network_report_main([outdir]) == 0  # the matrix, as the segment policy says
