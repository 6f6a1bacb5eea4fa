"""The DR region's stateful half, deployed first: what the home region copies into.

    home backup plan ─(copy after each backup)─► backup vault (vault lock, DR data key)
    home user files ─(S3 replication; not at backup-restore)─► replica bucket (DR data key)
    DR data key (alias from the config): vault, replica bucket, Aurora secondary, secret replica

Everything here is retained when the stack is deleted. The home and standby stacks find
these resources by their names (``org_config/names.py``), never through an export.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag, exempt_control
from cdk_constructs.hardened_bucket import HardenedBucket, Lifecycle
from cdk_constructs.hardened_key import HardenedKey
from org_config.model import OrgConfig
from org_config.names import dr_backup_vault_name, dr_files_bucket_name, dr_key_alias
from stacks.disaster_recovery import standby_plan

FILES_LIFECYCLE = Lifecycle(
    infrequent_access_after_days=90,
    glacier_after_days=365,
    expire_after_days=3650,
    noncurrent_expire_after_days=90,
)


def recovery_vault(scope: Construct, *, config: OrgConfig, key: HardenedKey) -> backup.BackupVault:
    """A backup vault with vault lock (governance mode: no cooling-off date, so the lock
    can still be removed by an administrator; recovery points younger than the minimum
    retention cannot be deleted by anyone)."""
    settings = config.disaster_recovery
    region = Stack.of(scope).region
    vault = backup.BackupVault(
        scope,
        "BackupVault",
        backup_vault_name=dr_backup_vault_name(config, region),
        encryption_key=key.key,
        lock_configuration=backup.LockConfiguration(
            min_retention=Duration.days(settings.vault_lock_min_retention_days),
            max_retention=Duration.days(settings.backup_retention_days),
        ),
        removal_policy=RemovalPolicy.RETAIN,
    )
    return vault


def access_log_bucket(scope: Construct) -> HardenedBucket:
    """Server access logs of the files bucket: S3 delivers them only to a bucket of the same
    account and region, encrypted with SSE-S3."""
    return HardenedBucket(
        scope,
        "AccessLogs",
        encryption_key=None,
        access_logs_bucket=None,
        lifecycle=Lifecycle(
            infrequent_access_after_days=90,
            glacier_after_days=180,
            expire_after_days=730,
            noncurrent_expire_after_days=30,
        ),
    )


class DrRecoveryStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.data_key = HardenedKey(
            self,
            "DataKey",
            alias=dr_key_alias(config),
            description="Encrypts the DR workload's data in this region: backups, files, database, secret",
        )
        self.vault = recovery_vault(self, config=config, key=self.data_key)
        self.replica_bucket: HardenedBucket | None = None
        if standby_plan(config.disaster_recovery) is None:
            return  # backup-restore: the backups are the DR region's only copy
        access_logs = access_log_bucket(self)
        acknowledge_nag(
            access_logs.bucket,
            "AwsSolutions-S1",
            "This is the server access log destination; logging it into itself would loop.",
        )
        self.replica_bucket = HardenedBucket(
            self,
            "FilesReplica",
            bucket_name=dr_files_bucket_name(config, self.region),
            encryption_key=self.data_key.key,
            access_logs_bucket=access_logs.bucket,
            lifecycle=FILES_LIFECYCLE,
            deny_object_deletion=False,  # replicated delete markers must land; versions keep what was deleted
        )
        exempt_control(
            self.replica_bucket.cfn_bucket,
            "CT.S3.PR.9",
            "The replica follows the source's deletions (delete markers); versions and the backup copies in "
            "the locked vault keep deleted files recoverable, as in the source bucket.",
        )
