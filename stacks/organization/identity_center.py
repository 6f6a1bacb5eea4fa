"""IAM Identity Center: permission sets and who gets them in which account.

    groups (identity store) ──assignment──► permission set ──► account
    PlatformAdministrators      administrator (AdministratorAccess)
    SecurityAuditors            read-only (ReadOnlyAccess)
    NetworkEngineers            network-administrator (job function NetworkAdministrator)

Deployed in the management account, where the Identity Center instance lives.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_sso as sso
from constructs import Construct

from org_config.model import OrgConfig

# Permission set -> AWS-managed policy it grants. AWS maintains these as services grow;
# the job-function policy is the scoped choice for network engineers.
PERMISSION_SETS: dict[str, tuple[str, str]] = {
    "administrator": ("AdministratorAccess", "arn:aws:iam::aws:policy/AdministratorAccess"),
    "read-only": ("ReadOnly", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
    "network-administrator": ("NetworkAdministrator", "arn:aws:iam::aws:policy/job-function/NetworkAdministrator"),
}


class IdentityCenterStack(Stack):
    SCALES_WITH = "identity_center.assignments"  # the config value its resource count grows with

    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        center = config.identity_center
        session = f"PT{center.session_duration_hours}H"
        self.permission_sets: dict[str, sso.CfnPermissionSet] = {}
        for key, (name, policy_arn) in PERMISSION_SETS.items():
            self.permission_sets[key] = sso.CfnPermissionSet(
                self,
                f"PermissionSet{name}",
                instance_arn=center.instance_arn,
                name=name,
                description=f"{name} through {policy_arn.rsplit('/', 1)[-1]}",
                managed_policies=[policy_arn],
                session_duration=session,
            )
        for assignment in center.assignments:
            permission_set = self.permission_sets[assignment.permission_set]
            for account_name in assignment.accounts:
                account = config.account_named(account_name)
                sso.CfnAssignment(
                    self,
                    f"{assignment.group_name}-{assignment.permission_set}-{account.name}",
                    instance_arn=center.instance_arn,
                    permission_set_arn=permission_set.attr_permission_set_arn,
                    principal_type="GROUP",
                    principal_id=assignment.group_id,
                    target_type="AWS_ACCOUNT",
                    target_id=account.id,
                )
