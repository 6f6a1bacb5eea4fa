"""One side of the inter-region peering, once the DR region has accepted it: the peering
attachment joins its route table, and the static routes to it are added (peering
attachments do not propagate).

The attachment and the route tables come from the other stacks of the same account and
region; they are found at deploy time by their Name tags (the peering attachment in the
home region, where it was requested and tagged; its id is the same on both sides).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from cdk_constructs.deploy_time_lookup import TaggedLookup, harden_provider
from org_config.model import OrgConfig
from org_config.names import tgw_peering_name, tgw_route_table_name
from stacks.network.routing import PEERING, RegionRouting
from stacks.network.transit import apply_routing


class NetworkPeeringStack(Stack):
    SCALES_WITH = "network.vpcs and network.segment_policy"  # what its resource count grows with

    def __init__(
        self, scope: Construct, construct_id: str, *, config: OrgConfig, routing: RegionRouting, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        region = self.region
        peering = TaggedLookup(
            self,
            "PeeringAttachment",
            describe="describeTransitGatewayPeeringAttachments",
            name=tgw_peering_name(config),
            id_path="TransitGatewayPeeringAttachments.0.TransitGatewayAttachmentId",
            region=config.regions.home,
            filters={"state": ["available"]},  # accepted: routes to it can be created
        )
        used = sorted({route.table for route in routing.static_routes if route.target == PEERING} | {PEERING})
        tables = {
            table: TaggedLookup(
                self,
                f"RouteTable-{table}",
                describe="describeTransitGatewayRouteTables",
                name=tgw_route_table_name(table, region),
                id_path="TransitGatewayRouteTables.0.TransitGatewayRouteTableId",
                region=region,
            ).id
            for table in used
        }
        associations, routes = apply_routing(
            self,
            plan=RegionRouting(
                tables=routing.tables,
                associations={PEERING: PEERING},
                routes={key: route for key, route in routing.routes.items() if route.target == PEERING},
            ),
            tables=tables,
            attachments={PEERING: peering.id},
        )
        # AWS documents the association of the peering attachment before its static routes.
        for route in routes:
            for association in associations:
                route.add_resource_dependency(association)
        harden_provider(self)
