"""The workload's Aurora PostgreSQL: the cluster of one region, its master secret and the
global database that joins the two regions."""

from __future__ import annotations

import typing

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cdk_constructs.disaster_recovery.plan import DATABASE_NAME, DATABASE_PORT, ENGINE_VERSION, RegionPlan
from cdk_constructs.disaster_recovery.subnets import SharedSubnets
from cdk_constructs.gates import acknowledge_nag


class WorkloadDatabase(Construct):
    """An Aurora PostgreSQL cluster in the shared subnets: the global database's primary
    (with a writer) or a secondary (read-only, instances only as the plan says).

    Encrypted with the region's data key, IAM authentication on, deletion protection on,
    PostgreSQL logs to CloudWatch, 7 days of continuous backups for point-in-time restore,
    Performance Insights and Enhanced Monitoring on every instance; retained on delete.
    The security group allows no egress; the service adds the one ingress rule it needs.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        subnets: SharedSubnets,
        plan: RegionPlan,
        instance_class: str,
        key_arn: str,
        global_cluster_id: str | None,
        master_secret_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.plan = plan
        self.security_group = ec2.CfnSecurityGroup(
            self,
            "SecurityGroup",
            vpc_id=subnets.vpc_id,
            group_description="Aurora cluster of the DR workload: PostgreSQL from the workload function only",
            # No egress: the database starts no connections (Aurora's replication is not VPC traffic).
            security_group_egress=[
                ec2.CfnSecurityGroup.EgressProperty(
                    ip_protocol="icmp",
                    from_port=252,
                    to_port=86,
                    cidr_ip="255.255.255.255/32",
                    description="Placeholder that denies all egress",
                )
            ],
        )
        subnet_group = rds.CfnDBSubnetGroup(
            self,
            "SubnetGroup",
            db_subnet_group_description="Shared prod subnets of this region",
            subnet_ids=subnets.subnet_ids,
        )
        # A primary takes its master user from the secret (dynamic references: the password
        # never appears in the template); a secondary takes its users from the primary.
        username = password = None
        if master_secret_arn is not None:
            username = f"{{{{resolve:secretsmanager:{master_secret_arn}:SecretString:username}}}}"
            password = f"{{{{resolve:secretsmanager:{master_secret_arn}:SecretString:password}}}}"
        self.cluster = rds.CfnDBCluster(
            self,
            "Cluster",
            engine="aurora-postgresql",
            engine_version=ENGINE_VERSION,
            database_name=DATABASE_NAME if plan.database == "primary" else None,
            global_cluster_identifier=global_cluster_id if plan.database == "secondary" else None,
            db_subnet_group_name=subnet_group.ref,
            vpc_security_group_ids=[self.security_group.attr_group_id],
            port=DATABASE_PORT,
            storage_encrypted=True,
            kms_key_id=key_arn,
            enable_iam_database_authentication=True,
            deletion_protection=True,
            backup_retention_period=7,
            copy_tags_to_snapshot=True,
            enable_cloudwatch_logs_exports=["postgresql"],
            enable_global_write_forwarding=True if plan.write_forwarding else None,
            master_username=username,
            master_user_password=password,
        )
        self.cluster.apply_removal_policy(RemovalPolicy.RETAIN)
        acknowledge_nag(
            self.cluster,
            "AwsSolutions-RDS11",
            "The port is reachable only from the function's security group inside the shared subnets; "
            "a non-default port hides nothing from a caller that is already allowed in.",
        )
        self.instances = self._add_instances(plan, instance_class=instance_class, key_arn=key_arn)

    def _add_instances(self, plan: RegionPlan, *, instance_class: str, key_arn: str) -> list[rds.CfnDBInstance]:
        """The plan's instances, each with Performance Insights and Enhanced Monitoring."""
        self.monitoring_role = iam.Role(
            self,
            "MonitoringRole",
            assumed_by=iam.ServicePrincipal("monitoring.rds.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonRDSEnhancedMonitoringRole")
            ],
        )
        acknowledge_nag(
            self.monitoring_role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]",
            "The AWS managed policy is the documented way to let Enhanced Monitoring write its own log group.",
        )
        instances: list[rds.CfnDBInstance] = []
        for index in range(plan.instances):
            instance = rds.CfnDBInstance(
                self,
                f"Instance{index + 1}",
                db_cluster_identifier=self.cluster.ref,
                engine="aurora-postgresql",
                db_instance_class=instance_class,
                auto_minor_version_upgrade=True,
                publicly_accessible=False,
                enable_performance_insights=True,
                performance_insights_kms_key_id=key_arn,
                performance_insights_retention_period=7,
                monitoring_interval=60,
                monitoring_role_arn=self.monitoring_role.role_arn,
            )
            instance.apply_removal_policy(RemovalPolicy.RETAIN)
            instances.append(instance)
        return instances

    @property
    def endpoint(self) -> str:
        """The writer endpoint where there is a writer, the reader endpoint in a secondary."""
        if self.plan.database == "primary":
            return self.cluster.attr_endpoint_address
        return self.cluster.attr_read_endpoint_address


class MasterSecret:
    """Part (see the package docstring): the Aurora master user, generated by Secrets
    Manager and encrypted with the data key; replicated to ``replica_region`` (with that
    region's data key) when a secondary there must keep the primary's users. Retained on
    delete; ``secret`` is the L2."""

    def __init__(
        self,
        scope: Construct,
        *,
        key: kms.IKey,
        replica_region: str | None,
        replica_key_arn: str,
    ) -> None:
        self.secret = secretsmanager.Secret(
            scope,
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
        if replica_region is not None:
            # The promoted secondary keeps the primary's users; the credentials must survive the region.
            typing.cast(secretsmanager.CfnSecret, self.secret.node.default_child).replica_regions = [
                secretsmanager.CfnSecret.ReplicaRegionProperty(region=replica_region, kms_key_id=replica_key_arn)
            ]
        acknowledge_nag(
            self.secret,
            "AwsSolutions-SMG4",
            "The master user is for administration only; the application authenticates with IAM. Rotating it "
            "on a global database needs a rotation function in each region, which this sample leaves out.",
        )


class GlobalDatabase:
    """Part (see the package docstring): the Aurora global database whose source is the
    home cluster, created after the cluster's instances (the source needs its writer);
    deletion protection on, retained on delete. ``global_cluster`` is the L1."""

    def __init__(self, scope: Construct, *, identifier: str, source: WorkloadDatabase, source_arn: str) -> None:
        self.global_cluster = rds.CfnGlobalCluster(
            scope,
            "GlobalDatabase",
            global_cluster_identifier=identifier,
            source_db_cluster_identifier=source_arn,
            deletion_protection=True,
        )
        self.global_cluster.apply_removal_policy(RemovalPolicy.RETAIN)
        for instance in source.instances:
            self.global_cluster.add_resource_dependency(instance)
