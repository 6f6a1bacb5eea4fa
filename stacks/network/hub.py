"""The hub: the network account's home region.

                           ┌──────────── Transit Gateway (home) ─────────────┐
    prod ─────────► tgw-rt-prod        nonprod ─► tgw-rt-nonprod            │
    shared-services ► tgw-rt-shared    VPN / DX ─► tgw-rt-on-premises       │
    inspection VPC (Network Firewall) ─► tgw-rt-inspection ─► egress VPC ─► internet
    egress VPC (NAT per AZ) ─► tgw-rt-egress (replies back through the firewall)
    peering to the DR region ─► tgw-rt-peering
                           └─────────────────────────────────────────────────┘

Every VPC of the region is the network account's; the workload subnets are shared with
the account named in the config through RAM. The routes come from the segment policy
(``stacks/network/routing.py``); the routes to the peering attachment live in the
peering stack, which runs once the DR region has accepted the peering.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_directconnect as directconnect
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from cdk_constructs.deploy_time_lookup import DeployTimeCall, TaggedLookup, allow, harden_provider
from cdk_constructs.network.gateway_endpoint_policy import aws_owned_buckets
from cdk_constructs.network_vpc import NetworkVpc, SpokeVpc, name_tag
from org_config.model import ON_PREMISES, AccountRole, OrgConfig
from org_config.model import Vpn as VpnSettings
from org_config.names import (
    firewall_name,
    flow_log_destination,
    log_bucket_name,
    tgw_peering_name,
    transit_gateway_name,
)
from stacks.network.hub_vpcs import EgressVpc, InspectionVpc
from stacks.network.routing import DIRECT_CONNECT, PEERING, VPN, RegionRouting, home_routing
from stacks.network.shared_services import CentralEndpoints, HybridDns
from stacks.network.transit import TransitGatewayHub, apply_routing

_VPN = ec2.CfnVPNConnection
_STRONG_TUNNEL = _VPN.VpnTunnelOptionsSpecificationProperty(
    ike_versions=[_VPN.IKEVersionsRequestListValueProperty(value="ikev2")],
    phase1_encryption_algorithms=[_VPN.Phase1EncryptionAlgorithmsRequestListValueProperty(value="AES256-GCM-16")],
    phase1_integrity_algorithms=[_VPN.Phase1IntegrityAlgorithmsRequestListValueProperty(value="SHA2-384")],
    phase1_dh_group_numbers=[_VPN.Phase1DHGroupNumbersRequestListValueProperty(value=20)],
    phase2_encryption_algorithms=[_VPN.Phase2EncryptionAlgorithmsRequestListValueProperty(value="AES256-GCM-16")],
    phase2_integrity_algorithms=[_VPN.Phase2IntegrityAlgorithmsRequestListValueProperty(value="SHA2-384")],
    phase2_dh_group_numbers=[_VPN.Phase2DHGroupNumbersRequestListValueProperty(value=20)],
)


def organization_arn(config: OrgConfig) -> str | None:
    """The organization the network's RAM shares go to; ``None`` in the sandbox profile,
    where every VPC, Transit Gateway and rule stays in the one account and needs no share."""
    if config.sandbox is not None:
        return None
    management = config.account(AccountRole.MANAGEMENT).id
    return f"arn:aws:organizations::{management}:organization/{config.organization.id}"


class NetworkHubStack(Stack):
    # The config values its resource count grows with (each VPC, AZ and endpoint adds resources).
    SCALES_WITH = "network.vpcs, network.availability_zones and network.interface_endpoints"

    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        network = config.network
        home, dr = config.regions.home, config.regions.dr
        flow_logs = flow_log_destination(config)
        network_account = config.account(AccountRole.NETWORK)
        self.routing: RegionRouting = home_routing(network, home, dr)

        self.transit_gateway = TransitGatewayHub(
            self,
            "TransitGateway",
            name=transit_gateway_name(config, home),
            asn=network.transit_gateway_asns[home],
            region=home,
            tables=self.routing.tables,
            flow_log_destination=flow_logs,
            organization_arn=organization_arn(config),
        )
        tgw = self.transit_gateway.gateway.ref

        self.vpcs: dict[str, NetworkVpc] = {name: self._vpc(config, name, tgw) for name in network.vpcs_in(home)}
        attachments = {name: built.attachment.attr_id for name, built in self.vpcs.items()}
        self._shared_services(config)
        attachments.update(self._hybrid(config, tgw))
        if PEERING in self.routing.tables:
            self._request_peering(config, tgw, network_account.id)

        # Routes to the peering attachment wait for the acceptance (the peering stack).
        apply_routing(
            self,
            plan=self.routing,
            tables=self.transit_gateway.tables,
            attachments=attachments,
            include_route=lambda route: route.target != PEERING,
        )
        harden_provider(self, calls="EC2, Network Firewall")

    def _vpc(self, config: OrgConfig, name: str, tgw: str) -> NetworkVpc:
        """One VPC of the region with its attachment: a hub VPC or a spoke."""
        network = config.network
        vpc = network.vpcs[name]
        zones = network.availability_zones[vpc.region]
        flow_logs = flow_log_destination(config)
        construct_id = "".join(part.capitalize() for part in name.split("-")) + "Vpc"
        if vpc.segment == "inspection":
            return InspectionVpc(
                self,
                construct_id,
                name=name,
                vpc=vpc,
                zones=zones,
                flow_log_destination=flow_logs,
                log_bucket=log_bucket_name(config, "vpc-flow-logs"),
                firewall_name=firewall_name(config),
                settings=network.firewall,
                supernet=network.supernet,
                transit_gateway_id=tgw,
            )
        if vpc.segment == "egress":
            return EgressVpc(
                self,
                construct_id,
                name=name,
                vpc=vpc,
                zones=zones,
                flow_log_destination=flow_logs,
                supernet=network.supernet,
                transit_gateway_id=tgw,
            )
        blocks, attachment_blocks = vpc.subnet_blocks(len(zones))
        owner = config.account_named(vpc.account)
        network_account = config.account(AccountRole.NETWORK)
        return SpokeVpc(
            self,
            construct_id,
            name=name,
            region=vpc.region,
            cidr=vpc.cidr,
            zones=zones,
            subnet_blocks=blocks,
            attachment_blocks=attachment_blocks,
            flow_log_destination=flow_logs,
            transit_gateway_id=tgw,
            share_with=None if owner.id == network_account.id else owner.id,
            organization_id=config.organization.id,
            account_id=config.sandbox.account_id if config.sandbox else None,  # sandbox: no organization
            aws_buckets=aws_owned_buckets(vpc.region, network.interface_endpoints),
        )

    def _shared_services(self, config: OrgConfig) -> None:
        """The central interface endpoints and the hybrid DNS, in the services VPC."""
        network = config.network
        if network.services_vpc is None:
            return
        spoke_ids = {
            name: built.vpc.ref
            for name, built in self.vpcs.items()
            if network.vpcs[name].segment not in ("inspection", "egress")
        }
        host = self.vpcs[network.services_vpc]
        if network.interface_endpoints:
            CentralEndpoints(
                self,
                "CentralEndpoints",
                host=host,
                services=network.interface_endpoints,
                vpc_ids=list(spoke_ids.values()),
                supernet=network.supernet,
            )
        if network.on_premises_dns is not None:
            # On-premises names resolve only where the segment policy lets the VPC reach
            # on-premises: the Resolver forwards from shared services, so an association
            # would carry a denied segment's queries past the policy.
            resolving = {
                name: vpc_id
                for name, vpc_id in spoke_ids.items()
                if network.connection(network.vpcs[name].segment, ON_PREMISES) is not None
            }
            HybridDns(
                self,
                "HybridDns",
                host=host,
                dns=network.on_premises_dns,
                on_premises=network.on_premises,
                vpc_ids=resolving,
                organization_arn=organization_arn(config),
                name_prefix=config.organization.name_prefix,
            )

    def _hybrid(self, config: OrgConfig, tgw: str) -> dict[str, str]:
        """Site-to-Site VPN and Direct Connect gateway association; their attachment ids."""
        network = config.network
        attachments: dict[str, str] = {}
        if network.vpn is not None:
            attachments[VPN] = self._vpn(config, network.vpn, tgw)
        if network.direct_connect is not None:
            attachments[DIRECT_CONNECT] = self._direct_connect(config, network.direct_connect.gateway_id, tgw)
        if attachments:
            allow(
                self,
                ["ec2:DescribeTransitGatewayAttachments"],
                ["*"],
                "EC2 describe calls support no resource-level permissions; the calls only read.",
            )
        return attachments

    def _vpn(self, config: OrgConfig, settings: VpnSettings, tgw: str) -> str:
        """The customer gateway and the VPN connection; the id of the VPN's attachment."""
        home = config.regions.home
        customer_gateway = ec2.CfnCustomerGateway(
            self,
            "CustomerGateway",
            bgp_asn=settings.bgp_asn,
            ip_address=settings.customer_gateway_ip,
            type="ipsec.1",
            tags=name_tag(f"{config.organization.name_prefix}-on-premises"),
        )
        # Two tunnels, to two AWS endpoints in different AZs (AWS always creates both),
        # each limited to IKEv2 and current algorithms instead of the legacy defaults.
        vpn = ec2.CfnVPNConnection(
            self,
            "Vpn",
            customer_gateway_id=customer_gateway.ref,
            transit_gateway_id=tgw,
            type="ipsec.1",
            static_routes_only=settings.routing == "static",
            vpn_tunnel_options_specifications=[_STRONG_TUNNEL, _STRONG_TUNNEL],
            tags=name_tag(f"{config.organization.name_prefix}-vpn-{home}"),
        )
        # The two entries are one per tunnel and equal on purpose; cfn-lint's
        # informational I3037 (list items must be unique) reads them as a duplicate.
        vpn.add_metadata("cfn-lint", {"config": {"ignore_checks": ["I3037"]}})
        # CloudFormation does not return the attachment a VPN connection creates; it is
        # found by the connection's id (the one lookup that is not by Name tag).
        path = "TransitGatewayAttachments.0.TransitGatewayAttachmentId"
        lookup = DeployTimeCall(
            self,
            "VpnAttachment",
            service="EC2",
            action="describeTransitGatewayAttachments",
            parameters={
                "Filters": [
                    {"Name": "resource-type", "Values": ["vpn"]},
                    {"Name": "resource-id", "Values": [vpn.ref]},
                ]
            },
            physical_id=f"vpn-attachment-{home}",
            output_paths=[path],
        )
        return lookup.value(path)

    def _direct_connect(self, config: OrgConfig, gateway: str, tgw: str) -> str:
        """The association with the Direct Connect gateway; the id of its attachment."""
        network = config.network
        home = config.regions.home
        association = directconnect.CfnDirectConnectGatewayAssociation(
            self,
            "DirectConnectAssociation",
            associated_gateway_id=tgw,
            direct_connect_gateway_id=gateway,
            # Advertise to on-premises only the VPCs that on-premises may reach.
            allowed_prefixes_to_direct_connect_gateway=sorted(
                {route.cidr for route in self.routing.static_routes if route.table == "on-premises"}
                | {network.vpcs[p.attachment].cidr for p in self.routing.propagations if p.table == "on-premises"}
            ),
        )
        path = "TransitGatewayAttachments.0.TransitGatewayAttachmentId"
        lookup = DeployTimeCall(
            self,
            "DirectConnectAttachment",
            service="EC2",
            action="describeTransitGatewayAttachments",
            parameters={
                "Filters": [
                    {"Name": "resource-type", "Values": ["direct-connect-gateway"]},
                    {"Name": "resource-id", "Values": [gateway]},
                    {"Name": "transit-gateway-id", "Values": [tgw]},
                ]
            },
            physical_id=f"direct-connect-attachment-{gateway}-{home}",
            output_paths=[path],
        )
        lookup.node.add_dependency(association)
        return lookup.value(path)

    def _request_peering(self, config: OrgConfig, tgw: str, account: str) -> None:
        """Request the peering with the DR region's Transit Gateway (found by its Name tag
        there) and accept it in the DR region: CloudFormation has no resource for the
        accepter side, so a deploy-time call does it."""
        dr = config.regions.dr
        peer = TaggedLookup(
            self,
            "DrTransitGateway",
            describe="describeTransitGateways",
            name=transit_gateway_name(config, dr),
            id_path="TransitGateways.0.TransitGatewayId",
            region=dr,
            filters={"state": ["available"]},
        )
        self.peering = ec2.CfnTransitGatewayPeeringAttachment(
            self,
            "Peering",
            transit_gateway_id=tgw,
            peer_transit_gateway_id=peer.id,
            peer_account_id=account,
            peer_region=dr,
            tags=name_tag(tgw_peering_name(config)),
        )
        allow(
            self,
            ["ec2:AcceptTransitGatewayPeeringAttachment"],
            [f"arn:aws:ec2:{dr}:{account}:transit-gateway-attachment/*"],
            "The peering attachment's id is known only at deploy time; the role may only accept attachments.",
        )
        DeployTimeCall(
            self,
            "AcceptPeering",
            service="EC2",
            action="acceptTransitGatewayPeeringAttachment",
            parameters={"TransitGatewayAttachmentId": self.peering.attr_transit_gateway_attachment_id},
            physical_id=f"{tgw_peering_name(config)}-accepted",
            region=dr,
            repeat_on_update=False,  # an accepted attachment cannot be accepted again
        )
