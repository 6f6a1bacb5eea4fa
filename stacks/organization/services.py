"""Organization-wide security services, switched on from the management account.

    management account
    ├── trusted access for each service ──┐  (Organizations and RAM APIs: no CloudFormation
    ├── policy types on the root          │   resource exists, so each call is a CDK
    ├── delegated administrators ─────────┤   AwsCustomResource)
    │     Security Hub, GuardDuty (every allowed region), Config, Access Analyzer → audit,
    │     each after its service's trusted access
    ├── RAM sharing with the organization ┘  (before the network stacks share anything)
    └── organization CloudTrail ─► log-archive bucket, encrypted with the log-archive key
              └─► log group ─► CIS metric filters and alarms ─► audit account (trail_monitoring.py)

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

from cdk_constructs.gates import acknowledge_nag, skip_checkov
from org_config.model import AccountRole, OrgConfig
from org_config.names import ORGANIZATION_TRAIL_NAME, log_bucket_name, log_key_alias
from stacks.organization.sdk_calls import harden_custom_resource_provider
from stacks.organization.trail_monitoring import TrailMonitoring

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
            construct_id: str,
            action: str,
            parameters: dict[str, str],
            ignore: str,
            *permissions: iam.PolicyStatement,
            service: str = "Organizations",
            region: str = "us-east-1",  # the Organizations endpoint
        ) -> cr.AwsCustomResource:
            call = cr.AwsSdkCall(
                service=service,
                action=action,
                parameters=parameters,
                physical_resource_id=cr.PhysicalResourceId.of(f"{action}-{'-'.join(parameters.values())}"),
                ignore_error_codes_matching=ignore,  # already done by hand or an earlier deploy
                region=region,
            )
            custom_resource = cr.AwsCustomResource(
                self,
                construct_id,
                on_create=call,
                on_update=call,
                policy=cr.AwsCustomResourcePolicy.from_statements(list(permissions)),
                install_latest_aws_sdk=False,  # offline synth; the Lambda runtime's SDK has these calls
            )
            if any("*" in permission.resources for permission in permissions):
                iam_action = f"{service.lower()}:{action[0].upper()}{action[1:]}"
                reason = f"{iam_action} has no resource type; a condition scopes it where it can."
                acknowledge_nag(custom_resource, "AwsSolutions-IAM5[Resource::*]", reason)
                skip_checkov(
                    custom_resource.node.find_child("CustomResourcePolicy").node.default_child,  # type: ignore[arg-type]
                    "CKV_AWS_111",
                    reason,
                )
            return custom_resource

        trusted_access: dict[str, cr.AwsCustomResource] = {}
        for service in TRUSTED_SERVICES:
            trusted_access[service] = organizations_call(
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
            ).node.add_dependency(trusted_access[service])  # a service is registered only once trusted

        # RAM shares that stay within the organization (the network's Transit Gateways,
        # subnets and resolver rules) need sharing with AWS Organizations enabled, from this
        # account; the call creates RAM's service-linked role (RAM API reference,
        # EnableSharingWithAwsOrganization). The network stacks are ordered after this stack.
        ram_role = (
            f"arn:aws:iam::{management}:role/aws-service-role/ram.amazonaws.com/AWSServiceRoleForResourceAccessManager"
        )
        organizations_call(
            "RamSharingWithOrganization",
            "enableSharingWithAwsOrganization",
            {},
            "^$",
            iam.PolicyStatement(actions=["ram:EnableSharingWithAwsOrganization"], resources=["*"]),
            iam.PolicyStatement(
                actions=["organizations:EnableAWSServiceAccess"],
                resources=["*"],  # the action has no resource type; the condition scopes it
                conditions={"StringEquals": {"organizations:ServicePrincipal": "ram.amazonaws.com"}},
            ),
            iam.PolicyStatement(actions=["organizations:DescribeOrganization"], resources=["*"]),
            iam.PolicyStatement(
                actions=["iam:CreateServiceLinkedRole"],
                resources=[ram_role],
                conditions={"StringEquals": {"iam:AWSServiceName": "ram.amazonaws.com"}},
            ),
            service="RAM",
            region=home,
        )

        # GuardDuty and Security Hub name their administrator per region: one call per allowed
        # region from this one stack (the SDK call's region parameter), rather than a stack per
        # region, so the regions stay one config value and nothing else needs bootstrapping there.
        # Each designation waits for its service's trusted access, which it requires.
        security_hub_admin = securityhub.CfnDelegatedAdmin(self, "SecurityHubDelegatedAdmin", admin_account_id=audit)
        security_hub_admin.node.add_dependency(trusted_access["securityhub.amazonaws.com"])
        for region in config.regions.allowed:
            self._designate_administrator(
                f"GuardDutyDelegatedAdmin-{region}",
                service="GuardDuty",
                principal="guardduty.amazonaws.com",
                region=region,
                audit=audit,
                audit_arn=audit_arn,
                already_done="BadRequestException",  # already the administrator
            ).node.add_dependency(trusted_access["guardduty.amazonaws.com"])
            if region != home:  # the home region has the CloudFormation resource above
                self._designate_administrator(
                    f"SecurityHubDelegatedAdmin-{region}",
                    service="SecurityHub",
                    principal="securityhub.amazonaws.com",
                    region=region,
                    audit=audit,
                    audit_arn=audit_arn,
                    already_done="ResourceConflictException",  # already the administrator
                ).node.add_dependency(trusted_access["securityhub.amazonaws.com"])

        self.monitoring = TrailMonitoring(self, "TrailMonitoring", config=config)

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
            # A searchable copy in the management account, where the CIS alarms watch it.
            cloud_watch_logs_log_group_arn=self.monitoring.log_group.log_group_arn,
            cloud_watch_logs_role_arn=self.monitoring.role.role_arn,
        )
        # The role's policy must exist before CloudTrail checks that it can write (the role
        # itself is already ordered by the GetAtt above).
        delivery_policy = self.monitoring.role.node.find_child("DefaultPolicy").node.default_child
        self.trail.add_resource_dependency(typing.cast(CfnResource, delivery_policy))
        # An organization trail needs CloudTrail's trusted access first
        # (CloudTrailAccessNotEnabledException otherwise, CloudTrail API reference).
        self.trail.node.add_dependency(trusted_access["cloudtrail.amazonaws.com"])
        harden_custom_resource_provider(self)

    def _designate_administrator(
        self,
        construct_id: str,
        *,
        service: str,
        principal: str,
        region: str,
        audit: str,
        audit_arn: str,
        already_done: str,
    ) -> cr.AwsCustomResource:
        """Name the audit account the ``service`` administrator in ``region``.

        GuardDuty and Security Hub register the administrator through Organizations with the
        caller's rights: that permission names the audit account alone.
        """
        call = cr.AwsSdkCall(
            service=service,
            action="enableOrganizationAdminAccount",
            parameters={"AdminAccountId": audit},
            physical_resource_id=cr.PhysicalResourceId.of(f"{principal}-admin-{audit}-{region}"),
            ignore_error_codes_matching=already_done,
            region=region,
        )
        prefix = service.lower()
        custom_resource = cr.AwsCustomResource(
            self,
            construct_id,
            on_create=call,
            on_update=call,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(actions=[f"{prefix}:EnableOrganizationAdminAccount"], resources=["*"]),
                    iam.PolicyStatement(
                        actions=["organizations:EnableAWSServiceAccess"],
                        resources=["*"],  # the action has no resource type; the condition scopes it
                        conditions={"StringEquals": {"organizations:ServicePrincipal": principal}},
                    ),
                    iam.PolicyStatement(
                        actions=["organizations:RegisterDelegatedAdministrator"],
                        resources=[audit_arn],  # only the audit account, like Config and Access Analyzer
                        conditions={"StringEquals": {"organizations:ServicePrincipal": principal}},
                    ),
                    # The Organizations reads AWS documents for the designation ("Permissions required
                    # to designate a delegated GuardDuty administrator account", GuardDuty guide);
                    # none of them has a resource type that would scope it.
                    iam.PolicyStatement(
                        actions=[
                            "organizations:DescribeAccount",
                            "organizations:DescribeOrganization",
                            "organizations:DescribeOrganizationalUnit",
                            "organizations:ListAWSServiceAccessForOrganization",
                            "organizations:ListAccounts",
                            "organizations:ListDelegatedAdministrators",
                        ],
                        resources=["*"],
                    ),
                ]
            ),
            install_latest_aws_sdk=False,
        )
        reason = (
            f"{service}'s EnableOrganizationAdminAccount has no resource type; the Organizations calls "
            "are scoped by condition and to the audit account."
        )
        skip_checkov(
            custom_resource.node.find_child("CustomResourcePolicy").node.default_child,  # type: ignore[arg-type]
            "CKV_AWS_111",
            reason,
        )
        acknowledge_nag(custom_resource, "AwsSolutions-IAM5[Resource::*]", reason)
        return custom_resource
