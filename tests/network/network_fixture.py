"""A small hub-and-spoke network written by hand as CloudFormation, for focused tests of
the reachability analysis independent of the stacks.

Home region: prod, nonprod and shared spokes, an inspection VPC (Network Firewall, its
endpoints taken with ``Fn::Select``/``Fn::Split`` over ``EndpointIds``), an egress VPC (NAT
per AZ, internet gateway), a BGP VPN to 172.16.0.0/12. DR region: a second Transit
Gateway with the prod-dr VPC, peered with the first; the ids that cross regions come
from lookup custom resources, as the stacks do it.

Segment routing of the fixture:
- prod and nonprod: 10.0.0.0/8 blackholed, so they never reach each other; the
  default route goes to inspection;
- prod <-> shared: inspected in both directions (static routes that beat the
  propagated ones for the same prefix);
- nonprod -> shared: direct (propagated);
- on-premises reaches prod and shared (propagated into its route table), not nonprod;
- prod <-> prod-dr across the peering, static routes on both sides.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from analysis.assembly import StackTemplate

HOME, DR = "eu-west-1", "eu-central-1"
HUB, DR_STACK = "network-hub-eu-west-1", "network-dr-eu-central-1"
ACCOUNT = "444444444444"


def _tags(name: str) -> list[dict[str, str]]:
    return [{"Key": "Name", "Value": name}]


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


class _Stack:
    def __init__(self) -> None:
        self.resources: dict[str, Any] = {}

    def add(self, logical_id: str, type_: str, **properties: Any) -> str:
        self.resources[logical_id] = {"Type": type_, "Properties": properties}
        return logical_id


def _vpc(stack: _Stack, name: str, cidr: str, region: str, subnets: dict[str, tuple[str, str]]) -> None:
    """A VPC and its subnets: ``subnets`` maps a short name to (CIDR, AZ letter)."""
    stack.add(f"{name}Vpc", "AWS::EC2::VPC", CidrBlock=cidr, Tags=_tags(name))
    for short, (subnet_cidr, letter) in subnets.items():
        stack.add(
            f"{name}{short}",
            "AWS::EC2::Subnet",
            VpcId=ref(f"{name}Vpc"),
            CidrBlock=subnet_cidr,
            AvailabilityZone=f"{region}{letter}",
            Tags=_tags(f"{name}-{short}"),
        )


def _table(stack: _Stack, vpc: str, short: str, subnets: list[str], routes: dict[str, dict[str, Any]]) -> None:
    table = stack.add(f"{vpc}{short}Rt", "AWS::EC2::RouteTable", VpcId=ref(f"{vpc}Vpc"), Tags=_tags(f"{vpc}-{short}"))
    for subnet in subnets:
        stack.add(
            f"{vpc}{subnet}Assoc",
            "AWS::EC2::SubnetRouteTableAssociation",
            SubnetId=ref(f"{vpc}{subnet}"),
            RouteTableId=ref(table),
        )
    for index, (destination, target) in enumerate(routes.items()):
        stack.add(
            f"{table}Route{index}",
            "AWS::EC2::Route",
            RouteTableId=ref(table),
            DestinationCidrBlock=destination,
            **target,
        )


def _spoke(stack: _Stack, name: str, octets: str, region: str, tgw: Any) -> None:
    _vpc(
        stack,
        name,
        f"{octets}.0.0/16",
        region,
        {
            "workload-a": (f"{octets}.0.0/24", "a"),
            "workload-b": (f"{octets}.1.0/24", "b"),
            "tgw-a": (f"{octets}.255.0/28", "a"),
            "tgw-b": (f"{octets}.255.16/28", "b"),
        },
    )
    _table(stack, name, "workload", ["workload-a", "workload-b"], {"0.0.0.0/0": {"TransitGatewayId": tgw}})
    _table(stack, name, "tgw", ["tgw-a", "tgw-b"], {})
    stack.add(
        f"{name}S3",
        "AWS::EC2::VPCEndpoint",
        VpcId=ref(f"{name}Vpc"),
        ServiceName=f"com.amazonaws.{region}.s3",
        RouteTableIds=[ref(f"{name}workloadRt")],
    )
    stack.add(
        f"{name}Attachment",
        "AWS::EC2::TransitGatewayVpcAttachment",
        TransitGatewayId=tgw,
        VpcId=ref(f"{name}Vpc"),
        SubnetIds=[ref(f"{name}tgw-a"), ref(f"{name}tgw-b")],
        Tags=_tags(f"{name}-attachment"),
    )


def _endpoint(az_index: int) -> dict[str, Any]:
    entry = {"Fn::Select": [az_index, {"Fn::GetAtt": ["Firewall", "EndpointIds"]}]}
    return {"VpcEndpointId": {"Fn::Select": [1, {"Fn::Split": [":", entry]}]}}


def _tgw_table(stack: _Stack, name: str, tgw: Any, associate: list[str], propagate: list[str]) -> None:
    stack.add(f"{name}Table", "AWS::EC2::TransitGatewayRouteTable", TransitGatewayId=tgw, Tags=_tags(f"tgw-rt-{name}"))
    for attachment in associate:
        stack.add(
            f"{name}Assoc{attachment}",
            "AWS::EC2::TransitGatewayRouteTableAssociation",
            TransitGatewayAttachmentId=_attachment_ref(attachment),
            TransitGatewayRouteTableId=ref(f"{name}Table"),
        )
    for attachment in propagate:
        stack.add(
            f"{name}Prop{attachment}",
            "AWS::EC2::TransitGatewayRouteTablePropagation",
            TransitGatewayAttachmentId=_attachment_ref(attachment),
            TransitGatewayRouteTableId=ref(f"{name}Table"),
        )


def _attachment_ref(name: str) -> Any:
    if name == "vpn":
        return {"Fn::GetAtt": ["VpnAttachmentLookup", "TransitGatewayAttachments.0.TransitGatewayAttachmentId"]}
    if name == "peeringDr":
        return {"Fn::GetAtt": ["PeeringLookup", "TransitGatewayPeeringAttachments.0.TransitGatewayAttachmentId"]}
    return {"Fn::GetAtt": [f"{name}Attachment", "Id"]}


def _tgw_route(stack: _Stack, table: str, destination: str, attachment: str | None) -> None:
    target: dict[str, Any] = {"Blackhole": True} if attachment is None else {}
    if attachment is not None:
        target["TransitGatewayAttachmentId"] = _attachment_ref(attachment)
    logical_id = f"{table}To{destination.replace('.', '_').replace('/', '_')}"
    stack.add(
        logical_id,
        "AWS::EC2::TransitGatewayRoute",
        TransitGatewayRouteTableId=ref(f"{table}Table"),
        DestinationCidrBlock=destination,
        **target,
    )


def _lookup(action: str, region: str, filters: list[dict[str, Any]] | dict[str, Any]) -> dict[str, Any]:
    call = {"service": "EC2", "action": action, "parameters": {"Filters": filters}, "region": region}
    return {"ServiceToken": {"Fn::GetAtt": ["Provider", "Arn"]}, "Create": json.dumps(call)}


def hub_template() -> dict[str, Any]:
    s = _Stack()
    tgw = ref("Tgw")
    s.add(
        "Tgw",
        "AWS::EC2::TransitGateway",
        DefaultRouteTableAssociation="disable",
        DefaultRouteTablePropagation="disable",
        Tags=_tags("tgw-eu-west-1"),
    )
    for name, octets in (("prod", "10.10"), ("nonprod", "10.20"), ("shared", "10.1")):
        _spoke(s, name, octets, HOME, tgw)
    # Inspection VPC: TGW subnets send everything to the firewall endpoint of their AZ.
    _vpc(
        s,
        "inspection",
        "10.0.0.0/22",
        HOME,
        {
            "tgw-a": ("10.0.0.0/28", "a"),
            "tgw-b": ("10.0.0.16/28", "b"),
            "firewall-a": ("10.0.1.0/28", "a"),
            "firewall-b": ("10.0.1.16/28", "b"),
        },
    )
    s.add(
        "Firewall",
        "AWS::NetworkFirewall::Firewall",
        FirewallName="inspection",
        VpcId=ref("inspectionVpc"),
        FirewallPolicyArn="arn:aws:network-firewall:eu-west-1:444444444444:firewall-policy/p",
        SubnetMappings=[{"SubnetId": ref("inspectionfirewall-a")}, {"SubnetId": ref("inspectionfirewall-b")}],
        Tags=_tags("inspection-firewall"),
    )
    _table(s, "inspection", "tgw-a", ["tgw-a"], {"0.0.0.0/0": _endpoint(0)})
    _table(s, "inspection", "tgw-b", ["tgw-b"], {"0.0.0.0/0": _endpoint(1)})
    _table(s, "inspection", "firewall", ["firewall-a", "firewall-b"], {"0.0.0.0/0": {"TransitGatewayId": tgw}})
    s.add(
        "inspectionAttachment",
        "AWS::EC2::TransitGatewayVpcAttachment",
        TransitGatewayId=tgw,
        VpcId=ref("inspectionVpc"),
        SubnetIds=[ref("inspectiontgw-a"), ref("inspectiontgw-b")],
        Options={"ApplianceModeSupport": "enable"},
        Tags=_tags("inspection-attachment"),
    )
    # Egress VPC: NAT gateway per AZ behind an internet gateway.
    _vpc(
        s,
        "egress",
        "10.0.4.0/22",
        HOME,
        {
            "tgw-a": ("10.0.4.0/28", "a"),
            "tgw-b": ("10.0.4.16/28", "b"),
            "public-a": ("10.0.5.0/28", "a"),
            "public-b": ("10.0.5.16/28", "b"),
        },
    )
    s.add("Igw", "AWS::EC2::InternetGateway", Tags=_tags("egress-igw"))
    s.add("IgwAttach", "AWS::EC2::VPCGatewayAttachment", VpcId=ref("egressVpc"), InternetGatewayId=ref("Igw"))
    for letter in "ab":
        s.add(
            f"Nat{letter}", "AWS::EC2::NatGateway", SubnetId=ref(f"egresspublic-{letter}"), Tags=_tags(f"nat-{letter}")
        )
        _table(s, "egress", f"tgw-{letter}", [f"tgw-{letter}"], {"0.0.0.0/0": {"NatGatewayId": ref(f"Nat{letter}")}})
    _table(
        s,
        "egress",
        "public",
        ["public-a", "public-b"],
        {"0.0.0.0/0": {"GatewayId": ref("Igw")}, "10.0.0.0/8": {"TransitGatewayId": tgw}},
    )
    s.add(
        "egressAttachment",
        "AWS::EC2::TransitGatewayVpcAttachment",
        TransitGatewayId=tgw,
        VpcId=ref("egressVpc"),
        SubnetIds=[ref("egresstgw-a"), ref("egresstgw-b")],
        Tags=_tags("egress-attachment"),
    )
    # On-premises over a BGP VPN; its attachment id comes from a lookup by the VPN's id.
    s.add("Cgw", "AWS::EC2::CustomerGateway", BgpAsn=65010, IpAddress="198.51.100.1", Type="ipsec.1")
    s.add(
        "Vpn",
        "AWS::EC2::VPNConnection",
        CustomerGatewayId=ref("Cgw"),
        TransitGatewayId=tgw,
        Type="ipsec.1",
        StaticRoutesOnly=False,
        Tags=_tags("vpn-on-premises"),
    )
    vpn_filter = [{"Name": "resource-id", "Values": ["__VPN__"]}]
    vpn_lookup = _lookup("describeTransitGatewayAttachments", HOME, vpn_filter)
    before, after = vpn_lookup["Create"].split("__VPN__")
    vpn_lookup["Create"] = {"Fn::Join": ["", [before, ref("Vpn"), after]]}
    s.resources["VpnAttachmentLookup"] = {"Type": "Custom::AWS", "Properties": vpn_lookup}
    # Peering to the DR region's TGW, found by its Name tag there.
    s.resources["DrTgwLookup"] = {
        "Type": "Custom::AWS",
        "Properties": _lookup("describeTransitGateways", DR, [{"Name": "tag:Name", "Values": ["tgw-eu-central-1"]}]),
    }
    s.add(
        "peeringDrAttachment",
        "AWS::EC2::TransitGatewayPeeringAttachment",
        TransitGatewayId=tgw,
        PeerTransitGatewayId={"Fn::GetAtt": ["DrTgwLookup", "TransitGateways.0.TransitGatewayId"]},
        PeerRegion=DR,
        PeerAccountId=ACCOUNT,
        Tags=_tags("tgw-peering-eu-west-1-eu-central-1"),
    )
    s.resources["PeeringLookup"] = {
        "Type": "Custom::AWS",
        "Properties": _lookup(
            "describeTransitGatewayPeeringAttachments",
            HOME,
            [{"Name": "tag:Name", "Values": ["tgw-peering-eu-west-1-eu-central-1"]}],
        ),
    }
    # Segment route tables.
    _tgw_table(s, "prod", tgw, ["prod"], ["shared"])
    _tgw_table(s, "nonprod", tgw, ["nonprod"], ["shared"])
    _tgw_table(s, "shared", tgw, ["shared"], ["prod", "nonprod", "vpn"])
    _tgw_table(s, "inspection", tgw, ["inspection"], ["prod", "nonprod", "shared", "vpn"])
    _tgw_table(s, "egress", tgw, ["egress"], [])
    _tgw_table(s, "onprem", tgw, ["vpn"], ["prod", "shared"])
    _tgw_table(s, "peering", tgw, ["peeringDr"], ["prod"])
    for table in ("prod", "nonprod"):
        _tgw_route(s, table, "0.0.0.0/0", "inspection")
        _tgw_route(s, table, "10.0.0.0/8", None)  # the summary must not leak to the other segment
    _tgw_route(s, "prod", "10.1.0.0/16", "inspection")  # beats the propagated 10.1.0.0/16
    _tgw_route(s, "prod", "172.16.0.0/12", "vpn")
    _tgw_route(s, "prod", "10.11.0.0/16", "peeringDr")
    _tgw_route(s, "shared", "10.10.0.0/16", "inspection")  # beats the propagated 10.10.0.0/16
    _tgw_route(s, "inspection", "0.0.0.0/0", "egress")
    _tgw_route(s, "egress", "10.0.0.0/8", "inspection")
    return {"Resources": s.resources}


def dr_template() -> dict[str, Any]:
    s = _Stack()
    tgw = ref("Tgw")
    s.add(
        "Tgw",
        "AWS::EC2::TransitGateway",
        DefaultRouteTableAssociation="disable",
        DefaultRouteTablePropagation="disable",
        Tags=_tags("tgw-eu-central-1"),
    )
    _spoke(s, "proddr", "10.11", DR, tgw)
    s.resources["PeeringLookup"] = {
        "Type": "Custom::AWS",
        "Properties": _lookup(
            "describeTransitGatewayPeeringAttachments",
            DR,
            [{"Name": "tag:Name", "Values": ["tgw-peering-eu-west-1-eu-central-1"]}],
        ),
    }
    _tgw_table(s, "proddr", tgw, ["proddr"], [])
    _tgw_table(s, "peering", tgw, ["peeringDr"], ["proddr"])
    _tgw_route(s, "proddr", "10.10.0.0/16", "peeringDr")
    return {"Resources": s.resources}


def stacks(hub: dict[str, Any] | None = None, dr: dict[str, Any] | None = None) -> list[StackTemplate]:
    """The fixture as an assembly; pass edited copies of the templates to mutate it."""
    return [
        StackTemplate(HUB, ACCOUNT, HOME, Path("hub.template.json"), hub or hub_template()),
        StackTemplate(DR_STACK, ACCOUNT, DR, Path("dr.template.json"), dr or dr_template()),
    ]


def edited(template: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(template)


DX_GATEWAY = "5f3a7c2e-0b1d-4e8f-9a6b-2c4d6e8f0a1b"


def add_direct_connect(resources: dict[str, Any]) -> None:
    """Associate a Direct Connect gateway with the hub TGW, found by a lookup as the stacks
    do it, associated with the on-premises table; prod's on-premises route goes to it."""
    resources["Dx"] = {
        "Type": "AWS::DirectConnect::DirectConnectGatewayAssociation",
        "Properties": {"AssociatedGatewayId": ref("Tgw"), "DirectConnectGatewayId": DX_GATEWAY},
    }
    call = {
        "service": "EC2",
        "action": "describeTransitGatewayAttachments",
        "parameters": {
            "Filters": [
                {"Name": "resource-type", "Values": ["direct-connect-gateway"]},
                {"Name": "resource-id", "Values": [DX_GATEWAY]},
                {"Name": "transit-gateway-id", "Values": ["__TGW__"]},
            ]
        },
        "region": HOME,
    }
    before, after = json.dumps(call).split("__TGW__")
    resources["DxLookup"] = {
        "Type": "Custom::AWS",
        "Properties": {"Create": {"Fn::Join": ["", [before, ref("Tgw"), after]]}},
    }
    dx = {"Fn::GetAtt": ["DxLookup", "TransitGatewayAttachments.0.TransitGatewayAttachmentId"]}
    resources["onpremAssocDx"] = {
        "Type": "AWS::EC2::TransitGatewayRouteTableAssociation",
        "Properties": {"TransitGatewayAttachmentId": dx, "TransitGatewayRouteTableId": ref("onpremTable")},
    }
    resources["prodTo172_16_0_0_12"]["Properties"]["TransitGatewayAttachmentId"] = dx
