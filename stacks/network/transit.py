"""A region's Transit Gateway and its route tables, and the routing plan applied to them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ram as ram
from constructs import Construct

from cdk_constructs.network_vpc import name_tag
from org_config.names import tgw_route_table_name
from stacks.network.routing import RegionRouting, StaticRoute


class TransitGatewayHub(Construct):
    """A Transit Gateway with one route table per entry of ``tables``.

    * default route table association and propagation off: every attachment is placed in
      a table on purpose, never in a default one where it would reach everything;
    * shared through RAM with the organization only (no external principals);
    * attachments from other accounts are not accepted automatically: every VPC of the
      CIDR plan is the network account's own (its attachments need no acceptance), so a
      request from elsewhere is unexpected and waits for a network engineer;
    * flow logs to the log-archive bucket.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        asn: int,
        region: str,
        tables: Sequence[str],
        flow_log_destination: str,
        organization_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.gateway = ec2.CfnTransitGateway(
            self,
            "Gateway",
            amazon_side_asn=asn,
            auto_accept_shared_attachments="disable",
            default_route_table_association="disable",
            default_route_table_propagation="disable",
            dns_support="enable",
            vpn_ecmp_support="enable",  # both VPN tunnels carry traffic (BGP)
            multicast_support="disable",
            description=f"Hub of the organization's networks in {region}",
            tags=name_tag(name),
        )
        ec2.CfnFlowLog(
            self,
            "FlowLog",
            resource_id=self.gateway.ref,
            resource_type="TransitGateway",
            traffic_type="ALL",
            log_destination_type="s3",
            log_destination=flow_log_destination,
            max_aggregation_interval=60,  # the only interval Transit Gateway flow logs support
            tags=name_tag(f"{name}-flow-log"),
        )
        if organization_arn is not None:  # None in the sandbox profile: nothing to share with
            ram.CfnResourceShare(
                self,
                "Share",
                name=name,
                allow_external_principals=False,
                principals=[organization_arn],
                resource_arns=[
                    f"arn:{stack.partition}:ec2:{region}:{stack.account}:transit-gateway/{self.gateway.ref}"
                ],
                tags=name_tag(name),
            )
        self.tables: dict[str, str] = {}
        for table in tables:
            resource = ec2.CfnTransitGatewayRouteTable(
                self,
                f"RouteTable-{table}",
                transit_gateway_id=self.gateway.ref,
                tags=name_tag(tgw_route_table_name(table, region)),
            )
            self.tables[table] = resource.ref


def apply_routing(
    scope: Construct,
    *,
    plan: RegionRouting,
    tables: Mapping[str, str],
    attachments: Mapping[str, str],
    include_route: Callable[[StaticRoute], bool] = lambda route: True,
) -> tuple[list[ec2.CfnTransitGatewayRouteTableAssociation], list[ec2.CfnTransitGatewayRoute]]:
    """Associations, propagations and static routes of ``plan`` for the attachments and
    tables given (by key); routes that ``include_route`` rejects are left to another stack.
    Returns the associations and the routes created."""
    associations: list[ec2.CfnTransitGatewayRouteTableAssociation] = []
    routes: list[ec2.CfnTransitGatewayRoute] = []
    for key, table in sorted(plan.associations.items()):
        if key in attachments and table in tables:
            association = ec2.CfnTransitGatewayRouteTableAssociation(
                scope,
                f"Associate-{key}",
                transit_gateway_attachment_id=attachments[key],
                transit_gateway_route_table_id=tables[table],
            )
            associations.append(association)
    for propagation in sorted(plan.propagations):
        if propagation.attachment in attachments and propagation.table in tables:
            ec2.CfnTransitGatewayRouteTablePropagation(
                scope,
                f"Propagate-{propagation.attachment}-to-{propagation.table}",
                transit_gateway_attachment_id=attachments[propagation.attachment],
                transit_gateway_route_table_id=tables[propagation.table],
            )
    for route in plan.static_routes:
        if not include_route(route) or route.table not in tables:
            continue
        # 10.1.0.0/16 -> 10x1x0x0n16: logical IDs keep letters and digits only, and must
        # still tell 10.1.0.0/16 from 10.10.0.0/6.
        construct_id = f"Route-{route.table}-{route.cidr.replace('.', 'x').replace('/', 'n')}"
        if route.target is None:
            created = ec2.CfnTransitGatewayRoute(
                scope,
                construct_id,
                transit_gateway_route_table_id=tables[route.table],
                destination_cidr_block=route.cidr,
                blackhole=True,
            )
        else:
            created = ec2.CfnTransitGatewayRoute(
                scope,
                construct_id,
                transit_gateway_route_table_id=tables[route.table],
                destination_cidr_block=route.cidr,
                transit_gateway_attachment_id=attachments[route.target],
            )
        routes.append(created)
    return associations, routes
