"""Fine-grained assertions on the network stacks: what the hub-and-spoke design promises
(segment isolation, central inspection and egress, hybrid and inter-region paths), read
from the synthesized templates of the example organization, plus one variant config
that changes the segment policy."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from typing import Any

import aws_cdk as cdk
import pytest
import yaml

from analysis.assembly import StackTemplate
from cdk_constructs.deploy_time_lookup import allow
from cdk_constructs.gates import attach_gates
from org_config import ConfigError, load_config, parse_config
from org_config.loader import example_config_text
from org_config.model import OrgConfig
from org_config.names import (
    firewall_name,
    flow_log_destination,
    route_table_name,
    tgw_attachment_name,
    tgw_peering_name,
    tgw_route_table_name,
    transit_gateway_name,
)
from org_config.network_catalog import INTERFACE_ENDPOINT_SERVICES
from stacks.network.placement import build_network
from stacks.organization_app import build_organization
from tests.support.synthesis import Synthesis, new_app, synthesize, temporary_outdir

CONFIG = load_config()
NETWORK = CONFIG.network
HOME, DR = CONFIG.regions.home, CONFIG.regions.dr
HUB, DR_STACK = f"network-hub-{HOME}", f"network-dr-{DR}"
HOME_PEERING, DR_PEERING = f"network-peering-{HOME}", f"network-peering-{DR}"
NAMED_TYPES = (
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::RouteTable",
    "AWS::EC2::TransitGateway",
    "AWS::EC2::TransitGatewayRouteTable",
    "AWS::EC2::TransitGatewayVpcAttachment",
    "AWS::EC2::TransitGatewayPeeringAttachment",
)


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _props(template: dict[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in _resources(template, kind).items():
        yield logical_id, resource.get("Properties", {})


def _name(resource_props: dict[str, Any]) -> str | None:
    return next((t["Value"] for t in resource_props.get("Tags", []) if t["Key"] == "Name"), None)


def _by_name(template: dict[str, Any], kind: str) -> dict[str, str]:
    """Name tag -> logical id."""
    return {name: logical_id for logical_id, props in _props(template, kind) if (name := _name(props))}


def _ref(value: Any) -> str | None:
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


@pytest.fixture(scope="module")
def network(synthesis: Synthesis) -> dict[str, StackTemplate]:
    return {s.name: s for s in synthesis.stacks if s.name.startswith("network-")}


@pytest.fixture(scope="module")
def hub(network: dict[str, StackTemplate]) -> dict[str, Any]:
    return network[HUB].template


@pytest.fixture(scope="module")
def dr(network: dict[str, StackTemplate]) -> dict[str, Any]:
    return network[DR_STACK].template


def _tables(template: dict[str, Any], region: str) -> dict[str, str]:
    """TGW route table key (segment or hub table) -> logical id."""
    named = _by_name(template, "AWS::EC2::TransitGatewayRouteTable")
    prefix, suffix = "tgw-rt-", f"-{region}"
    return {name[len(prefix) : -len(suffix)]: logical_id for name, logical_id in named.items()}


def _attachments(template: dict[str, Any], region: str) -> dict[str, str]:
    """VPC name -> logical id of its attachment."""
    named = _by_name(template, "AWS::EC2::TransitGatewayVpcAttachment")
    return {vpc: named[tgw_attachment_name(vpc, region)] for vpc in NETWORK.vpcs_in(region)}


def _routes(template: dict[str, Any], table: str) -> dict[str, dict[str, Any]]:
    """Static routes of a TGW route table (by logical id), by destination."""
    return {
        props["DestinationCidrBlock"]: props
        for _, props in _props(template, "AWS::EC2::TransitGatewayRoute")
        if _ref(props["TransitGatewayRouteTableId"]) == table
    }


def _propagated(template: dict[str, Any], table: str) -> set[str]:
    return {
        str(_ref(props["TransitGatewayAttachmentId"]))
        for _, props in _props(template, "AWS::EC2::TransitGatewayRouteTablePropagation")
        if _ref(props["TransitGatewayRouteTableId"]) == table
    }


def test_the_network_account_gets_the_hub_dr_and_both_peering_sides(network: dict[str, StackTemplate]) -> None:
    account = next(a.id for a in CONFIG.accounts if a.role.value == "network")
    assert {(s.name, s.account, s.region) for s in network.values()} == {
        (HUB, account, HOME),
        (DR_STACK, account, DR),
        (HOME_PEERING, account, HOME),
        (DR_PEERING, account, DR),
    }


def test_every_network_template_stays_within_half_the_resource_limit(network: dict[str, StackTemplate]) -> None:
    counts = {name: len(s.template["Resources"]) for name, s in network.items()}
    assert max(counts.values()) <= 250, counts


def test_nothing_crosses_templates_through_exports(network: dict[str, StackTemplate]) -> None:
    for stack in network.values():
        text = json.dumps(stack.template)
        assert "Fn::ImportValue" not in text, stack.name
        assert "Outputs" not in stack.template or not any("Export" in o for o in stack.template["Outputs"].values()), (
            stack.name
        )


def test_transit_gateways_place_every_attachment_on_purpose(hub: dict[str, Any], dr: dict[str, Any]) -> None:
    for template, region in ((hub, HOME), (dr, DR)):
        ((_, gateway),) = _props(template, "AWS::EC2::TransitGateway")
        assert gateway["DefaultRouteTableAssociation"] == "disable"
        assert gateway["DefaultRouteTablePropagation"] == "disable"
        assert gateway["AutoAcceptSharedAttachments"] == "disable"
        assert gateway["DnsSupport"] == "enable"
        assert gateway["AmazonSideAsn"] == NETWORK.transit_gateway_asns[region]
        assert _name(gateway) == transit_gateway_name(CONFIG, region)


def test_transit_gateways_are_shared_with_the_organization_only(hub: dict[str, Any], dr: dict[str, Any]) -> None:
    organization = f"arn:aws:organizations::111111111111:organization/{CONFIG.organization.id}"
    for template in (hub, dr):
        shares = [p for _, p in _props(template, "AWS::RAM::ResourceShare")]
        assert shares and all(p["AllowExternalPrincipals"] is False for p in shares)
        tgw_shares = [p for p in shares if "transit-gateway/" in json.dumps(p["ResourceArns"])]
        assert [p["Principals"] for p in tgw_shares] == [[organization]]


def test_workload_subnets_are_shared_with_their_account_only(hub: dict[str, Any]) -> None:
    shares = {p["Name"]: p for _, p in _props(hub, "AWS::RAM::ResourceShare")}
    for name, vpc in NETWORK.vpcs_in(HOME).items():
        if vpc.segment in ("inspection", "egress"):
            assert f"{name}-{HOME}-subnets" not in shares
            continue
        share = shares[f"{name}-{HOME}-subnets"]
        assert share["Principals"] == [CONFIG.account_named(vpc.account).id]
        assert len(share["ResourceArns"]) == len(NETWORK.availability_zones[HOME])  # workload subnets only


def test_one_route_table_per_segment_and_hub_role(hub: dict[str, Any], dr: dict[str, Any]) -> None:
    assert set(_tables(hub, HOME)) == {"prod", "nonprod", "shared", "on-premises", "inspection", "egress", "peering"}
    assert set(_tables(dr, DR)) == {"prod", "peering"}


def test_every_attachment_is_associated_with_its_segment_table(hub: dict[str, Any], dr: dict[str, Any]) -> None:
    for template, region in ((hub, HOME), (dr, DR)):
        tables = _tables(template, region)
        associated = {
            _ref(p["TransitGatewayAttachmentId"]): _ref(p["TransitGatewayRouteTableId"])
            for _, p in _props(template, "AWS::EC2::TransitGatewayRouteTableAssociation")
        }
        for vpc, attachment in _attachments(template, region).items():
            assert associated[attachment] == tables[NETWORK.vpcs[vpc].segment], vpc


def test_prod_and_nonprod_never_learn_each_others_routes(hub: dict[str, Any]) -> None:
    tables, attachments = _tables(hub, HOME), _attachments(hub, HOME)
    assert attachments["nonprod"] not in _propagated(hub, tables["prod"])
    assert attachments["prod"] not in _propagated(hub, tables["nonprod"])
    for table in ("prod", "nonprod"):
        other = NETWORK.vpcs["nonprod" if table == "prod" else "prod"].cidr
        assert other not in _routes(hub, tables[table])
        # ... and the default route cannot carry it either: the supernet is a blackhole.
        assert _routes(hub, tables[table])[NETWORK.supernet].get("Blackhole") is True


def test_both_segments_reach_shared_services_directly(hub: dict[str, Any]) -> None:
    tables, attachments = _tables(hub, HOME), _attachments(hub, HOME)
    for table in ("prod", "nonprod"):
        assert attachments["shared-services"] in _propagated(hub, tables[table])
        assert {attachments["prod" if table == "prod" else "nonprod"]} <= _propagated(hub, tables["shared"])


def test_internet_traffic_goes_through_inspection_then_egress_and_back(hub: dict[str, Any]) -> None:
    tables, attachments = _tables(hub, HOME), _attachments(hub, HOME)
    for table in ("prod", "nonprod", "shared"):
        default = _routes(hub, tables[table])["0.0.0.0/0"]
        assert _ref(default["TransitGatewayAttachmentId"]) == attachments["inspection"], table
    assert _ref(_routes(hub, tables["inspection"])["0.0.0.0/0"]["TransitGatewayAttachmentId"]) == attachments["egress"]
    replies = _routes(hub, tables["egress"])
    for name in ("prod", "nonprod", "shared-services", "prod-dr"):
        assert _ref(replies[NETWORK.vpcs[name].cidr]["TransitGatewayAttachmentId"]) == attachments["inspection"]


def test_only_the_inspection_attachment_has_appliance_mode(hub: dict[str, Any]) -> None:
    attachments = _attachments(hub, HOME)
    for vpc, logical_id in attachments.items():
        mode = hub["Resources"][logical_id]["Properties"]["Options"]["ApplianceModeSupport"]
        assert mode == ("enable" if vpc == "inspection" else "disable"), vpc


def test_on_premises_traffic_of_prod_is_inspected_and_nonprod_has_none(hub: dict[str, Any]) -> None:
    tables, attachments = _tables(hub, HOME), _attachments(hub, HOME)
    on_premises = NETWORK.on_premises[0]
    prod = _routes(hub, tables["prod"])[on_premises]
    assert _ref(prod["TransitGatewayAttachmentId"]) == attachments["inspection"]
    assert _routes(hub, tables["nonprod"])[on_premises].get("Blackhole") is True
    from_on_premises = _routes(hub, tables["on-premises"])
    assert _ref(from_on_premises[NETWORK.vpcs["prod"].cidr]["TransitGatewayAttachmentId"]) == attachments["inspection"]
    assert NETWORK.vpcs["nonprod"].cidr not in from_on_premises


def test_spokes_have_no_internet_gateway_and_no_nat(hub: dict[str, Any], dr: dict[str, Any]) -> None:
    vpcs = _by_name(hub, "AWS::EC2::VPC")
    (gateway_attachment,) = (p for _, p in _props(hub, "AWS::EC2::VPCGatewayAttachment"))
    assert _ref(gateway_attachment["VpcId"]) == vpcs[f"egress-{HOME}"]
    subnets = {logical_id: _name(p) for logical_id, p in _props(hub, "AWS::EC2::Subnet")}
    nat_subnets = [str(subnets[str(_ref(p["SubnetId"]))]) for _, p in _props(hub, "AWS::EC2::NatGateway")]
    assert sorted(nat_subnets) == [f"egress-{HOME}-public-{z[-1]}" for z in NETWORK.availability_zones[HOME]]
    assert not _resources(dr, "AWS::EC2::InternetGateway") and not _resources(dr, "AWS::EC2::NatGateway")


def test_spoke_route_tables_send_everything_else_to_the_transit_gateway(hub: dict[str, Any]) -> None:
    tables = _by_name(hub, "AWS::EC2::RouteTable")
    for name in ("prod", "nonprod", "shared-services"):
        table = tables[route_table_name(name, HOME, "private")]
        routes = [p for _, p in _props(hub, "AWS::EC2::Route") if _ref(p["RouteTableId"]) == table]
        assert [(r["DestinationCidrBlock"], "TransitGatewayId" in r) for r in routes] == [("0.0.0.0/0", True)]
        endpoints = [
            p["ServiceName"]
            for _, p in _props(hub, "AWS::EC2::VPCEndpoint")
            if p["VpcEndpointType"] == "Gateway" and [_ref(t) for t in p["RouteTableIds"]] == [table]
        ]
        assert sorted(endpoints) == [f"com.amazonaws.{HOME}.dynamodb", f"com.amazonaws.{HOME}.s3"]


def test_attachment_subnets_are_a_slash_28_per_az(hub: dict[str, Any], dr: dict[str, Any]) -> None:
    for template in (hub, dr):
        subnets = dict(_props(template, "AWS::EC2::Subnet"))
        for _, attachment in _props(template, "AWS::EC2::TransitGatewayVpcAttachment"):
            chosen = [subnets[str(_ref(s))] for s in attachment["SubnetIds"]]
            assert all(ipaddress.IPv4Network(s["CidrBlock"]).prefixlen == 28 for s in chosen)
            assert len({s["AvailabilityZone"] for s in chosen}) == len(chosen) >= 2


def test_subnets_use_the_configured_zones_only(hub: dict[str, Any], dr: dict[str, Any]) -> None:
    for template, region in ((hub, HOME), (dr, DR)):
        zones = {p["AvailabilityZone"] for _, p in _props(template, "AWS::EC2::Subnet")}
        assert zones == set(NETWORK.availability_zones[region])


def test_every_vpc_and_transit_gateway_logs_flows_to_the_log_archive(hub: dict[str, Any], dr: dict[str, Any]) -> None:
    for template in (hub, dr):
        logged = {
            _ref(p["ResourceId"]): p for _, p in _props(template, "AWS::EC2::FlowLog") if p["TrafficType"] == "ALL"
        }
        watched = [*_resources(template, "AWS::EC2::VPC"), *_resources(template, "AWS::EC2::TransitGateway")]
        for logical_id in watched:
            assert logged[logical_id]["LogDestination"] == flow_log_destination(CONFIG), logical_id


def test_default_security_groups_lose_their_rules(hub: dict[str, Any]) -> None:
    calls = [json.dumps(p["Create"]) for _, p in _props(hub, "Custom::AWS")]
    for logical_id in _resources(hub, "AWS::EC2::VPC"):
        for action in ("revokeSecurityGroupIngress", "revokeSecurityGroupEgress"):
            assert any(action in c and logical_id in c and "DefaultSecurityGroup" in c for c in calls), logical_id


def test_firewall_evaluates_the_configured_rules_in_strict_order(hub: dict[str, Any]) -> None:
    ((_, policy),) = _props(hub, "AWS::NetworkFirewall::FirewallPolicy")
    settings = policy["FirewallPolicy"]
    assert settings["StatefulEngineOptions"]["RuleOrder"] == "STRICT_ORDER"
    assert settings["StatefulDefaultActions"] == ["aws:drop_established", "aws:alert_established"]
    assert settings["StatelessDefaultActions"] == ["aws:forward_to_sfe"]
    groups = {p["RuleGroupName"]: p for _, p in _props(hub, "AWS::NetworkFirewall::RuleGroup")}
    # The 5-tuple rules before the domain allow-list, which would drop their TLS traffic.
    priorities = {
        hub["Resources"][str(_ref(ref["ResourceArn"]))]["Properties"]["RuleGroupName"]: ref["Priority"]
        for ref in settings["StatefulRuleGroupReferences"]
    }
    assert priorities[f"{firewall_name(CONFIG)}-rules"] < priorities[f"{firewall_name(CONFIG)}-allowed-domains"]
    rules = groups[f"{firewall_name(CONFIG)}-rules"]["RuleGroup"]["RulesSource"]["RulesString"].splitlines()
    assert len(rules) == len(NETWORK.firewall.rules)
    for line, rule in zip(rules, NETWORK.firewall.rules, strict=True):
        assert line.startswith(f"{rule.action} {rule.protocol.lower()} ")
    domains = groups[f"{firewall_name(CONFIG)}-allowed-domains"]["RuleGroup"]["RulesSource"]["RulesSourceList"]
    assert domains["Targets"] == list(NETWORK.firewall.allowed_domains)
    assert domains["GeneratedRulesType"] == "ALLOWLIST"


def test_each_az_routes_to_its_own_firewall_endpoint(hub: dict[str, Any]) -> None:
    tables = _by_name(hub, "AWS::EC2::RouteTable")
    for zone in NETWORK.availability_zones[HOME]:
        table = tables[route_table_name("inspection", HOME, "attachment", zone)]
        (route,) = (p for _, p in _props(hub, "AWS::EC2::Route") if _ref(p["RouteTableId"]) == table)
        lookup = hub["Resources"][str(_ref(route["VpcEndpointId"]))]["Properties"]["Create"]
        call = json.loads(lookup)  # a plain JSON string: literal parameters only
        assert call["parameters"] == {"FirewallName": firewall_name(CONFIG)}
        assert call["outputPaths"] == [f"FirewallStatus.SyncStates.{zone}.Attachment.EndpointId"]


def test_vpn_uses_the_configured_customer_gateway(hub: dict[str, Any]) -> None:
    assert NETWORK.vpn is not None
    ((_, gateway),) = _props(hub, "AWS::EC2::CustomerGateway")
    assert (gateway["IpAddress"], int(gateway["BgpAsn"])) == (NETWORK.vpn.customer_gateway_ip, NETWORK.vpn.bgp_asn)
    ((_, vpn),) = _props(hub, "AWS::EC2::VPNConnection")
    assert vpn["StaticRoutesOnly"] is (NETWORK.vpn.routing == "static")
    tunnels = vpn["VpnTunnelOptionsSpecifications"]
    assert len(tunnels) == 2 and all(t["IKEVersions"] == [{"Value": "ikev2"}] for t in tunnels)
    assert _ref(vpn["TransitGatewayId"]) in _resources(hub, "AWS::EC2::TransitGateway")


def test_on_premises_names_resolve_through_the_shared_forwarding_rule(hub: dict[str, Any]) -> None:
    assert NETWORK.on_premises_dns is not None
    ((rule_id, rule),) = _props(hub, "AWS::Route53Resolver::ResolverRule")
    assert rule["DomainName"] == NETWORK.on_premises_dns.domain and rule["RuleType"] == "FORWARD"
    assert [t["Ip"] for t in rule["TargetIps"]] == list(NETWORK.on_premises_dns.resolvers)
    vpcs = _by_name(hub, "AWS::EC2::VPC")
    associated = {_ref(p["VPCId"]) for _, p in _props(hub, "AWS::Route53Resolver::ResolverRuleAssociation")}
    # Only the VPCs whose segment the policy connects with on-premises: not nonprod.
    assert associated == {vpcs[f"{n}-{HOME}"] for n in ("prod", "shared-services")}
    shared = [p for _, p in _props(hub, "AWS::RAM::ResourceShare") if rule_id in json.dumps(p["ResourceArns"])]
    assert len(shared) == 1 and shared[0]["AllowExternalPrincipals"] is False
    directions = sorted(p["Direction"] for _, p in _props(hub, "AWS::Route53Resolver::ResolverEndpoint"))
    assert directions == ["INBOUND", "OUTBOUND"]


def test_interface_endpoints_are_central_with_a_private_zone_per_service(hub: dict[str, Any]) -> None:
    vpcs = _by_name(hub, "AWS::EC2::VPC")
    interface = [p for _, p in _props(hub, "AWS::EC2::VPCEndpoint") if p["VpcEndpointType"] == "Interface"]
    assert sorted(p["ServiceName"] for p in interface) == sorted(
        f"com.amazonaws.{HOME}.{s}" for s in NETWORK.interface_endpoints
    )
    assert all(_ref(p["VpcId"]) == vpcs[f"shared-services-{HOME}"] and not p["PrivateDnsEnabled"] for p in interface)
    zones = {p["Name"]: p for _, p in _props(hub, "AWS::Route53::HostedZone")}
    spokes = {vpcs[f"{n}-{HOME}"] for n in ("prod", "nonprod", "shared-services")}
    for service in NETWORK.interface_endpoints:
        zone = zones[f"{service}.{HOME}.amazonaws.com"]
        assert {_ref(v["VPCId"]) for v in zone["VPCs"]} == spokes


def test_gateway_endpoints_allow_only_the_organization_and_named_aws_buckets(
    hub: dict[str, Any], dr: dict[str, Any]
) -> None:
    for template, region in ((hub, HOME), (dr, DR)):
        gateways = [p for _, p in _props(template, "AWS::EC2::VPCEndpoint") if p["VpcEndpointType"] == "Gateway"]
        spokes = [n for n, v in NETWORK.vpcs_in(region).items() if v.segment not in ("inspection", "egress")]
        assert len(gateways) == 2 * len(spokes)
        for endpoint in gateways:
            service = endpoint["ServiceName"].rsplit(".", 1)[-1]
            statements = endpoint["PolicyDocument"]["Statement"]
            organization, *aws_owned = statements
            assert organization["Action"] == f"{service}:*" and organization["Resource"] == "*"
            assert organization["Condition"] == {"StringEquals": {"aws:ResourceOrgID": CONFIG.organization.id}}
            # Whatever has no condition names its resources and may only read them.
            if service == "dynamodb":
                assert aws_owned == []
                continue
            ((buckets,),) = [aws_owned]
            assert buckets["Action"] == "s3:GetObject" and "Condition" not in buckets
            names = [arn.removeprefix("arn:aws:s3:::").removesuffix("/*") for arn in buckets["Resource"]]
            assert f"al2023-repos-{region}-de612dc2" in names and all(region in name for name in names)
            assert f"aws-ssm-{region}" in names  # the network serves Systems Manager (an ssm endpoint)
            assert all(arn.endswith("/*") for arn in buckets["Resource"])  # objects, never bucket-level actions


def test_peering_requests_the_dr_gateway_found_by_its_name_and_accepts_there(hub: dict[str, Any]) -> None:
    ((_, peering),) = _props(hub, "AWS::EC2::TransitGatewayPeeringAttachment")
    assert peering["PeerRegion"] == DR and _name(peering) == tgw_peering_name(CONFIG)
    lookup = json.loads(hub["Resources"][str(_ref(peering["PeerTransitGatewayId"]))]["Properties"]["Create"])
    assert lookup["region"] == DR and lookup["action"] == "describeTransitGateways"
    assert {"Name": "tag:Name", "Values": [transit_gateway_name(CONFIG, DR)]} in lookup["parameters"]["Filters"]
    (accept,) = (p for _, p in _props(hub, "Custom::AWS") if "acceptTransitGateway" in json.dumps(p["Create"]))
    assert f'\\"region\\":\\"{DR}\\"' in json.dumps(accept["Create"])
    assert "Update" not in accept  # accepting twice fails: only on create


@pytest.mark.parametrize("side", [HOME_PEERING, DR_PEERING])
def test_peering_routes_use_static_routes_to_the_peering(network: dict[str, StackTemplate], side: str) -> None:
    template = network[side].template
    region = network[side].region
    routes = [p for _, p in _props(template, "AWS::EC2::TransitGatewayRoute")]
    expected_destinations = {
        HOME: {NETWORK.vpcs["prod-dr"].cidr},
        DR: {NETWORK.vpcs[n].cidr for n in ("prod", "shared-services")} | {"0.0.0.0/0", *NETWORK.on_premises},
    }[region]
    assert expected_destinations <= {r["DestinationCidrBlock"] for r in routes}
    lookups = {k: json.loads(p["Create"]) for k, p in _props(template, "Custom::AWS")}
    for route in routes:
        target = lookups[str(_ref(route["TransitGatewayAttachmentId"]))]
        assert target["action"] == "describeTransitGatewayPeeringAttachments"
        assert target["region"] == HOME  # tagged where it was requested
    ((_, association),) = _props(template, "AWS::EC2::TransitGatewayRouteTableAssociation")
    table_lookup = lookups[str(_ref(association["TransitGatewayRouteTableId"]))]
    assert {"Name": "tag:Name", "Values": [tgw_route_table_name("peering", region)]} in table_lookup["parameters"][
        "Filters"
    ]


def test_name_tags_are_on_every_network_resource_and_unique(network: dict[str, StackTemplate]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for stack in network.values():
        for kind in NAMED_TYPES:
            for logical_id, props in _props(stack.template, kind):
                name = _name(props)
                assert name, f"{stack.name}/{logical_id} ({kind}) has no Name tag"
                key = (stack.region, name)
                assert key not in seen, f"Name {name} is used twice in {stack.region}"
                seen[key] = logical_id


def test_every_lookup_by_name_finds_a_tagged_resource_of_the_assembly(network: dict[str, StackTemplate]) -> None:
    """The contract with the offline analysis: a lookup's Create is plain JSON whose
    tag:Name filter names a resource of the described type in the call's region."""
    described = {
        "describeTransitGateways": "AWS::EC2::TransitGateway",
        "describeTransitGatewayRouteTables": "AWS::EC2::TransitGatewayRouteTable",
        "describeTransitGatewayPeeringAttachments": "AWS::EC2::TransitGatewayPeeringAttachment",
    }
    names = {
        (stack.region, kind, name)
        for stack in network.values()
        for kind in described.values()
        for name in _by_name(stack.template, kind)
    }
    checked = 0
    for stack in network.values():
        for _, props in _props(stack.template, "Custom::AWS"):
            if not isinstance(props["Create"], str):
                continue
            call = json.loads(props["Create"])
            if call["action"] not in described:
                continue
            (name,) = next(f["Values"] for f in call["parameters"]["Filters"] if f["Name"] == "tag:Name")
            assert (call["region"], described[call["action"]], name) in names, (stack.name, call)
            checked += 1
    assert checked >= 5


# A variant organization (one synth): non-prod may reach on-premises (inspected), the VPN
# is static, a Direct Connect gateway is associated, and both regions use three AZs.


def _variant() -> OrgConfig:
    data = yaml.safe_load(example_config_text())
    data["network"]["segment_policy"].append({"between": ["nonprod", "on-premises"], "inspected": True})
    data["network"]["vpn"]["routing"] = "static"
    data["network"]["direct_connect"] = {"gateway_id": "5f3a7c2e-0b1d-4e8f-9a6b-2c4d6e8f0a1b"}
    data["network"]["availability_zones"] = {HOME: [f"{HOME}{z}" for z in "abc"], DR: [f"{DR}{z}" for z in "abc"]}
    return parse_config(yaml.safe_dump(data, sort_keys=False), source="variant.yaml")


@pytest.fixture(scope="module")
def variant() -> Synthesis:
    outdir = temporary_outdir("cdk-out-network-variant-")
    app = new_app(outdir)
    build_network(app, _variant())
    return synthesize(app, outdir)


@pytest.fixture(scope="module")
def variant_hub(variant: Synthesis) -> dict[str, Any]:
    return variant.stack(HUB).template


def test_three_availability_zones_still_fit_half_the_resource_limit(variant: Synthesis) -> None:
    """The templates grow with the AZ count (subnets, a NAT gateway and a firewall endpoint
    per AZ); three AZs in both regions must stay within 250 resources each."""
    assert len(_resources(variant.stack(HUB).template, "AWS::EC2::NatGateway")) == 3
    assert max(len(s.template["Resources"]) for s in variant.stacks) <= 250


def test_letting_nonprod_reach_on_premises_adds_inspected_routes_both_ways(variant_hub: dict[str, Any]) -> None:
    tables, attachments = _tables(variant_hub, HOME), _attachments(variant_hub, HOME)
    on_premises = NETWORK.on_premises[0]
    to = _routes(variant_hub, tables["nonprod"])[on_premises]
    assert _ref(to["TransitGatewayAttachmentId"]) == attachments["inspection"]  # no longer a blackhole
    back = _routes(variant_hub, tables["on-premises"])[NETWORK.vpcs["nonprod"].cidr]
    assert _ref(back["TransitGatewayAttachmentId"]) == attachments["inspection"]
    # nonprod and prod stay apart all the same
    assert _routes(variant_hub, tables["nonprod"])[NETWORK.supernet].get("Blackhole") is True


def test_the_forwarding_rule_follows_the_segment_policy(variant_hub: dict[str, Any]) -> None:
    """The variant connects nonprod with on-premises: its VPC gets the rule too."""
    vpcs = _by_name(variant_hub, "AWS::EC2::VPC")
    associations = _props(variant_hub, "AWS::Route53Resolver::ResolverRuleAssociation")
    associated = {_ref(p["VPCId"]) for _, p in associations}
    assert associated == {vpcs[f"{n}-{HOME}"] for n in ("prod", "nonprod", "shared-services")}


def test_static_vpn_and_direct_connect_follow_the_config(variant_hub: dict[str, Any]) -> None:
    ((_, vpn),) = _props(variant_hub, "AWS::EC2::VPNConnection")
    assert vpn["StaticRoutesOnly"] is True
    ((_, association),) = _props(variant_hub, "AWS::DirectConnect::DirectConnectGatewayAssociation")
    assert association["DirectConnectGatewayId"] == "5f3a7c2e-0b1d-4e8f-9a6b-2c4d6e8f0a1b"
    allowed = set(association["AllowedPrefixesToDirectConnectGateway"])
    assert allowed == {NETWORK.vpcs[n].cidr for n in ("prod", "prod-dr", "nonprod", "shared-services")}
    # With Direct Connect, the inspection table sends on-premises traffic to its attachment.
    inspection = _routes(variant_hub, _tables(variant_hub, HOME)["inspection"])[NETWORK.on_premises[0]]
    lookup = variant_hub["Resources"][str(_ref(inspection["TransitGatewayAttachmentId"]))]["Properties"]["Create"]
    assert "direct-connect-gateway" in json.dumps(lookup)


def test_lookup_role_acknowledgements_are_made_again_in_a_second_app() -> None:
    """Two apps built in one process (a test session, a tool) have roles at the same
    construct path; each must carry its own acknowledgement or cdk-nag fails the second."""
    for attempt in range(2):
        outdir = temporary_outdir("cdk-out-lookup-role-")
        app = new_app(outdir)
        attach_gates(app)
        stack = cdk.Stack(app, "lookups", env=cdk.Environment(account="444444444444", region=HOME))
        allow(
            stack, ["ec2:DescribeTransitGateways"], ["*"], "EC2 describe calls support no resource-level permissions."
        )
        assert synthesize(app, outdir).validation_error is None, f"app {attempt + 1}"


def test_a_hub_grown_past_the_budget_is_refused_naming_the_config_fields() -> None:
    data = yaml.safe_load(example_config_text())
    # Thirty real interface endpoint services, three resources each.
    data["network"]["interface_endpoints"] = sorted(INTERFACE_ENDPOINT_SERVICES)[:30]
    config = parse_config(yaml.safe_dump(data, sort_keys=False), source="big.yaml")
    with pytest.raises(ConfigError, match=r"^network\.vpcs, .*network\.interface_endpoints: stack 'network-hub-"):
        build_organization(new_app(temporary_outdir("cdk-out-network-budget-")), config)
