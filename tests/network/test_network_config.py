"""The network section of the config: each invalid value fails with one line naming the
field and the rule, before anything is written; the routing plan follows the policy."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from org_config import ConfigError, load_config, parse_config
from org_config.loader import example_config_text
from org_config.model import TGW_MAX_ROUTE_TABLES
from stacks.network.routing import PEERING, StaticRoute, dr_routing, home_routing


def _example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(example_config_text())
    return data


def _parse(data: dict[str, Any]) -> Any:
    return parse_config(yaml.safe_dump(data, sort_keys=False), source="org.yaml")


Mutation = Callable[[dict[str, Any]], None]


def _network(mutate: Callable[[dict[str, Any]], None]) -> Mutation:
    def apply(data: dict[str, Any]) -> None:
        mutate(data["network"])

    return apply


def _set_vpc(name: str, **values: Any) -> Mutation:
    return _network(lambda n: n["vpcs"][name].update(values))


def _vpc_in_a_third_region(data: dict[str, Any]) -> None:
    data["regions"]["allowed"].append("eu-west-2")
    data["network"]["vpcs"]["nonprod"]["region"] = "eu-west-2"
    data["network"]["availability_zones"]["eu-west-2"] = ["eu-west-2a", "eu-west-2b"]


INVALID: list[tuple[str, Mutation, str]] = [
    (
        "overlap_between_regions",
        _set_vpc("prod-dr", cidr="10.10.128.0/17"),
        "network.vpcs.prod-dr.cidr: 10.10.128.0/17 overlaps network.vpcs.prod.cidr 10.10.0.0/16",
    ),
    (
        "spoke_outside_supernet",
        _set_vpc("nonprod", cidr="192.168.0.0/16"),
        "network.vpcs.nonprod.cidr: 192.168.0.0/16 is outside network.supernet 10.0.0.0/8",
    ),
    (
        "policy_names_unknown_segment",
        _network(lambda n: n["segment_policy"].append({"between": ["prod", "staging"]})),
        "network.segment_policy[7].between[1]: 'staging' is not a segment of network.segments",
    ),
    (
        "vpc_in_unknown_segment",
        _set_vpc("nonprod", segment="staging"),
        "network.vpcs.nonprod.segment: 'staging' is not in network.segments",
    ),
    (
        "fewer_zones_than_an_attachment_needs",
        _network(lambda n: n["availability_zones"].update({"eu-central-1": ["eu-central-1a"]})),
        "network.availability_zones.eu-central-1: 1 given; a Transit Gateway attachment needs subnets in at least 2",
    ),
    (
        "no_zones_for_a_region_with_vpcs",
        _network(lambda n: n["availability_zones"].pop("eu-central-1")),
        "network.availability_zones: no availability zones for eu-central-1 (VPC 'prod-dr')",
    ),
    (
        "zone_of_another_region",
        _network(lambda n: n["availability_zones"].update({"eu-west-1": ["eu-west-1a", "eu-central-1b"]})),
        "network.availability_zones.eu-west-1: 'eu-central-1b' is not a zone of eu-west-1",
    ),
    (
        "on_premises_overlaps_a_vpc",
        _network(lambda n: n.update({"on_premises": ["172.16.0.0/12", "10.1.128.0/20"]})),
        "network.on_premises[1]: 10.1.128.0/20 overlaps network.vpcs.shared-services.cidr 10.1.0.0/16",
    ),
    (
        "customer_asn_public",
        _network(lambda n: n["vpn"].update({"bgp_asn": 16509})),
        "network.vpn.bgp_asn: BGP ASN 16509 is outside the private ranges 64512-65534 and 4200000000-4294967294",
    ),
    (
        "customer_asn_just_above_the_16_bit_range",
        _network(lambda n: n["vpn"].update({"bgp_asn": 65535})),
        "network.vpn.bgp_asn: BGP ASN 65535 is outside the private ranges",
    ),
    (
        "transit_gateway_asn_public",
        _network(lambda n: n["transit_gateway_asns"].update({"eu-west-1": 7224})),
        "network.transit_gateway_asns.eu-west-1: BGP ASN 7224 is outside the private ranges",
    ),
    (
        "customer_gateway_ip_private",
        _network(lambda n: n["vpn"].update({"customer_gateway_ip": "192.168.1.1"})),
        "network.vpn.customer_gateway_ip: 192.168.1.1 is not a public IPv4 address",
    ),
    (
        "customer_gateway_ip_shared_address_space",
        _network(lambda n: n["vpn"].update({"customer_gateway_ip": "100.64.0.1"})),
        "network.vpn.customer_gateway_ip: 100.64.0.1 is not a public IPv4 address",
    ),
    (
        "customer_gateway_ip_ipv6",
        _network(lambda n: n["vpn"].update({"customer_gateway_ip": "2001:db8::1"})),
        "network.vpn.customer_gateway_ip: '2001:db8::1' is not an IPv4 address",
    ),
    (
        "too_many_route_tables",
        _network(lambda n: n["segments"].extend(f"segment-{i:02d}" for i in range(TGW_MAX_ROUTE_TABLES - 6))),
        "network.segments: 17 segments need 21 Transit Gateway route tables; a Transit Gateway has at most 20",
    ),
    (
        "vpc_too_small_for_its_subnets",
        _set_vpc("egress", cidr="10.0.4.0/27"),
        "network.vpcs.egress.cidr: 10.0.4.0/27 is too small for 2 availability zones (its subnets would be /29",
    ),
    (
        "internet_uninspected",
        _network(lambda n: n["segment_policy"].append({"between": ["internet", "shared"], "inspected": False})),
        "network.segment_policy[7].inspected: traffic to the internet always passes the firewall",
    ),
    (
        "vpc_outside_the_two_transit_gateway_regions",
        _vpc_in_a_third_region,
        "network.vpcs.nonprod.region: 'eu-west-2' has no Transit Gateway",
    ),
    (
        "inspection_vpc_in_the_dr_region",
        _set_vpc("inspection", region="eu-central-1"),
        "network.vpcs.inspection.region: the inspection VPC belongs in regions.home (eu-west-1)",
    ),
    (
        "egress_vpc_in_a_workload_account",
        _set_vpc("egress", account="workload-prod"),
        "network.vpcs.egress.account: the egress VPC belongs to the network account 'network'",
    ),
    (
        "two_egress_vpcs",
        _network(
            lambda n: n["vpcs"].update(
                {"egress-2": {"account": "network", "region": "eu-west-1", "cidr": "10.0.8.0/22", "segment": "egress"}}
            )
        ),
        "network.vpcs: 2 VPCs have segment 'egress'; the hub needs exactly one",
    ),
    (
        "same_asn_on_both_sides_of_the_vpn",
        _network(lambda n: n["vpn"].update({"bgp_asn": 64512})),
        "network.vpn.bgp_asn: 64512 is also the Transit Gateway ASN in eu-west-1",
    ),
    (
        "dns_resolver_not_on_premises",
        _network(lambda n: n["on_premises_dns"].update({"resolvers": ["192.168.0.53"]})),
        "network.on_premises_dns.resolvers[0]: 192.168.0.53 is not in network.on_premises",
    ),
    (
        "services_vpc_unknown",
        _network(lambda n: n.update({"services_vpc": "tools"})),
        "network.services_vpc: 'tools' is not a workload VPC of regions.home",
    ),
    (
        "on_premises_without_a_connection",
        _network(lambda n: n.update({"vpn": None})),
        "network.segment_policy: connects on-premises, but network.on_premises or a network.vpn",
    ),
    (
        "segment_reserved_name",
        _network(lambda n: n["segments"].append("egress")),
        "network.segments[3]: 'egress' is reserved or listed twice",
    ),
    (
        "interface_endpoint_no_aws_service",
        _network(lambda n: n["interface_endpoints"].append("secretmanager")),
        "network.interface_endpoints[6]: 'secretmanager' is not a service AWS offers as an interface endpoint "
        "(did you mean 'secretsmanager'?)",
    ),
    (
        "interface_endpoint_twice",
        _network(lambda n: n["interface_endpoints"].append("ssm")),
        "network.interface_endpoints[6]: 'ssm' is listed twice",
    ),
    (
        "zone_the_region_does_not_have",
        _network(lambda n: n["availability_zones"]["eu-west-1"].append("eu-west-1d")),
        "network.availability_zones.eu-west-1: 'eu-west-1d' is not an availability zone of eu-west-1 "
        "(it has eu-west-1a, eu-west-1b, eu-west-1c)",
    ),
    (
        "no_firewall_though_the_policy_inspects",
        _network(lambda n: n.pop("firewall")),
        "network.firewall: required, with at least one rule or allowed domain: the segment policy inspects traffic "
        "(segment_policy[2], segment_policy[3], segment_policy[4], segment_policy[5], segment_policy[6]), and a "
        "Network Firewall policy without rule groups is refused (Control Tower CT.NETWORK-FIREWALL.PR.1)",
    ),
    (
        "empty_firewall",
        _network(lambda n: n.update(firewall={"rules": [], "allowed_domains": []})),
        "network.firewall: required, with at least one rule or allowed domain",
    ),
    (
        "no_segment_policy",
        _network(lambda n: n.pop("segment_policy")),
        "network.segment_policy: required: it decides which segments reach each other, on-premises and the "
        "internet (write [] to isolate every segment on purpose)",
    ),
    (
        "on_premises_ranges_without_a_connection",
        _network(
            lambda n: n.update(
                vpn=None,
                segment_policy=[c for c in n["segment_policy"] if "on-premises" not in c["between"]],
            )
        ),
        "network.on_premises: ranges are given but neither network.vpn nor network.direct_connect connects them; "
        "add the connection or remove the ranges",
    ),
    (
        "two_on_premises_ranges_invalid",
        _network(lambda n: n.update(on_premises=["172.16.0.0/33", "10.300.0.0/16"])),
        "network.on_premises[0]: not a valid IPv4 CIDR block '172.16.0.0/33'",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [(m, e) for _, m, e in INVALID], ids=[i for i, _, _ in INVALID])
def test_invalid_network_config_names_field_and_rule(mutate: Mutation, expected: str) -> None:
    data = _example()
    mutate(data)
    with pytest.raises(ConfigError) as error:
        _parse(data)
    message = str(error.value)
    assert "\n" not in message, "the error must be one line"
    assert message.startswith("org.yaml: ")
    assert expected in message, message


@pytest.mark.parametrize("asn", [64514, 65534, 4_200_000_000, 4_294_967_294])
def test_the_ends_of_the_private_asn_ranges_are_accepted(asn: int) -> None:
    data = _example()
    data["network"]["vpn"]["bgp_asn"] = asn
    assert _parse(data).network.vpn.bgp_asn == asn


def test_subnets_are_disjoint_inside_the_vpc_and_attachment_subnets_are_slash_28() -> None:
    for vpc in load_config().network.vpcs.values():
        for zones in (2, 3, 4):
            if ipaddress.IPv4Network(vpc.cidr).prefixlen > 24:
                continue
            blocks, attachment = vpc.subnet_blocks(zones)
            everything = [*blocks, *attachment]
            assert len(blocks) == len(attachment) == zones
            assert all(b.subnet_of(vpc.network) for b in everything)
            assert all(a.prefixlen == 28 for a in attachment)
            assert not any(a.overlaps(b) for i, a in enumerate(everything) for b in everything[i + 1 :])


# The routing plan, independent of CDK.


def test_inspection_wins_when_two_policy_entries_route_the_same_prefix() -> None:
    network = load_config().network
    plan = home_routing(network, "eu-west-1", "eu-central-1")
    plan.add_route("prod", "172.16.0.0/12", "vpn")  # a direct route would bypass the firewall
    assert plan.routes[("prod", "172.16.0.0/12")] == StaticRoute("prod", "172.16.0.0/12", "inspection")


def test_a_table_with_a_default_route_blackholes_what_it_may_not_reach() -> None:
    network = load_config().network
    plan = home_routing(network, "eu-west-1", "eu-central-1")
    for table in ("prod", "nonprod", "shared", PEERING):
        assert plan.routes[(table, network.supernet)].target is None
    assert plan.routes[("nonprod", "172.16.0.0/12")].target is None  # nonprod may not reach on-premises
    assert plan.routes[("prod", "172.16.0.0/12")].target == "inspection"
    assert ("on-premises", network.supernet) not in plan.routes  # no default route there, nothing to leak


def test_the_dr_region_reaches_beyond_itself_only_through_the_peering() -> None:
    network = load_config().network
    plan = dr_routing(network, "eu-central-1")
    outbound = [r for r in plan.static_routes if r.target is not None]
    assert outbound and all(r.target == PEERING for r in outbound)
    assert {r.cidr for r in outbound} == {"0.0.0.0/0", "10.1.0.0/16", "10.10.0.0/16", "172.16.0.0/12"}


def test_every_problem_of_the_network_section_is_reported_in_one_line() -> None:
    data = _example()
    network = data["network"]
    network["interface_endpoints"].append("secretmanager")
    network["availability_zones"]["eu-central-1"].append("eu-central-1e")
    network.pop("firewall")
    network["vpcs"]["nonprod"]["cidr"] = "10.10.128.0/17"
    network["segment_policy"].append({"between": ["prod", "staging"]})
    with pytest.raises(ConfigError) as error:
        _parse(data)
    message = str(error.value)
    assert "\n" not in message
    expected = [
        "network.vpcs.nonprod.cidr: 10.10.128.0/17 overlaps network.vpcs.prod.cidr 10.10.0.0/16",
        "network.segment_policy[7].between[1]: 'staging' is not a segment of network.segments",
        "network.availability_zones.eu-central-1: 'eu-central-1e' is not an availability zone of eu-central-1",
        "network.interface_endpoints[6]: 'secretmanager' is not a service AWS offers as an interface endpoint",
        "network.firewall: required, with at least one rule or allowed domain",
    ]
    positions = [message.find(problem) for problem in expected]
    assert -1 not in positions, message
    assert positions == sorted(positions), "a stable order: addresses, segments, zones, endpoints, firewall"


def test_an_explicitly_empty_policy_isolates_every_segment() -> None:
    data = _example()
    network = data["network"]
    network["segment_policy"] = []
    network["vpn"] = None
    network["on_premises"] = []
    network["on_premises_dns"] = None
    config = _parse(data)
    assert config.network.policy == () and config.network.connection("prod", "shared") is None


@pytest.mark.parametrize(
    ("region", "zones"),
    [("us-east-1", ["us-east-1a", "us-east-1f"]), ("ca-central-1", ["ca-central-1a", "ca-central-1d"])],
)
def test_the_zones_each_region_really_has_are_accepted(region: str, zones: list[str]) -> None:
    data = _example()
    data["regions"]["allowed"].append(region)
    data["network"]["availability_zones"][region] = zones
    assert _parse(data).network.availability_zones[region] == tuple(zones)


def test_a_network_without_vpcs_needs_no_policy_and_no_firewall() -> None:
    data = _example()
    data["network"] = {"supernet": "10.0.0.0/8", "vpcs": {}}
    del data["disaster_recovery"]  # it runs in the network's VPCs, so it goes with them
    assert _parse(data).network.vpcs == {}
