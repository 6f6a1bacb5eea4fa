"""The home region: the workload at production size, and what protects its data.

    hosted zone <zone> ─ app.<zone>: this region's record (failover primary, or latency)
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

import typing
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cdk_constructs.api_gateway_logging import api_gateway_account_logging
from cdk_constructs.deploy_time_lookup import harden_provider
from cdk_constructs.gates import acknowledge_nag, exempt_control
from cdk_constructs.hardened_bucket import HardenedBucket
from cdk_constructs.hardened_key import HardenedKey
from org_config.model import BACKUP_START_WINDOW_MINUTES, AccountRole, OrgConfig
from org_config.names import (
    dr_backup_vault_name,
    dr_files_bucket_name,
    dr_global_cluster_id,
    dr_key_alias,
)
from stacks.disaster_recovery import home_plan, standby_plan
from stacks.disaster_recovery.common import service_key
from stacks.disaster_recovery.recovery import FILES_LIFECYCLE, access_log_bucket, recovery_vault
from stacks.disaster_recovery.workload import RegionalService, SharedSubnets, WorkloadDatabase

# Seconds S3 Replication Time Control promises (99.99% of objects), and its metrics threshold.
RTC_MINUTES = 15


def shared_subnets(scope: Construct, config: OrgConfig, vpc_name: str) -> SharedSubnets:
    """The workload subnets of ``vpc_name``: the network account owns every VPC of the plan."""
    vpc = config.network.vpcs[vpc_name]
    blocks, _ = vpc.subnet_blocks(len(config.network.availability_zones[vpc.region]))
    return SharedSubnets(
        scope,
        "SharedSubnets",
        owner_account=config.account(AccountRole.NETWORK).id,
        blocks=blocks,
        name=f"{vpc_name}-{vpc.region}",
    )


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
        settings = config.disaster_recovery
        dr = config.regions.dr
        plan = home_plan(settings)
        standby = standby_plan(settings)
        dr_key_arn = f"arn:{self.partition}:kms:{dr}:{self.account}:{dr_key_alias(config)}"

        # --- DNS: the zone both regions' records live in -----------------------------------
        self.zone = route53.CfnHostedZone(
            self,
            "HostedZone",
            name=settings.hosted_zone_name,
            hosted_zone_config=route53.CfnHostedZone.HostedZoneConfigProperty(
                comment="DR workload: failover or latency records of app endpoints"
            ),
        )
        self.zone.apply_removal_policy(RemovalPolicy.RETAIN)  # its name servers are delegated to by the parent zone

        # --- Data key, master secret, database -------------------------------------------
        self.data_key = HardenedKey(
            self,
            "DataKey",
            alias=dr_key_alias(config),
            description="Encrypts the DR workload's data in the home region: backups, files, database, secret",
        )
        key = self.data_key.key
        self.master_secret = secretsmanager.Secret(
            self,
            "MasterSecret",
            description="Aurora master user of the DR workload (replicated to the DR region)",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template='{"username":"workload_admin"}',  # noqa: S106 - the user name, not a password
                generate_string_key="password",
                exclude_punctuation=True,
                password_length=32,
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        if standby is not None:
            # The promoted secondary keeps the primary's users; the credentials must survive the region.
            typing.cast(secretsmanager.CfnSecret, self.master_secret.node.default_child).replica_regions = [
                secretsmanager.CfnSecret.ReplicaRegionProperty(region=dr, kms_key_id=dr_key_arn)
            ]
        acknowledge_nag(
            self.master_secret,
            "AwsSolutions-SMG4",
            "The master user is for administration only; the application authenticates with IAM. Rotating it "
            "on a global database needs a rotation function in each region, which this sample leaves out.",
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
            master_secret_arn=self.master_secret.secret_arn,
        )
        cluster = self.database.cluster
        cluster_arn = f"arn:{self.partition}:rds:{self.region}:{self.account}:cluster:{cluster.ref}"
        if standby is not None:
            global_cluster = rds.CfnGlobalCluster(
                self,
                "GlobalDatabase",
                global_cluster_identifier=dr_global_cluster_id(config),
                source_db_cluster_identifier=cluster_arn,
                deletion_protection=True,
            )
            global_cluster.apply_removal_policy(RemovalPolicy.RETAIN)
            for instance in self.database.instances:
                global_cluster.add_dependency(instance)  # the source cluster needs its writer first

        # --- User files -------------------------------------------------------------------
        access_logs = access_log_bucket(self)
        acknowledge_nag(
            access_logs.bucket,
            "AwsSolutions-S1",
            "This is the server access log destination; logging it into itself would loop.",
        )
        files_name = dr_files_bucket_name(config, self.region)
        self.files = HardenedBucket(
            self,
            "Files",
            bucket_name=files_name,
            encryption_key=key,
            access_logs_bucket=access_logs.bucket,
            lifecycle=FILES_LIFECYCLE,
            deny_object_deletion=False,  # users delete their files; versions and backups keep them recoverable
        )
        exempt_control(
            self.files.cfn_bucket,
            "CT.S3.PR.9",
            "Users delete their own files (and may be required to erase them); versioning and the backup "
            "plan keep a deleted file recoverable for the retention period instead of an Object Lock.",
        )
        if standby is not None:
            self._replicate_files(config, dr_key_arn)

        # --- Backups ----------------------------------------------------------------------
        self.vault = recovery_vault(self, config=config, key=self.data_key)
        self._backup_plan(config, cluster_arn)

        # --- Service ----------------------------------------------------------------------
        logging_key = service_key(self, alias=f"{dr_key_alias(config)}-service")
        self.service = RegionalService(
            self,
            "Service",
            plan=plan,
            subnets=subnets,
            database=self.database,
            key=logging_key.key,
            files_bucket_name=files_name,
            files_key_alias=dr_key_alias(config),
            domain_name=f"{settings.record_name}.{settings.hosted_zone_name}",
            hosted_zone_id=self.zone.attr_id,
            set_identifier=self.region,
            failover_role="PRIMARY",
            record_ttl_seconds=settings.record_ttl_seconds,
            health_check_interval_seconds=settings.health_check_interval_seconds,
            health_check_failure_threshold=settings.health_check_failure_threshold,
            memory_mb=settings.function_memory_mb,
            log_retention_days=settings.log_retention_days,
        )
        if set_api_gateway_logging:
            self.service.api.deployment_stage.node.add_dependency(api_gateway_account_logging(self))
        harden_provider(self)

    def _replicate_files(self, config: OrgConfig, dr_key_arn: str) -> None:
        settings = config.disaster_recovery
        source = self.files.bucket
        destination = f"arn:{self.partition}:s3:::{dr_files_bucket_name(config, config.regions.dr)}"
        role = iam.Role(
            self,
            "ReplicationRole",
            assumed_by=iam.ServicePrincipal(
                "s3.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": self.account}}
            ),
            description="S3 replication of the DR workload's user files to the DR region",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetReplicationConfiguration", "s3:ListBucket"], resources=[source.bucket_arn]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                resources=[source.arn_for_objects("*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                resources=[f"{destination}/*"],
            )
        )
        role.add_to_policy(iam.PolicyStatement(actions=["kms:Decrypt"], resources=[self.data_key.key.key_arn]))
        dr_keys = f"arn:{self.partition}:kms:{config.regions.dr}:{self.account}:key/*"
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt", "kms:GenerateDataKey"],
                resources=[dr_keys],
                # The DR key's id is unknown here; its alias, from the config, names it.
                conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": dr_key_alias(config)}},
            )
        )
        source_objects = f"<{self.get_logical_id(self.files.cfn_bucket)}.Arn>/*"  # as cdk-nag prints it
        for resource in (source_objects, f"{destination}/*", dr_keys):
            acknowledge_nag(
                role,
                f"AwsSolutions-IAM5[Resource::{resource}]",
                "Replication acts on every object version of the two buckets; the DR key is named by its alias.",
            )
        rtc = settings.replication_time_control
        destination_props = s3.CfnBucket.ReplicationDestinationProperty(
            bucket=destination,
            encryption_configuration=s3.CfnBucket.EncryptionConfigurationProperty(replica_kms_key_id=dr_key_arn),
            replication_time=s3.CfnBucket.ReplicationTimeProperty(
                status="Enabled", time=s3.CfnBucket.ReplicationTimeValueProperty(minutes=RTC_MINUTES)
            )
            if rtc
            else None,
            metrics=s3.CfnBucket.MetricsProperty(
                status="Enabled", event_threshold=s3.CfnBucket.ReplicationTimeValueProperty(minutes=RTC_MINUTES)
            )
            if rtc
            else None,
        )
        self.files.cfn_bucket.replication_configuration = s3.CfnBucket.ReplicationConfigurationProperty(
            role=role.role_arn,
            rules=[
                s3.CfnBucket.ReplicationRuleProperty(
                    id="to-dr-region",
                    status="Enabled",
                    priority=1,
                    filter=s3.CfnBucket.ReplicationRuleFilterProperty(prefix=""),
                    delete_marker_replication=s3.CfnBucket.DeleteMarkerReplicationProperty(status="Enabled"),
                    destination=destination_props,
                    source_selection_criteria=s3.CfnBucket.SourceSelectionCriteriaProperty(
                        sse_kms_encrypted_objects=s3.CfnBucket.SseKmsEncryptedObjectsProperty(status="Enabled")
                    ),
                )
            ],
        )

    def _backup_plan(self, config: OrgConfig, cluster_arn: str) -> None:
        settings = config.disaster_recovery
        hours = settings.backup_frequency_hours
        schedule = "cron(0 3 * * ? *)" if hours == 24 else f"cron(0 */{hours} * * ? *)"
        dr_vault = backup.BackupVault.from_backup_vault_arn(
            self,
            "DrVault",
            f"arn:{self.partition}:backup:{config.regions.dr}:{self.account}:backup-vault:"
            f"{dr_backup_vault_name(config, config.regions.dr)}",
        )
        retention = Duration.days(settings.backup_retention_days)
        plan = backup.BackupPlan(
            self,
            "BackupPlan",
            backup_vault=self.vault,
            backup_plan_rules=[
                backup.BackupPlanRule(
                    rule_name=f"every-{hours}h-copy-to-{config.regions.dr}",
                    schedule_expression=events.Schedule.expression(schedule),
                    start_window=Duration.minutes(BACKUP_START_WINDOW_MINUTES),
                    completion_window=Duration.hours(max(hours, 2)),
                    delete_after=retention,
                    copy_actions=[
                        backup.BackupPlanCopyActionProps(destination_backup_vault=dr_vault, delete_after=retention)
                    ],
                )
            ],
        )
        role = iam.Role(
            self,
            "BackupRole",
            assumed_by=iam.ServicePrincipal("backup.amazonaws.com"),
            description="AWS Backup: back up and restore the DR workload's database and files",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(f"service-role/{name}")
                for name in (
                    "AWSBackupServiceRolePolicyForBackup",
                    "AWSBackupServiceRolePolicyForRestores",
                )
            ]
            + [
                iam.ManagedPolicy.from_aws_managed_policy_name(name)
                for name in ("AWSBackupServiceRolePolicyForS3Backup", "AWSBackupServiceRolePolicyForS3Restore")
            ],
        )
        for policy in (
            "service-role/AWSBackupServiceRolePolicyForBackup",
            "service-role/AWSBackupServiceRolePolicyForRestores",
            "AWSBackupServiceRolePolicyForS3Backup",
            "AWSBackupServiceRolePolicyForS3Restore",
        ):
            acknowledge_nag(
                role,
                f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{policy}]",
                "AWS maintains these policies for every service AWS Backup supports; "
                "the selection limits what is backed up.",
            )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"],
                resources=[self.data_key.key.key_arn],
            )
        )
        plan.add_selection(
            "DatabaseAndFiles",
            role=role,
            resources=[
                backup.BackupResource.from_arn(cluster_arn),
                backup.BackupResource.from_arn(self.files.bucket.bucket_arn),
            ],
        )
