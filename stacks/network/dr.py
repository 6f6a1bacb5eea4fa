"""The DR region: its own Transit Gateway, the DR VPCs, and the side of the peering
that belongs there.

    prod-dr ─► tgw-rt-prod (DR) ─► peering ─► home Transit Gateway (shared, on-premises, internet)
    peering ─► tgw-rt-peering (DR) ─► prod-dr

Deployed first: the hub stack finds this Transit Gateway by its Name tag to request the
peering. The static routes to the peering attachment are in the DR peering stack.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from cdk_constructs.deploy_time_lookup import harden_provider
from cdk_constructs.network.gateway_endpoint_policy import aws_owned_buckets
from cdk_constructs.network_vpc import SpokeVpc
from org_config.model import AccountRole, OrgConfig
from org_config.names import flow_log_destination, transit_gateway_name
from stacks.network.hub import organization_arn
from stacks.network.routing import PEERING, RegionRouting, dr_routing
from stacks.network.transit import TransitGatewayHub, apply_routing


class NetworkDrStack(Stack):
    SCALES_WITH = "network.vpcs and network.availability_zones"  # what its resource count grows with

    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        network = config.network
        dr = config.regions.dr
        zones = network.availability_zones[dr]
        network_account = config.account(AccountRole.NETWORK)
        self.routing: RegionRouting = dr_routing(network, dr)
        self.transit_gateway = TransitGatewayHub(
            self,
            "TransitGateway",
            name=transit_gateway_name(config, dr),
            asn=network.transit_gateway_asns[dr],
            region=dr,
            tables=self.routing.tables,
            flow_log_destination=flow_log_destination(config),
            organization_arn=organization_arn(config),
        )
        attachments: dict[str, str] = {}
        self.vpcs: dict[str, SpokeVpc] = {}
        for name, vpc in network.vpcs_in(dr).items():
            blocks, attachment_blocks = vpc.subnet_blocks(len(zones))
            owner = config.account_named(vpc.account)
            spoke = SpokeVpc(
                self,
                "".join(part.capitalize() for part in name.split("-")) + "Vpc",
                name=name,
                region=dr,
                cidr=vpc.cidr,
                zones=zones,
                subnet_blocks=blocks,
                attachment_blocks=attachment_blocks,
                flow_log_destination=flow_log_destination(config),
                transit_gateway_id=self.transit_gateway.gateway.ref,
                share_with=None if owner.id == network_account.id else owner.id,
                organization_id=config.organization.id,
                account_id=config.sandbox.account_id if config.sandbox else None,  # sandbox: no organization
                aws_buckets=aws_owned_buckets(vpc.region, network.interface_endpoints),
            )
            self.vpcs[name] = spoke
            attachments[name] = spoke.attachment.attr_id
        apply_routing(
            self,
            plan=self.routing,
            tables=self.transit_gateway.tables,
            attachments=attachments,
            include_route=lambda route: route.target != PEERING,
        )
        harden_provider(self)
