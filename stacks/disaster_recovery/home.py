"""The home region: the workload at production size, and what protects its data.

    app.<zone> (the user's delegated zone): this region's record (failover primary, or latency)
    API + function (production size) ─► Aurora primary cluster (writer + readers) ─┐
                                    └─► user-files bucket ─(replication)─► DR replica bucket
    Aurora global database (not at backup-restore) ◄──────────────────────────────┘
    backup plan (every N hours) ─► home vault ─(copy)─► DR vault
    master secret (Secrets Manager) ─(replica)─► DR region

The files are protected by versioning and by the backup plan at every tier (a backup
survives a corruption or a deletion that replication would copy at once); from pilot
light up, replication adds a copy in the DR region that is minutes old, not hours.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from cdk_constructs.api_gateway_logging import api_gateway_account_logging
from cdk_constructs.deploy_time_lookup import harden_provider
from cdk_constructs.disaster_recovery.backups import BackupSchedule, recovery_vault
from cdk_constructs.disaster_recovery.database import GlobalDatabase, MasterSecret, WorkloadDatabase
from cdk_constructs.disaster_recovery.files import FilesReplication, UserFiles
from cdk_constructs.disaster_recovery.keys import service_key
from cdk_constructs.disaster_recovery.plan import dr_settings, home_plan, standby_plan
from cdk_constructs.disaster_recovery.service import RegionalService
from cdk_constructs.disaster_recovery.subnets import shared_subnets
from cdk_constructs.hardened_key import HardenedKey
from org_config.model import OrgConfig
from org_config.names import dr_backup_vault_name, dr_files_bucket_name, dr_global_cluster_id, dr_key_alias


class DrHomeStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: OrgConfig,
        set_api_gateway_logging: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = dr_settings(config)
        dr = config.regions.dr
        plan = home_plan(settings)
        replicated = standby_plan(settings) is not None  # backup-restore keeps only backups in the DR region
        key_alias = dr_key_alias(config)
        dr_key_arn = f"arn:{self.partition}:kms:{dr}:{self.account}:{key_alias}"

        # Data key, master secret, database (and the global database joining the DR region).
        self.data_key = HardenedKey(
            self,
            "DataKey",
            alias=key_alias,
            description="Encrypts the DR workload's data in the home region: backups, files, database, secret",
        )
        key = self.data_key.key
        self.master_secret = MasterSecret(
            self, key=key, replica_region=dr if replicated else None, replica_key_arn=dr_key_arn
        )
        subnets = shared_subnets(self, config, settings.home_vpc)
        self.database = WorkloadDatabase(
            self,
            "Database",
            subnets=subnets,
            plan=plan,
            instance_class=settings.database_instance_class,
            key_arn=key.key_arn,
            global_cluster_id=None,
            master_secret_arn=self.master_secret.secret.secret_arn,
        )
        cluster_arn = f"arn:{self.partition}:rds:{self.region}:{self.account}:cluster:{self.database.cluster.ref}"
        if replicated:
            GlobalDatabase(self, identifier=dr_global_cluster_id(config), source=self.database, source_arn=cluster_arn)

        # User files, replicated to the DR region's replica bucket.
        files_name = dr_files_bucket_name(config, self.region)
        self.files = UserFiles(
            self,
            construct_id="Files",
            bucket_name=files_name,
            key=key,
            deletion_reason="Users delete their own files (and may be required to erase them); versioning and "
            "the backup plan keep a deleted file recoverable for the retention period instead of an Object Lock.",
        )
        if replicated:
            FilesReplication(
                self,
                source=self.files.files,
                source_key=key,
                destination_bucket_name=dr_files_bucket_name(config, dr),
                destination_region=dr,
                destination_key_alias=key_alias,
                destination_key_arn=dr_key_arn,
                time_control=settings.replication_time_control,
            )

        # Backups of the database and the files, copied to the DR region's vault.
        self.vault = recovery_vault(
            self, vault_name=dr_backup_vault_name(config, self.region), key=key, settings=settings
        )
        BackupSchedule(
            self,
            settings=settings,
            vault=self.vault,
            dr_region=dr,
            dr_vault_arn=f"arn:{self.partition}:backup:{dr}:{self.account}:backup-vault:"
            f"{dr_backup_vault_name(config, dr)}",
            key=key,
            resource_arns=[cluster_arn, self.files.files.bucket.bucket_arn],
        )

        # The service and this region's record in the zone.
        self.service = RegionalService(
            self,
            "Service",
            plan=plan,
            settings=settings,
            subnets=subnets,
            database=self.database,
            key=service_key(self, alias=f"{key_alias}-service").key,
            files_bucket_name=files_name,
            files_key_alias=key_alias,
            # The user's zone, already delegated: the certificate's validation records resolve
            # as soon as CloudFormation writes them (a zone created here would not).
            hosted_zone_id=settings.hosted_zone_id,
            failover_role="PRIMARY",
        )
        if set_api_gateway_logging:
            self.service.api.api.deployment_stage.node.add_dependency(api_gateway_account_logging(self))
        harden_provider(self)
