"""Organization-wide security services, switched on from the management account.

    management account
    ├── trusted access for each service ──┐  (Organizations API: no CloudFormation
    ├── policy types on the root          ├── resource exists, so each call is a CDK
    ├── delegated administrators ─────────┘   AwsCustomResource)
    │     Security Hub (CloudFormation resource), GuardDuty, Config, Access Analyzer → audit
    └── organization CloudTrail ─► log-archive bucket, encrypted with the log-archive key

Removing this stack leaves these settings in place on purpose: turning security services
off should take a deliberate act, not a stack deletion.
"""

from __future__ import annotations

import typing
from typing import Any

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_securityhub as securityhub
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag, exempt_control, skip_checkov
from org_config.model import AccountRole, OrgConfig
from org_config.names import ORGANIZATION_TRAIL_NAME, log_bucket_name, log_key_alias

# Construct id of the singleton function that aws-cdk-lib creates for AwsCustomResource.
PROVIDER_ID = "AWS679f53fac002430cb0da5b7982bd2287"

# Services that act across the organization and need trusted access.
TRUSTED_SERVICES: tuple[str, ...] = (
    "access-analyzer.amazonaws.com",
    "backup.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "config-multiaccountsetup.amazonaws.com",
    "config.amazonaws.com",
    "guardduty.amazonaws.com",
    "member.org.stacksets.cloudformation.amazonaws.com",
    "securityhub.amazonaws.com",
    "sso.amazonaws.com",
)
POLICY_TYPES: tuple[str, ...] = ("SERVICE_CONTROL_POLICY", "TAG_POLICY", "BACKUP_POLICY")
# Services whose delegated administrator is registered through Organizations itself.
DELEGATED_THROUGH_ORGANIZATIONS: tuple[str, ...] = (
    "access-analyzer.amazonaws.com",
    "config.amazonaws.com",
    "config-multiaccountsetup.amazonaws.com",
)


class OrganizationServicesStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        audit = config.account(AccountRole.AUDIT).id
        log_archive = config.account(AccountRole.LOG_ARCHIVE).id
        home = config.regions.home

        management = config.account(AccountRole.MANAGEMENT).id
        org_id = config.organization.id
        root_arn = f"arn:aws:organizations::{management}:root/{org_id}/{config.organization.root_id}"
        audit_arn = f"arn:aws:organizations::{management}:account/{org_id}/{audit}"

        def organizations_call(
            construct_id: str, action: str, parameters: dict[str, str], ignore: str, permission: iam.PolicyStatement
        ) -> None:
            call = cr.AwsSdkCall(
                service="Organizations",
                action=action,
                parameters=parameters,
                physical_resource_id=cr.PhysicalResourceId.of(f"{action}-{'-'.join(parameters.values())}"),
                ignore_error_codes_matching=ignore,  # already done by hand or an earlier deploy
                region="us-east-1",  # the Organizations endpoint
            )
            custom_resource = cr.AwsCustomResource(
                self,
                construct_id,
                on_create=call,
                on_update=call,
                policy=cr.AwsCustomResourcePolicy.from_statements([permission]),
                install_latest_aws_sdk=False,  # offline synth; the Lambda runtime's SDK has these calls
            )
            if "*" in permission.resources:
                acknowledge_nag(
                    custom_resource,
                    "AwsSolutions-IAM5[Resource::*]",
                    f"organizations:{action[0].upper()}{action[1:]} has no resource type; a condition scopes it.",
                )
                skip_checkov(
                    custom_resource.node.find_child("CustomResourcePolicy").node.default_child,  # type: ignore[arg-type]
                    "CKV_AWS_111",
                    f"organizations:{action[0].upper()}{action[1:]} has no resource type; a condition scopes it.",
                )

        for service in TRUSTED_SERVICES:
            organizations_call(
                f"TrustedAccess-{service}",
                "enableAWSServiceAccess",
                {"ServicePrincipal": service},
                "^$",
                iam.PolicyStatement(
                    actions=["organizations:EnableAWSServiceAccess"],
                    resources=["*"],  # the action has no resource type; the condition scopes it
                    conditions={"StringEquals": {"organizations:ServicePrincipal": service}},
                ),
            )
        for policy_type in POLICY_TYPES:
            organizations_call(
                f"PolicyType-{policy_type}",
                "enablePolicyType",
                {"RootId": config.organization.root_id, "PolicyType": policy_type},
                "PolicyTypeAlreadyEnabledException",
                iam.PolicyStatement(
                    actions=["organizations:EnablePolicyType"],
                    resources=[root_arn],
                    conditions={"StringEquals": {"organizations:PolicyType": policy_type}},
                ),
            )
        for service in DELEGATED_THROUGH_ORGANIZATIONS:
            organizations_call(
                f"DelegatedAdmin-{service}",
                "registerDelegatedAdministrator",
                {"AccountId": audit, "ServicePrincipal": service},
                "AccountAlreadyRegisteredException",
                iam.PolicyStatement(
                    actions=["organizations:RegisterDelegatedAdministrator"],
                    resources=[audit_arn],
                    conditions={"StringEquals": {"organizations:ServicePrincipal": service}},
                ),
            )

        securityhub.CfnDelegatedAdmin(self, "SecurityHubDelegatedAdmin", admin_account_id=audit)

        guardduty_call = cr.AwsSdkCall(
            service="GuardDuty",
            action="enableOrganizationAdminAccount",
            parameters={"AdminAccountId": audit},
            physical_resource_id=cr.PhysicalResourceId.of(f"guardduty-admin-{audit}-{home}"),
            ignore_error_codes_matching="BadRequestException",  # already the administrator
        )
        guardduty_admin = cr.AwsCustomResource(
            self,
            "GuardDutyDelegatedAdmin",
            on_create=guardduty_call,
            on_update=guardduty_call,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    # GuardDuty registers the administrator through Organizations itself.
                    iam.PolicyStatement(actions=["guardduty:EnableOrganizationAdminAccount"], resources=["*"]),
                    iam.PolicyStatement(
                        actions=[
                            "organizations:EnableAWSServiceAccess",
                            "organizations:RegisterDelegatedAdministrator",
                        ],
                        resources=["*"],
                        conditions={"StringEquals": {"organizations:ServicePrincipal": "guardduty.amazonaws.com"}},
                    ),
                    iam.PolicyStatement(
                        actions=["organizations:DescribeOrganization", "organizations:ListDelegatedAdministrators"],
                        resources=["*"],
                    ),
                ]
            ),
            install_latest_aws_sdk=False,
        )
        guardduty_reason = (
            "EnableOrganizationAdminAccount has no resource type; the Organizations calls are scoped by condition."
        )
        skip_checkov(
            guardduty_admin.node.find_child("CustomResourcePolicy").node.default_child,  # type: ignore[arg-type]
            "CKV_AWS_111",
            guardduty_reason,
        )
        acknowledge_nag(guardduty_admin, "AwsSolutions-IAM5[Resource::*]", guardduty_reason)

        # The organization trail: every account, every region, with log file validation,
        # into the log-archive bucket under the log-archive key (names from the config).
        self.trail = cloudtrail.CfnTrail(
            self,
            "OrganizationTrail",
            trail_name=ORGANIZATION_TRAIL_NAME,
            is_logging=True,
            is_organization_trail=True,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            s3_bucket_name=log_bucket_name(config, "cloudtrail"),
            kms_key_id=f"arn:aws:kms:{home}:{log_archive}:{log_key_alias(config)}",
        )
        exempt_control(
            self.trail,
            "CT.CLOUDTRAIL.PR.3",
            "The organization trail delivers to the log-archive bucket only; no CloudWatch Logs "
            "delivery or metric-filter alarms are configured for it in this stack.",
        )
        self._harden_custom_resource_provider()

    def _harden_custom_resource_provider(self) -> None:
        """Accept, with reasons, what the CDK's shared AwsCustomResource function cannot change."""
        provider = self.node.find_child(PROVIDER_ID)
        function = provider.node.find_child("Resource")
        # The function's GetAtt on its role already orders them; the explicit DependsOn the
        # CDK adds on its only dependency, the role, is redundant (cfn-lint W3005).
        typing.cast(CfnResource, function).add_deletion_override("DependsOn")
        reasons = {
            "CKV_AWS_115": "Runs only during deployments, once per custom resource; a concurrency cap adds nothing.",
            "CKV_AWS_116": "A failed call fails the CloudFormation deployment; a DLQ would hold nothing to act on.",
            "CKV_AWS_117": "Calls only public AWS APIs (Organizations, GuardDuty); there is nothing in a VPC to reach.",
            "CKV_AWS_173": "The function has no environment variables with secrets; the CDK sets none.",
        }
        for check, reason in reasons.items():
            skip_checkov(typing.cast(CfnResource, function), check, reason)
        exempt_control(function, "CT.LAMBDA.PR.3", reasons["CKV_AWS_117"])
        acknowledge_nag(
            provider,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "The CDK's AwsCustomResource provider writes only its own logs with this AWS-managed policy.",
        )
        log_group = provider.node.try_find_child("LogGroup")
        if log_group is not None:
            reason = "Holds only the provider's API call logs, no customer data; CloudWatch Logs encrypts it at rest."
            skip_checkov(typing.cast(CfnResource, log_group.node.default_child), "CKV_AWS_158", reason)
            exempt_control(log_group, "CT.CLOUDWATCH.PR.3", reason)
