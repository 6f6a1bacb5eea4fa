"""VPCs of the CIDR plan, built from L1 resources so every name, AZ and route is explicit.

``ec2.Vpc`` would pick AZs by lookup, add an internet gateway and NAT gateways unless
told otherwise, and name subnets itself; here the config decides all of it.

:class:`NetworkVpc` is the part every VPC shares; :class:`SpokeVpc` is a workload VPC.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aws_cdk import Acknowledgment, CfnTag, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ram as ram
from constructs import Construct

from cdk_constructs.deploy_time_lookup import DeployTimeCall, allow
from cdk_constructs.network.gateway_endpoint_policy import gateway_endpoint_policy
from org_config.names import route_table_name, subnet_name, tgw_attachment_name, vpc_name


def name_tag(name: str) -> list[CfnTag]:
    return [CfnTag(key="Name", value=name)]


class NetworkVpc(Construct):
    """A VPC with one subnet per AZ for its tier and one /28 attachment subnet per AZ.

    Secure defaults:

    * flow logs of all traffic to ``flow_log_destination`` (the log-archive bucket);
    * the default security group loses its rules (a deploy-time call: CloudFormation
      cannot remove them), so nothing launched without a security group can talk;
    * no internet gateway, no NAT gateway, no public IP on launch: a VPC that needs them
      (the egress VPC) adds them visibly.

    ``vpc``, ``subnets`` (tier, by AZ) and ``attachment_subnets`` (by AZ) are the L1
    resources; ``name`` is the VPC's Name tag; ``attachment`` is set by :meth:`attach`.
    """

    attachment: ec2.CfnTransitGatewayVpcAttachment

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        region: str,
        cidr: str,
        zones: Sequence[str],
        subnet_blocks: Sequence[ipaddress.IPv4Network],
        attachment_blocks: Sequence[ipaddress.IPv4Network],
        tier: str,
        flow_log_destination: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.name = vpc_name(name, region)
        self.vpc_key = name
        self.region = region
        self.zones = tuple(zones)
        self.tier = tier
        self.vpc = ec2.CfnVPC(
            self,
            "Vpc",
            cidr_block=cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=name_tag(self.name),
        )
        self.subnets: dict[str, ec2.CfnSubnet] = {}
        self.attachment_subnets: dict[str, ec2.CfnSubnet] = {}
        for zone, block, attachment in zip(zones, subnet_blocks, attachment_blocks, strict=True):
            self.subnets[zone] = self._subnet(tier, zone, block)
            self.attachment_subnets[zone] = self._subnet("attachment", zone, attachment)
        ec2.CfnFlowLog(
            self,
            "FlowLog",
            resource_id=self.vpc.ref,
            resource_type="VPC",
            traffic_type="ALL",
            log_destination_type="s3",
            log_destination=flow_log_destination,
            max_aggregation_interval=60,
            tags=name_tag(f"{self.name}-flow-log"),
        )
        self._restrict_default_security_group()

    def _subnet(self, tier: str, zone: str, block: ipaddress.IPv4Network) -> ec2.CfnSubnet:
        subnet = ec2.CfnSubnet(
            self,
            f"{tier.capitalize()}Subnet{zone[-1].upper()}",
            vpc_id=self.vpc.ref,
            cidr_block=str(block),
            availability_zone=zone,
            map_public_ip_on_launch=False,
            tags=name_tag(subnet_name(self.vpc_key, self.region, tier, zone)),
        )
        # The AZ names come from the config on purpose (offline synth, no lookup).
        reason = "Availability zones are named in the config so that synth needs no lookup."
        subnet.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3010"]}})
        Validations.of(subnet).acknowledge(Acknowledgment(id="CloudFormation-Validate::W3010", reason=reason))
        return subnet

    def route_table(self, construct_id: str, tier: str, zone: str | None = None) -> ec2.CfnRouteTable:
        return ec2.CfnRouteTable(
            self,
            construct_id,
            vpc_id=self.vpc.ref,
            tags=name_tag(route_table_name(self.vpc_key, self.region, tier, zone)),
        )

    def associate(self, table: ec2.CfnRouteTable, subnet: ec2.CfnSubnet) -> None:
        ec2.CfnSubnetRouteTableAssociation(
            self,
            f"{subnet.node.id}Routes",
            route_table_id=table.ref,
            subnet_id=subnet.ref,
        )

    def _restrict_default_security_group(self) -> None:
        stack = Stack.of(self)
        group = self.vpc.attr_default_security_group
        allow(
            stack,
            ["ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"],
            [f"arn:aws:ec2:{stack.region}:{stack.account}:security-group/*"],
            "The default security group's id is known only at deploy time; the role may revoke rules only.",
        )
        # The default group allows all traffic from itself and all traffic out; both go.
        DeployTimeCall(
            self,
            "RestrictDefaultSecurityGroupIngress",
            service="EC2",
            action="revokeSecurityGroupIngress",
            parameters={
                "GroupId": group,
                "IpPermissions": [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group}]}],
            },
            physical_id=f"{self.name}-default-sg-ingress",
            ignore_errors="InvalidPermission.NotFound",
        )
        DeployTimeCall(
            self,
            "RestrictDefaultSecurityGroupEgress",
            service="EC2",
            action="revokeSecurityGroupEgress",
            parameters={
                "GroupId": group,
                "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            },
            physical_id=f"{self.name}-default-sg-egress",
            ignore_errors="InvalidPermission.NotFound",
        )

    def attach(
        self,
        *,
        transit_gateway_id: str,
        appliance_mode: bool = False,
    ) -> ec2.CfnTransitGatewayVpcAttachment:
        """Attach the VPC to the Transit Gateway through its attachment subnets."""
        self.attachment = ec2.CfnTransitGatewayVpcAttachment(
            self,
            "Attachment",
            transit_gateway_id=transit_gateway_id,
            vpc_id=self.vpc.ref,
            subnet_ids=[s.ref for s in self.attachment_subnets.values()],
            options={"ApplianceModeSupport": "enable" if appliance_mode else "disable", "DnsSupport": "enable"},
            tags=name_tag(tgw_attachment_name(self.vpc_key, self.region)),
        )
        return self.attachment


class SpokeVpc(NetworkVpc):
    """A workload VPC: no internet gateway, no NAT; everything outside it through the
    Transit Gateway, except S3 and DynamoDB.

    Secure defaults beyond :class:`NetworkVpc`:

    * one route table for all subnets, whose only route out of the VPC is a default
      route to the Transit Gateway (the Transit Gateway route table of the VPC's segment
      decides what is reachable);
    * gateway endpoints for S3 and DynamoDB on that table (gateway endpoints cannot be
      reached through a Transit Gateway, and they cost nothing), each with a policy that
      allows only the resources of ``organization_id`` (of ``account_id`` in the sandbox
      profile, which has no organization) and, for S3, reading the
      AWS-owned ``aws_buckets`` (see :mod:`cdk_constructs.network.gateway_endpoint_policy`):
      what bypasses the firewall cannot reach another account's bucket or table;
    * the workload subnets shared through RAM only with ``share_with`` (an account id of
      this organization), never with external principals.

    ``attachment`` is the Transit Gateway attachment, ``private_routes`` the VPC's table and
    ``gateway_endpoints`` the two endpoints by service.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        region: str,
        cidr: str,
        zones: Sequence[str],
        subnet_blocks: Sequence[ipaddress.IPv4Network],
        attachment_blocks: Sequence[ipaddress.IPv4Network],
        flow_log_destination: str,
        transit_gateway_id: str,
        share_with: str | None,
        organization_id: str,
        aws_buckets: Sequence[str],
        account_id: str | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            name=name,
            region=region,
            cidr=cidr,
            zones=zones,
            subnet_blocks=subnet_blocks,
            attachment_blocks=attachment_blocks,
            tier="private",
            flow_log_destination=flow_log_destination,
        )
        stack = Stack.of(self)
        self.private_routes = self.route_table("PrivateRoutes", "private")
        # The attachment subnets share the table: what leaves the VPC goes to the Transit
        # Gateway either way, and one table keeps the VPC's routing in one place.
        for subnet in (*self.subnets.values(), *self.attachment_subnets.values()):
            self.associate(self.private_routes, subnet)
        self.attach(transit_gateway_id=transit_gateway_id)
        default_route = ec2.CfnRoute(
            self,
            "DefaultRouteToTransitGateway",
            route_table_id=self.private_routes.ref,
            destination_cidr_block="0.0.0.0/0",
            transit_gateway_id=transit_gateway_id,
        )
        default_route.add_resource_dependency(self.attachment)  # a route to a TGW needs the attachment first
        self.gateway_endpoints: dict[str, ec2.CfnVPCEndpoint] = {}
        for service in ("s3", "dynamodb"):
            self.gateway_endpoints[service] = ec2.CfnVPCEndpoint(
                self,
                f"{service.capitalize()}Endpoint",
                vpc_id=self.vpc.ref,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=[self.private_routes.ref],
                policy_document=gateway_endpoint_policy(
                    service, organization_id=organization_id, aws_buckets=aws_buckets, account_id=account_id
                ),
            )
        if share_with is not None:
            ram.CfnResourceShare(
                self,
                "SubnetShare",
                name=f"{self.name}-subnets",
                allow_external_principals=False,
                principals=[share_with],
                resource_arns=[
                    f"arn:{stack.partition}:ec2:{region}:{stack.account}:subnet/{subnet.ref}"
                    for subnet in self.subnets.values()
                ],
                tags=name_tag(f"{self.name}-subnets"),
            )
