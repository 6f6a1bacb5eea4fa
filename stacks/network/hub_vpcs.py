"""The two hub VPCs of the home region: inspection (AWS Network Firewall) and egress (NAT).

spoke ─► TGW ─► inspection VPC: attachment subnet (AZ x) ─► firewall endpoint (AZ x)
                                firewall subnet ─► TGW ─► egress VPC (or the destination)
egress VPC: attachment subnet (AZ x) ─► NAT gateway (AZ x) ─► internet gateway
"""

from __future__ import annotations

import typing

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_networkfirewall as firewall
from constructs import Construct

from cdk_constructs.deploy_time_lookup import DeployTimeCall, allow
from cdk_constructs.network_vpc import NetworkVpc, name_tag
from org_config.model import Firewall as FirewallSettings
from org_config.model import Vpc


def _suricata(settings: FirewallSettings) -> str:
    """The 5-tuple rules as Suricata rules, in the configured order."""
    lines = []
    for index, rule in enumerate(settings.rules, start=1):
        source = "any" if rule.source == "ANY" else rule.source
        destination = "any" if rule.destination == "ANY" else rule.destination
        port = "any" if rule.port is None else str(rule.port)
        message = rule.description.replace('"', "'").replace(";", ",")
        header = f"{rule.action} {rule.protocol.lower()} {source} any -> {destination} {port}"
        lines.append(f'{header} (msg:"{message}"; sid:{index};)')
    return "\n".join(lines)


class InspectionVpc(NetworkVpc):
    """The VPC of the inspection firewall.

    Each AZ's attachment subnet routes everything to the firewall endpoint in the same
    AZ; the firewall subnets route everything back to the Transit Gateway, whose
    ``inspection`` table sends it on. The attachment has appliance mode on, so the Transit
    Gateway keeps both directions of a flow in one AZ, through one (stateful) endpoint.

    Firewall endpoint ids: Network Firewall exposes them only as an unordered list of
    ``az:endpoint`` strings, so each AZ's route takes its endpoint from a deploy-time
    ``NetworkFirewall.describeFirewall`` call on the firewall's literal name, reading
    ``FirewallStatus.SyncStates.<az>.Attachment.EndpointId`` (the AZ is in the output
    path and in the physical resource id).

    Rules: stateful only, in strict order (the configured 5-tuple rules in order, then the
    domain allow-list); a flow that nothing passes is dropped once established and
    logged (``aws:drop_established``, ``aws:alert_established``). Alert and flow logs go
    to the log-archive flow-log bucket.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        vpc: Vpc,
        zones: typing.Sequence[str],
        flow_log_destination: str,
        log_bucket: str,
        firewall_name: str,
        settings: FirewallSettings,
        supernet: str,
        transit_gateway_id: str,
    ) -> None:
        blocks, attachment_blocks = vpc.subnet_blocks(len(zones))
        super().__init__(
            scope,
            construct_id,
            name=name,
            region=vpc.region,
            cidr=vpc.cidr,
            zones=zones,
            subnet_blocks=blocks,
            attachment_blocks=attachment_blocks,
            tier="firewall",
            flow_log_destination=flow_log_destination,
        )
        self.firewall = self._firewall(firewall_name, settings, supernet)
        self._log_to(log_bucket)
        self.attach(transit_gateway_id=transit_gateway_id, appliance_mode=True)

        firewall_routes = self.route_table("FirewallRoutes", "firewall")
        for subnet in self.subnets.values():
            self.associate(firewall_routes, subnet)
        back_to_tgw = ec2.CfnRoute(
            self,
            "FirewallToTransitGateway",
            route_table_id=firewall_routes.ref,
            destination_cidr_block="0.0.0.0/0",
            transit_gateway_id=transit_gateway_id,
        )
        back_to_tgw.add_resource_dependency(self.attachment)

        self.endpoint_ids: dict[str, str] = self._routes_to_endpoints(firewall_name)

    def _log_to(self, log_bucket: str) -> None:
        """Alert and flow logs of the firewall to the log-archive bucket."""
        firewall.CfnLoggingConfiguration(
            self,
            "FirewallLogs",
            firewall_arn=self.firewall.attr_firewall_arn,
            logging_configuration=firewall.CfnLoggingConfiguration.LoggingConfigurationProperty(
                log_destination_configs=[
                    firewall.CfnLoggingConfiguration.LogDestinationConfigProperty(
                        log_destination={"bucketName": log_bucket},
                        log_destination_type="S3",
                        log_type=log_type,
                    )
                    for log_type in ("ALERT", "FLOW")
                ]
            ),
        )

    def _routes_to_endpoints(self, firewall_name: str) -> dict[str, str]:
        """Each AZ's attachment subnet routes everything to the firewall endpoint of its AZ,
        whose id a deploy-time call reads; the endpoint ids by AZ."""
        stack = Stack.of(self)
        allow(
            stack,
            ["network-firewall:DescribeFirewall"],
            [f"arn:aws:network-firewall:{stack.region}:{stack.account}:firewall/{firewall_name}"],
            "unused: no wildcard",
        )
        endpoint_ids: dict[str, str] = {}
        for zone, subnet in self.attachment_subnets.items():
            path = f"FirewallStatus.SyncStates.{zone}.Attachment.EndpointId"
            lookup = DeployTimeCall(
                self,
                f"FirewallEndpoint{zone[-1].upper()}",
                service="NetworkFirewall",
                action="describeFirewall",
                parameters={"FirewallName": firewall_name},
                physical_id=f"{firewall_name}-endpoint-{zone}",
                output_paths=[path],
            )
            lookup.node.add_dependency(self.firewall)
            endpoint_ids[zone] = lookup.value(path)
            table = self.route_table(f"AttachmentRoutes{zone[-1].upper()}", "attachment", zone)
            self.associate(table, subnet)
            ec2.CfnRoute(
                self,
                f"ToFirewall{zone[-1].upper()}",
                route_table_id=table.ref,
                destination_cidr_block="0.0.0.0/0",
                vpc_endpoint_id=endpoint_ids[zone],
            )
        return endpoint_ids

    def _firewall(self, firewall_name: str, settings: FirewallSettings, supernet: str) -> firewall.CfnFirewall:
        references = []
        priority = 0
        # The 5-tuple rules come first: the domain allow-list drops TLS and HTTP to any
        # other name, which would otherwise also drop the HTTPS that a rule passes on purpose
        # (to on-premises, say).
        if settings.rules:
            priority += 10
            rules = firewall.CfnRuleGroup(
                self,
                "Rules",
                capacity=max(100, 10 * len(settings.rules)),
                rule_group_name=f"{firewall_name}-rules",
                type="STATEFUL",
                description="Stateful rules of the configured segment traffic, in order",
                rule_group=firewall.CfnRuleGroup.RuleGroupProperty(
                    rules_source=firewall.CfnRuleGroup.RulesSourceProperty(rules_string=_suricata(settings)),
                    stateful_rule_options=firewall.CfnRuleGroup.StatefulRuleOptionsProperty(rule_order="STRICT_ORDER"),
                ),
            )
            references.append((rules, priority))
        if settings.allowed_domains:
            priority += 10
            domains = firewall.CfnRuleGroup(
                self,
                "AllowedDomains",
                capacity=max(100, 2 * len(settings.allowed_domains)),
                rule_group_name=f"{firewall_name}-allowed-domains",
                type="STATEFUL",
                description="Hostnames that inspected traffic may reach (TLS SNI and HTTP Host)",
                rule_group=firewall.CfnRuleGroup.RuleGroupProperty(
                    rule_variables=firewall.CfnRuleGroup.RuleVariablesProperty(
                        ip_sets={"HOME_NET": firewall.CfnRuleGroup.IPSetProperty(definition=[supernet])}
                    ),
                    rules_source=firewall.CfnRuleGroup.RulesSourceProperty(
                        rules_source_list=firewall.CfnRuleGroup.RulesSourceListProperty(
                            generated_rules_type="ALLOWLIST",
                            target_types=["TLS_SNI", "HTTP_HOST"],
                            targets=list(settings.allowed_domains),
                        )
                    ),
                    stateful_rule_options=firewall.CfnRuleGroup.StatefulRuleOptionsProperty(rule_order="STRICT_ORDER"),
                ),
            )
            references.append((domains, priority))
        policy = firewall.CfnFirewallPolicy(
            self,
            "Policy",
            firewall_policy_name=f"{firewall_name}-policy",
            firewall_policy=firewall.CfnFirewallPolicy.FirewallPolicyProperty(
                # Every packet goes to the stateful engine; the stateful rules decide.
                stateless_default_actions=["aws:forward_to_sfe"],
                stateless_fragment_default_actions=["aws:forward_to_sfe"],
                stateful_engine_options=firewall.CfnFirewallPolicy.StatefulEngineOptionsProperty(
                    rule_order="STRICT_ORDER"
                ),
                stateful_default_actions=["aws:drop_established", "aws:alert_established"],
                stateful_rule_group_references=[
                    firewall.CfnFirewallPolicy.StatefulRuleGroupReferenceProperty(
                        resource_arn=group.attr_rule_group_arn, priority=rank
                    )
                    for group, rank in references
                ],
            ),
        )
        result = firewall.CfnFirewall(
            self,
            "Firewall",
            firewall_name=firewall_name,
            firewall_policy_arn=policy.attr_firewall_policy_arn,
            vpc_id=self.vpc.ref,
            subnet_mappings=[
                firewall.CfnFirewall.SubnetMappingProperty(subnet_id=subnet.ref) for subnet in self.subnets.values()
            ],
            delete_protection=True,  # the only path to the internet and on-premises
            description="Inspects traffic between segments, to on-premises and to the internet",
            tags=name_tag(firewall_name),
        )
        return result


class EgressVpc(NetworkVpc):
    """The one way out to the internet: a NAT gateway per AZ behind the firewall.

    Each AZ's attachment subnet routes to the NAT gateway of its AZ (an AZ failure
    takes only its own NAT gateway); the public subnets route to the internet gateway and
    send replies for the supernet back to the Transit Gateway (whose ``egress`` table
    sends them through the firewall again). Nothing on the internet can open a connection
    inward: a NAT gateway only translates flows that started inside.

    The ``egress`` table's routes into the spokes stay although they also let the egress
    VPC send into a spoke: they carry the NAT gateways' replies, which a route cannot tell
    from new connections, and a spoke's reply to anything the egress VPC opens is
    blackholed (the spoke's table drops the supernet). Only NAT gateways live here.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        vpc: Vpc,
        zones: typing.Sequence[str],
        flow_log_destination: str,
        supernet: str,
        transit_gateway_id: str,
    ) -> None:
        blocks, attachment_blocks = vpc.subnet_blocks(len(zones))
        super().__init__(
            scope,
            construct_id,
            name=name,
            region=vpc.region,
            cidr=vpc.cidr,
            zones=zones,
            subnet_blocks=blocks,
            attachment_blocks=attachment_blocks,
            tier="public",
            flow_log_destination=flow_log_destination,
        )
        self.internet_gateway = ec2.CfnInternetGateway(self, "InternetGateway", tags=name_tag(f"{self.name}-igw"))
        gateway_attachment = ec2.CfnVPCGatewayAttachment(
            self, "InternetGatewayAttachment", vpc_id=self.vpc.ref, internet_gateway_id=self.internet_gateway.ref
        )
        self.attach(transit_gateway_id=transit_gateway_id)

        public_routes = self.route_table("PublicRoutes", "public")
        for subnet in self.subnets.values():
            self.associate(public_routes, subnet)
        to_internet = ec2.CfnRoute(
            self,
            "PublicToInternet",
            route_table_id=public_routes.ref,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=self.internet_gateway.ref,
        )
        to_internet.add_resource_dependency(gateway_attachment)
        replies = ec2.CfnRoute(
            self,
            "PublicRepliesToTransitGateway",
            route_table_id=public_routes.ref,
            destination_cidr_block=supernet,
            transit_gateway_id=transit_gateway_id,
        )
        replies.add_resource_dependency(self.attachment)

        self.nat_gateways: dict[str, ec2.CfnNatGateway] = {}
        for zone, subnet in self.subnets.items():
            letter = zone[-1].upper()
            address = ec2.CfnEIP(
                self, f"NatAddress{letter}", domain="vpc", tags=name_tag(f"{self.name}-nat-{zone[-1]}")
            )
            address.add_resource_dependency(gateway_attachment)
            nat = ec2.CfnNatGateway(
                self,
                f"NatGateway{letter}",
                subnet_id=subnet.ref,
                allocation_id=address.attr_allocation_id,
                connectivity_type="public",
                tags=name_tag(f"{self.name}-nat-{zone[-1]}"),
            )
            self.nat_gateways[zone] = nat
            table = self.route_table(f"AttachmentRoutes{letter}", "attachment", zone)
            self.associate(table, self.attachment_subnets[zone])
            ec2.CfnRoute(
                self,
                f"ToNatGateway{letter}",
                route_table_id=table.ref,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.ref,
            )
