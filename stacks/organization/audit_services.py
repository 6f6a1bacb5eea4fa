"""Organization-wide views in the audit account, its delegated administrator.

audit account
├── Config aggregator ◄── every account, every region (organization source)
└── Access Analyzer (organization zone of trust) ── findings for access from outside
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_accessanalyzer as accessanalyzer
from aws_cdk import aws_config as config_service
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag
from org_config.model import OrgConfig


class AuditServicesStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        prefix = config.organization.name_prefix
        aggregator_role = iam.Role(
            self,
            "ConfigAggregatorRole",
            assumed_by=iam.ServicePrincipal("config.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSConfigRoleForOrganizations")
            ],
            description="Lets AWS Config list the organization's accounts for the aggregator",
        )
        acknowledge_nag(
            aggregator_role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSConfigRoleForOrganizations]",
            "AWS Config's own policy for organization aggregators: read-only Organizations describe/list calls.",
        )
        config_service.CfnConfigurationAggregator(
            self,
            "OrganizationAggregator",
            configuration_aggregator_name=f"{prefix}-organization",
            organization_aggregation_source=config_service.CfnConfigurationAggregator.OrganizationAggregationSourceProperty(
                role_arn=aggregator_role.role_arn,
                all_aws_regions=True,
            ),
        )
        accessanalyzer.CfnAnalyzer(
            self,
            "OrganizationAnalyzer",
            analyzer_name=f"{prefix}-organization",
            type="ORGANIZATION",
        )
