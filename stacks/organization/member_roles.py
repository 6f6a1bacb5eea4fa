"""Roles every member account gets, deployed by a service-managed StackSet.

This stack is synthesized like any other (so every gate checks it) and its template
becomes the StackSet's body; it is never deployed on its own. It uses no bootstrap
resources, because StackSets deploy it into accounts the CDK has not bootstrapped.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag
from org_config.model import AccountRole, OrgConfig


def audit_role_name(config: OrgConfig) -> str:
    return f"{config.organization.name_prefix}-audit-read-only"


def backup_role_name(config: OrgConfig) -> str:
    return f"{config.organization.name_prefix}-backup"


class MemberRolesStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        audit = config.account(AccountRole.AUDIT).id
        management = config.account(AccountRole.MANAGEMENT).id

        # The security team reads every account from the audit account.
        audit_role = iam.Role(
            self,
            "AuditReadOnly",
            role_name=audit_role_name(config),
            assumed_by=iam.AccountPrincipal(audit),
            max_session_duration=Duration.hours(1),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("SecurityAudit"),
                iam.ManagedPolicy.from_aws_managed_policy_name("ReadOnlyAccess"),
            ],
            description="Read-only access for the audit account's security tooling and people",
        )
        acknowledge_nag(
            audit_role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/SecurityAudit]",
            "SecurityAudit is the AWS-maintained read-only policy for auditing; it tracks new services.",
        )
        acknowledge_nag(
            audit_role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/ReadOnlyAccess]",
            "ReadOnlyAccess is the AWS-maintained read-only policy; a hand-written copy would go stale.",
        )

        # Break-glass: administrator access when Identity Center is unavailable. Only
        # from the management account, only with MFA, one hour at a time; the SCPs
        # exempt exactly this role name.
        break_glass = iam.Role(
            self,
            "BreakGlass",
            role_name=config.guardrails.break_glass_role,
            assumed_by=iam.AccountPrincipal(management).with_conditions(
                {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
            ),
            max_session_duration=Duration.hours(1),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AdministratorAccess")],
            description="Emergency administrator access; every use is an incident",
        )
        acknowledge_nag(
            break_glass,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AdministratorAccess]",
            "Break-glass must be able to repair anything; MFA and the management-account trust limit who.",
        )

        # AWS Backup assumes this role in each account to run the organization backup policy.
        backup_role = iam.Role(
            self,
            "Backup",
            role_name=backup_role_name(config),
            assumed_by=iam.ServicePrincipal("backup.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSBackupServiceRolePolicyForBackup"),
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSBackupServiceRolePolicyForRestores"),
            ],
            description="Role that the organization backup policy names for AWS Backup",
        )
        for policy in ("AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"):
            acknowledge_nag(
                backup_role,
                f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/{policy}]",
                "AWS Backup's own service-role policy, maintained by AWS as backup-capable services grow.",
            )
