"""Cost at rest counted from the resources, and the central-egress break-even, on the
hand-written network of ``network_fixture``."""

from __future__ import annotations

import pytest

from analysis.network.cost import (
    ITEMS,
    EgressModel,
    cost_at_rest,
    count_resources,
    egress_model,
    load_prices,
    render_break_even,
    render_cost_table,
)
from analysis.network.graph import build_network
from tests.network import network_fixture as fx

PRICES = load_prices()


def test_units_are_counted_from_the_resources() -> None:
    counts = count_resources(fx.stacks())
    assert counts == {
        # 5 VPC attachments + the VPN's + the requester side of the peering; DR: 1 VPC + accepter side.
        (fx.HOME, "transit_gateway_attachment"): 7,
        (fx.DR, "transit_gateway_attachment"): 2,
        (fx.HOME, "nat_gateway"): 2,
        (fx.HOME, "public_ipv4"): 2,
        (fx.HOME, "network_firewall_endpoint"): 2,
        (fx.HOME, "vpn_connection"): 1,
    }


def test_interface_and_resolver_endpoints_are_charged_per_az() -> None:
    hub = fx.edited(fx.hub_template())
    subnets = [fx.ref("sharedworkload-a"), fx.ref("sharedworkload-b")]
    hub["Resources"]["Ssm"] = {
        "Type": "AWS::EC2::VPCEndpoint",
        "Properties": {
            "VpcEndpointType": "Interface",
            "ServiceName": "com.amazonaws.eu-west-1.ssm",
            "SubnetIds": subnets,
        },
    }
    hub["Resources"]["Inbound"] = {
        "Type": "AWS::Route53Resolver::ResolverEndpoint",
        "Properties": {"Direction": "INBOUND", "IpAddresses": [{"SubnetId": s} for s in subnets]},
    }
    counts = count_resources(fx.stacks(hub=hub))
    assert counts[(fx.HOME, "interface_endpoint")] == 2
    assert counts[(fx.HOME, "resolver_endpoint")] == 2


def test_monthly_cost_is_units_times_the_hourly_price() -> None:
    lines = cost_at_rest(fx.stacks(), PRICES)
    nat = next(line for line in lines if line.item == "nat_gateway")
    assert nat.hourly == pytest.approx(2 * 0.048)
    table = render_cost_table(lines, PRICES)
    assert f"| {fx.HOME} | NAT gateway | 2 | 0.048 | 0.096 | 70.08 |" in table
    total = sum(line.hourly for line in lines) * PRICES.hours_per_month
    assert f"**{total:,.2f}**" in table
    assert PRICES.as_of in table and "per GB" in table


def test_every_region_prices_every_item_and_names_its_sources() -> None:
    for region, prices in PRICES.regions.items():
        assert set(prices["hourly"]) == set(ITEMS), region
        assert all(value > 0 for value in prices["hourly"].values())
    assert set(PRICES.sources) and all(url.startswith("https://aws.amazon.com/") for url in PRICES.sources.values())


def test_a_region_without_prices_is_an_error() -> None:
    with pytest.raises(KeyError, match="no prices for ap-south-2"):
        PRICES.hourly("ap-south-2", "nat_gateway")


def test_egress_model_is_read_from_the_templates() -> None:
    model = egress_model(build_network(fx.stacks(), ["172.16.0.0/12"]), PRICES)
    assert (model.region, model.zones, model.spokes) == (fx.HOME, 2, 3)  # prod, nonprod, shared
    assert model.nat_hour == pytest.approx(0.048 + 0.005)


MODEL = EgressModel(
    region="eu-west-1", zones=2, nat_hour=0.053, attachment_hour=0.05, tgw_per_gb=0.02, hours_per_month=730, spokes=3
)


def test_break_even_is_the_first_spoke_count_where_central_costs_less() -> None:
    # Central: 2 * 0.053 + 0.05 = 0.156/h; per spoke: 2 * 0.053 = 0.106/h: 0.156 / 0.106 = 1.47.
    assert MODEL.break_even(0) == 2
    assert 2 * MODEL.per_spoke_nat_month > MODEL.central_fixed_month > 1 * MODEL.per_spoke_nat_month
    # Attached only for egress, each spoke also pays 0.05/h: 0.156 / 0.056 = 2.79.
    assert MODEL.break_even(0, spoke_attachment_for_egress_only=True) == 3


def test_traffic_moves_the_break_even_and_can_rule_central_egress_out() -> None:
    # 3,000 GB/month costs 60 through the TGW against 77.38 of NAT gateways saved per spoke.
    assert MODEL.break_even(3_000) == 7
    assert MODEL.never_cheaper_above_gb == pytest.approx(2 * 0.053 * 730 / 0.02)
    assert MODEL.break_even(MODEL.never_cheaper_above_gb) is None


def test_an_exact_tie_is_not_cheaper() -> None:
    tie = EgressModel(
        region="x", zones=1, nat_hour=1.0, attachment_hour=1.0, tgw_per_gb=0.02, hours_per_month=1, spokes=0
    )
    assert tie.break_even(0) == 3  # 2 spokes cost 2, exactly central's 2: not cheaper yet


def test_the_break_even_text_compares_with_the_spokes_there_are() -> None:
    assert "already costs less at rest" in render_break_even(MODEL, "USD")  # 3 spokes, break-even 2
    one = EgressModel(**{**MODEL.__dict__, "spokes": 1})
    assert "a NAT gateway per spoke would still cost less" in render_break_even(one, "USD")


def test_a_direct_connect_attachment_is_counted_and_priced_at_rest() -> None:
    hub = fx.edited(fx.hub_template())
    fx.add_direct_connect(hub["Resources"])
    counts = count_resources(fx.stacks(hub=hub))
    assert counts[(fx.HOME, "transit_gateway_attachment")] == 8  # the 7 of the fixture and the gateway's
    lines = cost_at_rest(fx.stacks(hub=hub), PRICES)
    (attachments,) = [c for c in lines if (c.region, c.item) == (fx.HOME, "transit_gateway_attachment")]
    assert attachments.units == 8 and attachments.hourly == pytest.approx(8 * 0.05)


def test_the_per_gb_charges_are_the_price_lists_for_each_region() -> None:
    table = render_cost_table(cost_at_rest(fx.stacks(), PRICES), PRICES)
    first, second = PRICES.region(fx.DR), PRICES.region(fx.HOME)  # the columns: regions in name order
    assert "| charge | eu-central-1 | eu-west-1 |" in table
    for item in ("nat_gateway_processing", "transit_gateway_processing", "network_firewall_processing"):
        row = f"| {item.replace('_', ' ')}, USD per GB | {first['per_gb'][item]:.3f} | {second['per_gb'][item]:.3f} |"
        assert row in table, row
    assert f"| nat gateway processing, USD per GB | {first['per_gb']['nat_gateway_processing']:.3f} | 0.048 |" in table
    # The break-even charges the Transit Gateway's per-GB price of the egress region.
    model = egress_model(build_network(fx.stacks(), ["172.16.0.0/12"]), PRICES)
    assert model.tgw_per_gb == PRICES.per_gb(fx.HOME, "transit_gateway_processing") == pytest.approx(0.02)
    assert "0.020 USD/GB of Transit Gateway processing" in render_break_even(model, "USD")
