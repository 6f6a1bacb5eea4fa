"""AWS Backup for the workload: the locked vault of each region and the home region's
plan that backs up the database and the files and copies every recovery point to the DR
region's vault."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag
from org_config.model import BACKUP_START_WINDOW_MINUTES, DisasterRecovery


def backup_schedule(hours: int) -> str:
    """The cron expression of a backup every ``hours`` (a divisor of 24): daily at 03:00 UTC,
    or at minute 0 of every ``hours``-th hour."""
    return "cron(0 3 * * ? *)" if hours == 24 else f"cron(0 */{hours} * * ? *)"


def recovery_vault(
    scope: Construct, *, vault_name: str, key: kms.IKey, settings: DisasterRecovery
) -> backup.BackupVault:
    """A backup vault with vault lock (governance mode: no cooling-off date, so the lock
    can still be removed by an administrator; recovery points younger than the minimum
    retention cannot be deleted by anyone); encrypted with ``key``; retained on delete."""
    return backup.BackupVault(
        scope,
        "BackupVault",
        backup_vault_name=vault_name,
        encryption_key=key,
        lock_configuration=backup.LockConfiguration(
            min_retention=Duration.days(settings.vault_lock_min_retention_days),
            max_retention=Duration.days(settings.backup_retention_days),
        ),
        removal_policy=RemovalPolicy.RETAIN,
    )


class BackupSchedule:
    """Part (see the package docstring): a backup plan into ``vault`` every
    ``settings.backup_frequency_hours``, kept ``backup_retention_days``, each recovery point
    copied to the DR vault ``dr_vault_arn`` with the same retention; the selection names the
    resources (``resource_arns``) and the role AWS Backup assumes, whose key permissions
    are on ``key`` only. ``plan`` and ``role`` are the L2s."""

    def __init__(
        self,
        scope: Construct,
        *,
        settings: DisasterRecovery,
        vault: backup.IBackupVault,
        dr_region: str,
        dr_vault_arn: str,
        key: kms.IKey,
        resource_arns: list[str],
    ) -> None:
        hours = settings.backup_frequency_hours
        dr_vault = backup.BackupVault.from_backup_vault_arn(scope, "DrVault", dr_vault_arn)
        retention = Duration.days(settings.backup_retention_days)
        self.plan = backup.BackupPlan(
            scope,
            "BackupPlan",
            backup_vault=vault,
            backup_plan_rules=[
                backup.BackupPlanRule(
                    rule_name=f"every-{hours}h-copy-to-{dr_region}",
                    schedule_expression=events.Schedule.expression(backup_schedule(hours)),
                    start_window=Duration.minutes(BACKUP_START_WINDOW_MINUTES),
                    completion_window=Duration.hours(max(hours, 2)),
                    delete_after=retention,
                    copy_actions=[
                        backup.BackupPlanCopyActionProps(destination_backup_vault=dr_vault, delete_after=retention)
                    ],
                )
            ],
        )
        managed = (
            "service-role/AWSBackupServiceRolePolicyForBackup",
            "service-role/AWSBackupServiceRolePolicyForRestores",
            "AWSBackupServiceRolePolicyForS3Backup",
            "AWSBackupServiceRolePolicyForS3Restore",
        )
        self.role = iam.Role(
            scope,
            "BackupRole",
            assumed_by=iam.ServicePrincipal("backup.amazonaws.com"),
            description="AWS Backup: back up and restore the DR workload's database and files",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(name) for name in managed],
        )
        for policy in managed:
            acknowledge_nag(
                self.role,
                f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{policy}]",
                "AWS maintains these policies for every service AWS Backup supports; "
                "the selection limits what is backed up.",
            )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"],
                resources=[key.key_arn],
            )
        )
        self.plan.add_selection(
            "DatabaseAndFiles",
            role=self.role,
            resources=[backup.BackupResource.from_arn(arn) for arn in resource_arns],
        )
