"""DNS reachability beside the packet routes, what the gateway endpoints let through, the
egress VPC's routes into the spokes, and the report command on another organization.

Read from the synthesized example organization (and, for the command line, the network
stacks of the second organization in ``tests/configs``); each mutation edits a copy of
the templates.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from analysis.assembly import StackTemplate
from analysis.network.graph import Network
from analysis.network.reachability import FlowResult, trace_flow
from analysis.network.report import (
    Cell,
    dns_matrix,
    main,
    matrix_ends,
    network_from_assembly,
    reachability_matrix,
    render_dns,
    render_gateway_endpoints,
    render_matrix,
)
from org_config import OrgConfig, load_config
from org_config.names import subnet_name, tgw_route_table_name
from stacks.network.placement import build_network as build_network_stacks
from tests.support.synthesis import Synthesis, new_app, synthesize, temporary_outdir

CONFIG = load_config()
HOME = CONFIG.regions.home
NETWORK_DOMAIN = CONFIG.network.on_premises_dns.domain if CONFIG.network.on_premises_dns else ""
SECOND = Path(__file__).resolve().parents[1] / "configs" / "second_organization.yaml"


def private(vpc: str, zone: str) -> str:
    region = CONFIG.network.vpcs[vpc].region
    return subnet_name(vpc, region, "private", f"{region}{zone}")


def _copies(synthesis: Synthesis) -> list[StackTemplate]:
    return [
        StackTemplate(s.name, s.account, s.region, s.template_path, copy.deepcopy(s.template)) for s in synthesis.stacks
    ]


def _hub(stacks: list[StackTemplate]) -> dict[str, Any]:
    return next(s for s in stacks if s.name == f"network-hub-{HOME}").template


def _of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == type_}


@pytest.fixture(scope="module")
def network(synthesis: Synthesis) -> Network:
    return network_from_assembly(CONFIG, synthesis.stacks)


# --- DNS: the forwarding rule only where the policy reaches on-premises -----------------


def test_only_the_vpcs_the_policy_connects_with_on_premises_resolve_its_names(network: Network) -> None:
    rows = {row.vpc.label: row for row in dns_matrix(CONFIG, network)}
    assert {row.domain for row in rows.values()} == {NETWORK_DOMAIN}
    assert {label: row.resolves for label, row in rows.items()} == {
        "shared-services": True,
        "prod": True,
        "prod-dr": False,  # the rule is regional; the DR region has no outbound endpoint
        "nonprod": False,
    }
    assert not any(row.leaks for row in rows.values())
    assert "is in eu-west-1" in rows["prod-dr"].reason and rows["prod-dr"].policy_allows
    assert rows["nonprod"].text == "does not resolve" and not rows["nonprod"].policy_allows
    assert "forwards from shared-services-eu-west-1-resolver-outbound to 172.16.0.53" in rows["prod"].reason
    text = render_dns(list(rows.values()))
    assert "No VPC resolves on-premises names that the segment policy keeps from on-premises." in text
    assert "1 of the VPCs the policy connects with on-premises does not resolve them: prod-dr." in text


def _associate_nonprod(stacks: list[StackTemplate]) -> None:
    hub = _hub(stacks)
    (prod_association,) = [
        r
        for r in _of_type(hub, "AWS::Route53Resolver::ResolverRuleAssociation").values()
        if r["Properties"]["Name"].startswith("prod-")
    ]
    (nonprod_vpc,) = [
        k
        for k, r in _of_type(hub, "AWS::EC2::VPC").items()
        if {"Key": "Name", "Value": f"nonprod-{HOME}"} in r["Properties"]["Tags"]
    ]
    leaked = copy.deepcopy(prod_association)
    leaked["Properties"]["VPCId"] = {"Ref": nonprod_vpc}
    hub["Resources"]["LeakedAssociation"] = leaked


def test_associating_the_rule_with_nonprod_is_reported_as_crossing_the_policy(synthesis: Synthesis) -> None:
    stacks = _copies(synthesis)
    _associate_nonprod(stacks)
    rows = {row.vpc.label: row for row in dns_matrix(CONFIG, network_from_assembly(CONFIG, stacks))}
    assert rows["nonprod"].resolves and rows["nonprod"].leaks
    assert rows["nonprod"].text == "**resolves (policy: no on-premises)**"
    # The packets stay denied: only DNS crosses, which is why DNS is checked on its own.
    cells = reachability_matrix(CONFIG, network_from_assembly(CONFIG, stacks))
    assert all(c.matches_policy for c in cells)
    assert "**1 VPCs resolve on-premises names although" in render_dns(list(rows.values()))


def test_without_dns_egress_in_its_security_group_the_outbound_endpoint_resolves_nothing(
    synthesis: Synthesis,
) -> None:
    stacks = _copies(synthesis)
    (group,) = [
        r
        for r in _of_type(_hub(stacks), "AWS::EC2::SecurityGroup").values()
        if "outbound" in json.dumps(r["Properties"]["Tags"])
    ]
    for rule in group["Properties"]["SecurityGroupEgress"]:
        rule["ToPort"] = rule["FromPort"] = 853  # DNS over TLS only: plain DNS may not leave
    rows = dns_matrix(CONFIG, network_from_assembly(CONFIG, stacks))
    assert not any(row.resolves for row in rows)
    prod = next(row for row in rows if row.vpc.label == "prod")
    assert "may not send DNS to 172.16.0.53 (security group)" in prod.reason


def test_a_blackholed_path_from_the_outbound_endpoint_stops_resolution(synthesis: Synthesis) -> None:
    stacks = _copies(synthesis)
    hub = _hub(stacks)
    shared_table = next(
        k
        for k, r in _of_type(hub, "AWS::EC2::TransitGatewayRouteTable").items()
        if {"Key": "Name", "Value": tgw_route_table_name("shared", HOME)} in r["Properties"]["Tags"]
    )
    for route in _of_type(hub, "AWS::EC2::TransitGatewayRoute").values():
        properties = route["Properties"]
        if (
            properties["TransitGatewayRouteTableId"] == {"Ref": shared_table}
            and properties["DestinationCidrBlock"] in CONFIG.network.on_premises
        ):
            properties.pop("TransitGatewayAttachmentId")
            properties["Blackhole"] = True
    rows = {row.vpc.label: row for row in dns_matrix(CONFIG, network_from_assembly(CONFIG, stacks))}
    assert not rows["prod"].resolves and "blackhole route 172.16.0.0/12" in rows["prod"].reason


# --- S3 and DynamoDB: the gateway endpoints' policies --------------------------------


def test_every_spoke_reaches_only_the_organizations_resources_through_its_gateway_endpoints(
    network: Network,
) -> None:
    table = render_gateway_endpoints(CONFIG, network)
    organization = CONFIG.organization.id
    for end in matrix_ends(CONFIG, network):
        if end.source.subnet is not None:
            assert (
                f"| {end.label} | only resources of {organization} and s3:GetObject in 9 named buckets "
                f"| only resources of {organization} |"
            ) in table
    flow = trace_flow(network, private("nonprod", "a"), "dynamodb")
    assert flow.allowed and flow.forward.hops[-1] == f"dynamodb gateway endpoint (only resources of {organization})"


def test_an_endpoint_without_a_policy_shows_as_open_to_any_account(synthesis: Synthesis) -> None:
    stacks = _copies(synthesis)
    for endpoint in _of_type(_hub(stacks), "AWS::EC2::VPCEndpoint").values():
        endpoint["Properties"].pop("PolicyDocument", None)
    table = render_gateway_endpoints(CONFIG, network_from_assembly(CONFIG, stacks))
    assert "| prod | any account's resources | any account's resources |" in table


# --- the egress VPC's routes into the spokes: they stay, for the NAT gateways' replies ---


def _egress_table_route_to_prod(stacks: list[StackTemplate]) -> str:
    hub = _hub(stacks)
    egress = next(
        k
        for k, r in _of_type(hub, "AWS::EC2::TransitGatewayRouteTable").items()
        if {"Key": "Name", "Value": tgw_route_table_name("egress", HOME)} in r["Properties"]["Tags"]
    )
    return next(
        k
        for k, r in _of_type(hub, "AWS::EC2::TransitGatewayRoute").items()
        if r["Properties"]["TransitGatewayRouteTableId"] == {"Ref": egress}
        and r["Properties"]["DestinationCidrBlock"] == CONFIG.network.vpcs["prod"].cidr
    )


def test_a_connection_the_egress_vpc_opens_into_a_spoke_gets_no_reply(network: Network) -> None:
    public = subnet_name("egress", HOME, "public", f"{HOME}a")
    result: FlowResult = trace_flow(network, public, private("prod", "b"))
    assert result.forward.verdict == "reached" and result.inspected, "in through the firewall, as the route says"
    assert not result.allowed
    assert result.back is not None and f"blackhole route 10.0.0.0/8 in {tgw_route_table_name('prod', HOME)}" in (
        result.back.reason
    )


def test_the_egress_route_into_a_spoke_carries_the_nat_replies(synthesis: Synthesis) -> None:
    """Why the route stays: without it, prod's internet traffic leaves and never returns."""
    stacks = _copies(synthesis)
    assert trace_flow(network_from_assembly(CONFIG, stacks), private("prod", "a"), "internet").allowed
    del _hub(stacks)["Resources"][_egress_table_route_to_prod(stacks)]
    result = trace_flow(network_from_assembly(CONFIG, stacks), private("prod", "a"), "internet")
    assert result.forward.verdict == "reached" and not result.allowed
    assert result.back is not None and "return" in result.explanation


# --- a cell that breaks the policy names what the policy expects -----------------------


def test_a_cell_that_breaks_the_policy_shows_the_expected_verdict(network: Network) -> None:
    cells = reachability_matrix(CONFIG, network)
    denied = next(c for c in cells if (c.source.label, c.destination.label) == ("prod", "nonprod"))
    direct = next(c for c in cells if (c.source.label, c.destination.label) == ("prod", "shared-services"))
    inspected = next(c for c in cells if (c.source.label, c.destination.label) == ("prod", "on-premises"))
    wrong = [
        Cell(denied.source, denied.destination, direct.result, expected_allowed=False, expected_inspected=False),
        Cell(direct.source, direct.destination, denied.result, expected_allowed=True, expected_inspected=False),
        Cell(inspected.source, inspected.destination, direct.result, expected_allowed=True, expected_inspected=True),
        Cell(direct.source, direct.destination, inspected.result, expected_allowed=True, expected_inspected=False),
    ]
    assert [c.text for c in wrong] == [
        "**allowed (policy: denied)**",
        "**denied (policy: allowed)**",
        "**allowed (policy: allowed, inspected)**",
        "**allowed, inspected (policy: allowed)**",
    ]
    page = render_matrix(wrong)
    assert "**4 differ from the segment policy**" in page and "| **prod** | - |" in page


# --- the command line on any organization's assembly ----------------------------------


@pytest.fixture(scope="module")
def second() -> tuple[OrgConfig, Synthesis]:
    config = load_config(SECOND)
    outdir = temporary_outdir("cdk-out-network-second-")
    app = new_app(outdir)
    build_network_stacks(app, config)
    return config, synthesize(app, outdir)


def test_the_report_reads_another_organization_from_its_config(
    second: tuple[OrgConfig, Synthesis], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, synthesis = second
    outdir = str(synthesis.outdir)
    monkeypatch.delenv("ORG_CONFIG", raising=False)
    assert main([outdir]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("network report: ")
    assert "than example_organization.yaml describes; pass the organization's config with --config FILE" in error
    assert main([outdir, "--config", str(SECOND)]) == 0
    assert "all as the segment policy says" in capsys.readouterr().out
    monkeypatch.setenv("ORG_CONFIG", str(SECOND))
    assert main([outdir]) == 0, "ORG_CONFIG, as the synth reads it"


def test_from_without_to_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path), "--from", "prod-eu-west-1-private-a"])
    assert exit_.value.code == 2
    assert "--from and --to go together" in capsys.readouterr().err


def test_a_folder_without_an_assembly_ends_in_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main([str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("network report: ") and error.count("\n") == 1 and "manifest.json" in error


def test_another_organizations_endpoints_name_its_own_organization_and_regions(
    second: tuple[OrgConfig, Synthesis],
) -> None:
    config, synthesis = second
    net = network_from_assembly(config, synthesis.stacks)
    table = render_gateway_endpoints(config, net)
    assert CONFIG.organization.id not in table and f"only resources of {config.organization.id}" in table
    buckets = {
        arn
        for stack in synthesis.stacks
        for resource in stack.template["Resources"].values()
        if resource["Type"] == "AWS::EC2::VPCEndpoint" and "PolicyDocument" in resource["Properties"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"][1:]
        for arn in statement["Resource"]
    }
    assert "arn:aws:s3:::al2023-repos-us-west-2-de612dc2/*" in buckets  # the DR region's own repository
    assert not any(HOME in arn for arn in buckets), "no bucket of the example's regions"
    # No on-premises domain in this config: nothing to forward, said in one line.
    assert render_dns(dns_matrix(config, net)) == "The templates forward no domain to on-premises resolvers."
