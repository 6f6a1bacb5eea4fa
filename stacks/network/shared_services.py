"""What the shared-services VPC serves to every spoke of the home region.

    spoke ──DNS──► private hosted zone ssm.eu-west-1.amazonaws.com ─► endpoint in shared-services
    spoke ──DNS──► Resolver rule corp.example.com ─► outbound endpoint ─► on-premises resolvers
                   (only the spokes whose segment may reach on-premises)
    on-premises ──DNS──► inbound endpoint (shared-services) ─► private zones of the VPCs

Interface endpoints are created once, centrally, with private DNS off; a private hosted
zone per service, associated with every spoke, answers the service's regional name with
the central endpoint, so a spoke needs no endpoint of its own (each costs per AZ-hour).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Fn, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ram as ram
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53resolver as resolver
from constructs import Construct

from cdk_constructs.network_vpc import NetworkVpc, name_tag
from org_config.model import OnPremisesDns


class CentralEndpoints(Construct):
    """Interface endpoints in ``host`` with a private hosted zone per service, associated
    with ``vpc_ids`` (the spokes). Only the supernet may connect, on 443."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        host: NetworkVpc,
        services: Sequence[str],
        vpc_ids: Sequence[str],
        supernet: str,
    ) -> None:
        super().__init__(scope, construct_id)
        region = Stack.of(self).region
        self.security_group = ec2.CfnSecurityGroup(
            self,
            "EndpointSecurityGroup",
            group_description="Interface endpoints: HTTPS from the VPCs of the organization",
            vpc_id=host.vpc.ref,
            security_group_ingress=[
                ec2.CfnSecurityGroup.IngressProperty(
                    ip_protocol="tcp", from_port=443, to_port=443, cidr_ip=supernet, description="HTTPS from the VPCs"
                )
            ],
            security_group_egress=[
                # Endpoints answer requests; they open no connection of their own.
                ec2.CfnSecurityGroup.EgressProperty(
                    ip_protocol="icmp", from_port=-1, to_port=-1, cidr_ip="127.0.0.1/32", description="No egress"
                )
            ],
            tags=name_tag(f"{host.name}-endpoints"),
        )
        for service in services:
            key = "".join(part.capitalize() for part in service.replace(".", "-").split("-"))
            endpoint = ec2.CfnVPCEndpoint(
                self,
                f"{key}Endpoint",
                vpc_id=host.vpc.ref,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=False,  # the central private hosted zone answers instead
                subnet_ids=[subnet.ref for subnet in host.subnets.values()],
                security_group_ids=[self.security_group.attr_group_id],
            )
            zone = route53.CfnHostedZone(
                self,
                f"{key}Zone",
                name=f"{service}.{region}.amazonaws.com",
                hosted_zone_config=route53.CfnHostedZone.HostedZoneConfigProperty(
                    comment=f"Answers {service} with the central interface endpoint"
                ),
                vpcs=[route53.CfnHostedZone.VPCProperty(vpc_id=vpc_id, vpc_region=region) for vpc_id in vpc_ids],
            )
            # DnsEntries[0] is the endpoint's regional name, "<zone id>:<dns name>".
            regional = Fn.select(0, endpoint.attr_dns_entries)
            route53.CfnRecordSet(
                self,
                f"{key}Record",
                hosted_zone_id=zone.attr_id,
                name=f"{service}.{region}.amazonaws.com",
                type="A",
                alias_target=route53.CfnRecordSet.AliasTargetProperty(
                    dns_name=Fn.select(1, Fn.split(":", regional)),
                    hosted_zone_id=Fn.select(0, Fn.split(":", regional)),
                    evaluate_target_health=False,
                ),
            )


class HybridDns(Construct):
    """Route 53 Resolver endpoints in ``host`` and a forwarding rule for the on-premises
    domain, associated with ``vpc_ids`` only (the VPCs whose segment may reach
    on-premises: the rule forwards a VPC's queries from the outbound endpoint, so the
    segment policy's packet routes do not stop them) and shared through RAM with the
    organization (so a VPC outside the CIDR plan, owned by a member account, can
    associate it too)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        host: NetworkVpc,
        dns: OnPremisesDns,
        on_premises: Sequence[str],
        vpc_ids: Mapping[str, str],
        organization_arn: str | None,
        name_prefix: str,
    ) -> None:
        super().__init__(scope, construct_id)
        inbound_group, outbound_group = self._security_groups(host, dns, on_premises)
        addresses = [
            resolver.CfnResolverEndpoint.IpAddressRequestProperty(subnet_id=subnet.ref)
            for subnet in host.subnets.values()
        ]
        self.inbound = resolver.CfnResolverEndpoint(
            self,
            "Inbound",
            direction="INBOUND",
            name=f"{host.name}-inbound",
            ip_addresses=addresses,
            security_group_ids=[inbound_group.attr_group_id],
            tags=name_tag(f"{host.name}-resolver-inbound"),
        )
        self.outbound = resolver.CfnResolverEndpoint(
            self,
            "Outbound",
            direction="OUTBOUND",
            name=f"{host.name}-outbound",
            ip_addresses=addresses,
            security_group_ids=[outbound_group.attr_group_id],
            tags=name_tag(f"{host.name}-resolver-outbound"),
        )
        self.rule = resolver.CfnResolverRule(
            self,
            "ForwardOnPremises",
            domain_name=dns.domain,
            rule_type="FORWARD",
            name=f"{name_prefix}-forward-{dns.domain.replace('.', '-')}",
            resolver_endpoint_id=self.outbound.attr_resolver_endpoint_id,
            target_ips=[resolver.CfnResolverRule.TargetAddressProperty(ip=ip, port="53") for ip in dns.resolvers],
            tags=name_tag(f"{name_prefix}-forward-{dns.domain}"),
        )
        for key, vpc_id in vpc_ids.items():
            resolver.CfnResolverRuleAssociation(
                self,
                f"Association-{key}",
                name=f"{key}-{dns.domain.replace('.', '-')}",
                resolver_rule_id=self.rule.attr_resolver_rule_id,
                vpc_id=vpc_id,
            )
        if organization_arn is not None:  # None in the sandbox profile: nothing to share with
            ram.CfnResourceShare(
                self,
                "RuleShare",
                name=f"{name_prefix}-forward-{dns.domain.replace('.', '-')}",
                allow_external_principals=False,
                principals=[organization_arn],
                resource_arns=[self.rule.attr_arn],
            )

    def _security_groups(
        self, host: NetworkVpc, dns: OnPremisesDns, on_premises: Sequence[str]
    ) -> tuple[ec2.CfnSecurityGroup, ec2.CfnSecurityGroup]:
        """The inbound endpoint takes DNS from on-premises only; the outbound endpoint sends
        DNS to the on-premises resolvers only."""
        dns_ports = [("udp", "DNS over UDP"), ("tcp", "DNS over TCP")]
        inbound_group = ec2.CfnSecurityGroup(
            self,
            "InboundSecurityGroup",
            group_description="Resolver inbound endpoint: DNS from on-premises",
            vpc_id=host.vpc.ref,
            security_group_ingress=[
                ec2.CfnSecurityGroup.IngressProperty(
                    ip_protocol=protocol, from_port=53, to_port=53, cidr_ip=cidr, description=f"{text} from {cidr}"
                )
                for cidr in on_premises
                for protocol, text in dns_ports
            ],
            security_group_egress=[
                ec2.CfnSecurityGroup.EgressProperty(
                    ip_protocol="icmp", from_port=-1, to_port=-1, cidr_ip="127.0.0.1/32", description="No egress"
                )
            ],
            tags=name_tag(f"{host.name}-resolver-inbound"),
        )
        outbound_group = ec2.CfnSecurityGroup(
            self,
            "OutboundSecurityGroup",
            group_description="Resolver outbound endpoint: DNS to the on-premises resolvers only",
            vpc_id=host.vpc.ref,
            security_group_egress=[
                ec2.CfnSecurityGroup.EgressProperty(
                    ip_protocol=protocol,
                    from_port=53,
                    to_port=53,
                    cidr_ip=f"{address}/32",
                    description=f"{text} to {address}",
                )
                for address in dns.resolvers
                for protocol, text in dns_ports
            ],
            tags=name_tag(f"{host.name}-resolver-outbound"),
        )
        return inbound_group, outbound_group
