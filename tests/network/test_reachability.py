"""The routing rules of the reachability analysis, one rule per test, on a small network
written by hand (``network_fixture``); each mutation edits a copy of a template."""

from __future__ import annotations

import json
from typing import Any

import pytest

from analysis.network.graph import Network, TemplateError, build_network
from analysis.network.reachability import FlowResult, Verdict, subnet_named, trace_flow
from tests.network import network_fixture as fx

ON_PREMISES = ["172.16.0.0/12"]


def _net(hub: dict[str, Any] | None = None, dr: dict[str, Any] | None = None) -> Network:
    return build_network(fx.stacks(hub, dr), ON_PREMISES)


@pytest.fixture(scope="module")
def net() -> Network:
    return _net()


def _flow(net: Network, source: str, destination: str) -> FlowResult:
    return trace_flow(net, source, destination)


def _drop(template: dict[str, Any], *logical_ids: str) -> dict[str, Any]:
    copy = fx.edited(template)
    for logical_id in logical_ids:
        del copy["Resources"][logical_id]
    return copy


def test_longest_prefix_wins_over_the_blackholed_summary(net: Network) -> None:
    # tgw-rt-prod: 10.0.0.0/8 blackhole, 10.1.0.0/16 to inspection: the /16 decides.
    flow = _flow(net, "prod-workload-a", "shared-workload-b")
    assert flow.allowed, flow.explanation
    assert "tgw-rt-prod" in flow.forward.path


def test_blackhole_drops_what_the_summary_covers(net: Network) -> None:
    flow = _flow(net, "prod-workload-a", "nonprod-workload-b")
    assert flow.forward.verdict is Verdict.DROPPED
    assert flow.forward.reason == "blackhole route 10.0.0.0/8 in tgw-rt-prod"


def test_static_route_beats_the_propagated_one_for_the_same_prefix(net: Network) -> None:
    # tgw-rt-shared has 10.10.0.0/16 propagated (to prod) and static (to inspection).
    flow = _flow(net, "shared-workload-a", "prod-workload-a")
    assert flow.allowed and flow.inspected, flow.explanation
    without_static = _net(hub=_drop(fx.hub_template(), "sharedTo10_10_0_0_16"))
    flow = _flow(without_static, "shared-workload-a", "prod-workload-a")
    assert not flow.inspected, "without the static route, the propagated one goes straight to prod"
    assert flow.forward.path.endswith("prod-attachment (eu-west-1a) > prod-tgw-a [prod-tgw] > prod-workload-a")


def test_no_route_drops(net: Network) -> None:
    flow = _flow(net, "proddr-workload-a", "nonprod-workload-b")
    assert flow.forward.reason == "no route to 10.20.1.10 in tgw-rt-proddr"


@pytest.mark.parametrize(
    ("source", "destination", "reason"),
    [
        ("on-premises", "proddr-workload-a", "no route to 10.11.0.10 in tgw-rt-onprem"),
        ("proddr-workload-a", "on-premises", "no route to 172.16.0.10 in tgw-rt-proddr"),
        ("nonprod-workload-a", "proddr-workload-a", "blackhole route 10.0.0.0/8 in tgw-rt-nonprod"),
    ],
)
def test_no_transitive_path_through_a_neighbour(net: Network, source: str, destination: str, reason: str) -> None:
    # prod reaches both on-premises and prod-dr; that gives neither a path to the other.
    flow = _flow(net, source, destination)
    assert flow.forward.verdict is Verdict.DROPPED
    assert flow.forward.reason == reason


def test_vpc_routes_to_other_vpcs_only_through_the_transit_gateway() -> None:
    hub = fx.edited(fx.hub_template())
    hub["Resources"]["PeeringRoute"] = {
        "Type": "AWS::EC2::Route",
        "Properties": {
            "RouteTableId": fx.ref("nonprodworkloadRt"),
            "DestinationCidrBlock": "10.10.0.0/16",
            "VpcPeeringConnectionId": "pcx-0123456789abcdef0",
        },
    }
    # A peering connection would carry the packet: the analysis does not model it, so it
    # refuses to give a verdict rather than calling the flow denied.
    net = _net(hub=hub)
    with pytest.raises(
        TemplateError, match=r"nonprod-workload: the route to 10\.10\.0\.0/16 has a target .*VpcPeering"
    ):
        _flow(net, "nonprod-workload-a", "prod-workload-a")
    assert _flow(net, "nonprod-workload-a", "nonprod-workload-b").allowed  # the local route still decides


def test_an_address_no_subnet_holds_is_dropped_in_the_vpc(net: Network) -> None:
    flow = _flow(net, "prod-workload-a", "10.10.128.1")
    assert flow.forward.reason == "no subnet of prod holds 10.10.128.1"


def test_internet_egress_crosses_the_firewall_then_the_nat_and_returns_the_same_way(net: Network) -> None:
    flow = _flow(net, "prod-workload-a", "internet")
    assert flow.allowed and flow.inspected, flow.explanation
    hops = flow.forward.hops
    assert hops.index("inspection-firewall (eu-west-1a)") < hops.index("nat-a") < hops.index("egress-igw")
    assert flow.back is not None and flow.back.hops[:2] == ["internet", "nat-a"]
    assert flow.back.firewalls == flow.forward.firewalls


def test_the_internet_reaches_no_spoke(net: Network) -> None:
    flow = _flow(net, "internet", "prod-workload-a")
    assert flow.forward.reason == "prod has no internet gateway"
    assert _flow(net, "internet", "egress-tgw-a").forward.reason == "egress-tgw-a is not a public subnet"
    assert _flow(net, "internet", "egress-public-a").forward.verdict is Verdict.REACHED


def test_gateway_endpoint_keeps_s3_off_the_transit_gateway(net: Network) -> None:
    flow = _flow(net, "prod-workload-a", "s3")
    assert flow.allowed and flow.forward.hops == [
        "prod-workload-a [prod-workload]",
        "s3 gateway endpoint (any account's resources)",  # the fixture's endpoint has no policy
    ]
    without = _net(hub=_drop(fx.hub_template(), "prodS3"))
    flow = _flow(without, "prod-workload-a", "s3")
    assert flow.forward.nat is not None and "egress-igw" in flow.forward.hops, "without the endpoint: NAT, internet"


def test_appliance_mode_keeps_both_directions_on_one_firewall_endpoint(net: Network) -> None:
    flow = _flow(net, "prod-workload-a", "shared-workload-b")
    assert flow.symmetric and flow.allowed
    hub = fx.edited(fx.hub_template())
    hub["Resources"]["inspectionAttachment"]["Properties"]["Options"]["ApplianceModeSupport"] = "disable"
    flow = _flow(_net(hub=hub), "prod-workload-a", "shared-workload-b")
    assert flow.forward.firewalls == [("inspection-firewall", "eu-west-1a")]
    assert flow.back is not None and flow.back.firewalls == [("inspection-firewall", "eu-west-1b")]
    assert not flow.allowed and flow.explanation.startswith("asymmetric")


def test_a_routing_loop_is_detected() -> None:
    hub = fx.edited(fx.hub_template())
    route = hub["Resources"]["inspectionTo0_0_0_0_0"]["Properties"]
    route["TransitGatewayAttachmentId"] = {"Fn::GetAtt": ["inspectionAttachment", "Id"]}
    flow = _flow(_net(hub=hub), "prod-workload-a", "internet")
    assert flow.forward.verdict is Verdict.LOOP
    assert flow.forward.hops[-1].startswith("LOOP at ")


def test_no_attachment_subnet_in_the_source_az_means_no_transit_gateway() -> None:
    hub = fx.edited(fx.hub_template())
    hub["Resources"]["prodAttachment"]["Properties"]["SubnetIds"] = [fx.ref("prodtgw-a")]
    flow = _flow(_net(hub=hub), "prod-workload-b", "shared-workload-a")
    assert flow.forward.reason == "prod-attachment has no subnet in eu-west-1b"


def test_an_attachment_without_association_routes_nowhere() -> None:
    flow = _flow(_net(hub=_drop(fx.hub_template(), "nonprodAssocnonprod")), "nonprod-workload-a", "shared-workload-a")
    assert flow.forward.reason == "nonprod-attachment is associated with no route table"


def test_removing_a_propagation_removes_the_return_path() -> None:
    hub = _drop(fx.hub_template(), "sharedPropnonprod")
    flow = _flow(_net(hub=hub), "nonprod-workload-a", "shared-workload-a")
    assert flow.forward.verdict is Verdict.REACHED
    assert flow.back is not None and flow.back.verdict is Verdict.DROPPED
    assert not flow.allowed and flow.explanation.startswith("return dropped")


def test_static_vpn_routes_are_not_propagated() -> None:
    hub = fx.edited(fx.hub_template())
    hub["Resources"]["Vpn"]["Properties"]["StaticRoutesOnly"] = True
    flow = _flow(_net(hub=hub), "shared-workload-a", "on-premises")
    assert flow.forward.reason == "no route to 172.16.0.10 in tgw-rt-shared"
    assert _flow(_net(hub=hub), "prod-workload-a", "on-premises").allowed  # prod has a static route


def test_prefix_list_routes_expand_to_their_entries() -> None:
    hub = fx.edited(fx.hub_template())
    hub["Resources"]["OnPremList"] = {
        "Type": "AWS::EC2::PrefixList",
        "Properties": {"AddressFamily": "IPv4", "MaxEntries": 2, "Entries": [{"Cidr": "192.168.0.0/16"}]},
    }
    hub["Resources"]["egresspublicRtRoute1"]["Properties"] = {
        "RouteTableId": fx.ref("egresspublicRt"),
        "DestinationPrefixListId": fx.ref("OnPremList"),
        "TransitGatewayId": fx.ref("Tgw"),
    }
    net = _net(hub=hub)
    table = next(t for t in net.route_tables.values() if t.name == "egress-public")
    assert [str(r.destination) for r in table.routes if r.origin == "static"] == ["0.0.0.0/0", "192.168.0.0/16"]


def test_firewall_endpoint_from_a_lookup_custom_resource() -> None:
    hub = fx.edited(fx.hub_template())
    call = {
        "service": "NetworkFirewall",
        "action": "describeFirewall",
        "parameters": {"FirewallName": "inspection"},
        "region": "eu-west-1",
        "outputPaths": ["FirewallStatus.SyncStates.eu-west-1b.Attachment.EndpointId"],
    }
    hub["Resources"]["EndpointB"] = {"Type": "Custom::AWS", "Properties": {"Create": json.dumps(call)}}
    route = hub["Resources"]["inspectiontgw-aRtRoute0"]["Properties"]
    route["VpcEndpointId"] = {"Fn::GetAtt": ["EndpointB", "FirewallStatus.SyncStates.eu-west-1b.Attachment.EndpointId"]}
    flow = _flow(_net(hub=hub), "prod-workload-a", "internet")
    assert ("inspection-firewall", "eu-west-1b") in flow.forward.firewalls


def test_peering_ids_resolve_through_lookups_across_regions(net: Network) -> None:
    flow = _flow(net, "proddr-workload-a", "prod-workload-b")
    assert flow.allowed, flow.explanation
    assert "tgw-peering-eu-west-1-eu-central-1" in flow.forward.hops
    assert flow.back is not None and "tgw-eu-central-1 [tgw-rt-peering]" in flow.back.hops


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda r: r["Tgw"]["Properties"].update(DefaultRouteTableAssociation="enable"),
            "DefaultRouteTableAssociation",
        ),
        (lambda r: r["prodAttachment"]["Properties"].update(VpcId={"Fn::ImportValue": "x"}), "Fn::ImportValue"),
        (
            lambda r: r["DrTgwLookup"]["Properties"].update(
                Create=r["DrTgwLookup"]["Properties"]["Create"].replace("tgw-eu-central-1", "nope")
            ),
            "matches 0 resources",
        ),
        (lambda r: r["prodworkloadRtRoute0"]["Properties"].update(TransitGatewayId={"Ref": "Missing"}), "Missing"),
        (lambda r: r["prodworkload-a"]["Properties"].pop("AvailabilityZone"), "without an AvailabilityZone"),
        (
            lambda r: r.update(
                Again={
                    "Type": "AWS::EC2::TransitGatewayRouteTableAssociation",
                    "Properties": {
                        **r["prodAssocprod"]["Properties"],
                        "TransitGatewayRouteTableId": fx.ref("sharedTable"),
                    },
                }
            ),
            "associated with two route tables",
        ),
        (
            lambda r: r["prodAttachment"]["Properties"]["SubnetIds"].append(fx.ref("prodworkload-a")),
            "two attachment subnets in one Availability Zone",
        ),
    ],
    ids=[
        "default-route-table",
        "import-value",
        "lookup-finds-nothing",
        "dangling-ref",
        "no-az",
        "two-tables",
        "two-in-az",
    ],
)
def test_shapes_the_analysis_does_not_model_are_errors(edit: Any, message: str) -> None:
    hub = fx.edited(fx.hub_template())
    edit(hub["Resources"])
    with pytest.raises(TemplateError, match=message):
        _net(hub=hub)


def test_direct_connect_gateway_carries_on_premises_traffic_when_present() -> None:
    hub = fx.edited(fx.hub_template())
    fx.add_direct_connect(hub["Resources"])
    net = _net(hub=hub)
    out = _flow(net, "prod-workload-a", "on-premises")
    assert out.allowed and "direct-connect Dx" in out.forward.hops, out.explanation
    inbound = _flow(net, "on-premises", "prod-workload-b")
    assert inbound.forward.hops[:2] == ["on-premises", "direct-connect Dx"]
    assert inbound.allowed, inbound.explanation


# --- names and values the analysis must refuse rather than guess ---------------------


def test_an_ambiguous_subnet_name_is_an_error_not_the_first_match() -> None:
    hub = fx.edited(fx.hub_template())
    hub["Resources"]["nonprodworkload-a"]["Properties"]["Tags"] = [{"Key": "Name", "Value": "prod-workload-a"}]
    net = _net(hub=hub)
    with pytest.raises(KeyError, match="2 subnets are named 'prod-workload-a'"):
        subnet_named(net, "prod-workload-a")
    with pytest.raises(KeyError, match="2 subnets are named"):
        trace_flow(net, "shared-workload-a", "prod-workload-a")


def test_a_source_address_no_subnet_holds_is_an_error_not_the_internet(net: Network) -> None:
    with pytest.raises(KeyError, match=r"no subnet of the templates holds the source address 10\.99\.0\.10"):
        trace_flow(net, "10.99.0.10", "prod-workload-a")
    with pytest.raises(KeyError, match="s3 is a destination only"):
        trace_flow(net, "s3", "prod-workload-a")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Fn::Select": [2, {"Fn::Split": [",", "10.10.0.0/24,10.10.1.0/24"]}]}, "Fn::Select index 2 out of range"),
        ({"Fn::Select": ["-1", {"Fn::Split": [",", "10.10.0.0/24"]}]}, "Fn::Select index '-1' is not a non-negative"),
        ({"Fn::Select": ["first", ["10.10.0.0/24"]]}, "Fn::Select index 'first' is not a non-negative"),
        ({"Fn::Split": [",", "10.10.0.0/24,10.10.1.0/24"]}, "expected text, got"),
        ({"Fn::If": ["Cond", "10.10.0.0/24", "10.10.1.0/24"]}, "unsupported intrinsic Fn::If"),
        ({"Fn::Sub": "10.10.0.0/24", "Extra": 1}, "cannot resolve"),
    ],
    ids=["select-out-of-range", "select-negative", "select-not-a-number", "list-not-text", "fn-if", "two-keys"],
)
def test_values_the_resolver_cannot_take_as_written_are_errors(value: Any, message: str) -> None:
    hub = fx.edited(fx.hub_template())
    hub["Resources"]["prodworkload-a"]["Properties"]["CidrBlock"] = value
    with pytest.raises(TemplateError, match=message):
        _net(hub=hub)


def test_a_selected_value_in_range_resolves() -> None:
    hub = fx.edited(fx.hub_template())
    split = {"Fn::Split": [",", "10.10.7.0/24,10.10.0.0/24"]}
    hub["Resources"]["prodworkload-a"]["Properties"]["CidrBlock"] = {"Fn::Select": ["1", split]}
    assert trace_flow(_net(hub=hub), "shared-workload-a", "10.10.0.10").forward.end is not None


def _with_endpoint_policy(policy: dict[str, Any] | None) -> Network:
    hub = fx.edited(fx.hub_template())
    if policy is not None:
        hub["Resources"]["prodS3"]["Properties"]["PolicyDocument"] = policy
    return _net(hub=hub)


ORGANIZATION_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceOrgID": "o-abcdefghij"}},
        },
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::repo-a/*"]},
    ],
}


def test_the_trace_to_s3_says_what_the_endpoint_policy_lets_through() -> None:
    flow = _flow(_with_endpoint_policy(ORGANIZATION_ONLY), "prod-workload-a", "s3")
    assert flow.allowed
    assert (
        flow.forward.hops[1]
        == "s3 gateway endpoint (only resources of o-abcdefghij and s3:GetObject in 1 named buckets)"
    )
    open_again = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
    assert (
        "any account's resources" in _flow(_with_endpoint_policy(open_again), "prod-workload-a", "s3").forward.hops[1]
    )


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}, "only Allow statements"),
        (
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "*", "Resource": "*"},
            "every principal",
        ),
        (
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringLike": {"aws:ResourceOrgID": "o-*"}},
            },
            "only a StringEquals aws:ResourceOrgID condition",
        ),
        ({"Effect": "Allow", "Principal": "*", "NotAction": "s3:Put*", "Resource": "*"}, "only Allow statements"),
    ],
    ids=["deny", "one-principal", "string-like", "not-action"],
)
def test_an_endpoint_policy_the_analysis_does_not_model_is_an_error(statement: dict[str, Any], message: str) -> None:
    with pytest.raises(TemplateError, match=f"prodS3: PolicyDocument: .*{message}"):
        _with_endpoint_policy({"Version": "2012-10-17", "Statement": [statement]})


def test_the_internet_gateway_carries_only_public_destinations(net: Network) -> None:
    # A private address no VPC holds follows the default route out, and stops at the gateway.
    flow = _flow(net, "prod-workload-a", "192.168.1.10")
    assert flow.forward.hops[-1] == "egress-igw"
    assert flow.explanation == "dropped: the internet gateway does not carry 192.168.1.10"
    assert _flow(net, "prod-workload-a", "198.51.100.77").allowed  # a public one passes
