"""The DR region's stateful half, deployed first: what the home region copies into.

    home backup plan ─(copy after each backup)─► backup vault (vault lock, DR data key)
    home user files ─(S3 replication; not at backup-restore)─► replica bucket (DR data key)
    DR data key (alias from the config): vault, replica bucket, Aurora secondary, secret replica

Everything here is retained when the stack is deleted. The home and standby stacks find
these resources by their names (``org_config/names.py``), never through an export.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from cdk_constructs.disaster_recovery.backups import recovery_vault
from cdk_constructs.disaster_recovery.files import UserFiles
from cdk_constructs.disaster_recovery.plan import dr_settings, standby_plan
from cdk_constructs.hardened_bucket import HardenedBucket
from cdk_constructs.hardened_key import HardenedKey
from org_config.model import OrgConfig
from org_config.names import dr_backup_vault_name, dr_files_bucket_name, dr_key_alias


class DrRecoveryStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = dr_settings(config)
        self.data_key = HardenedKey(
            self,
            "DataKey",
            alias=dr_key_alias(config),
            description="Encrypts the DR workload's data in this region: backups, files, database, secret",
        )
        self.vault = recovery_vault(
            self, vault_name=dr_backup_vault_name(config, self.region), key=self.data_key.key, settings=settings
        )
        self.replica_bucket: HardenedBucket | None = None
        if standby_plan(settings) is None:
            return  # backup-restore: the backups are the DR region's only copy
        self.replica_bucket = UserFiles(
            self,
            construct_id="FilesReplica",
            bucket_name=dr_files_bucket_name(config, self.region),
            key=self.data_key.key,
            deletion_reason="The replica follows the source's deletions (delete markers); versions and the backup "
            "copies in the locked vault keep deleted files recoverable, as in the source bucket.",
        ).files
