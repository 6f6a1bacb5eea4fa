"""The users' files: the bucket of each region, its access logs, and replication to the DR region."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag, exempt_control
from cdk_constructs.hardened_bucket import HardenedBucket, Lifecycle

FILES_LIFECYCLE = Lifecycle(
    infrequent_access_after_days=90,
    glacier_after_days=365,
    expire_after_days=3650,
    noncurrent_expire_after_days=90,
)
# Minutes S3 Replication Time Control promises (99.99% of objects), and its metrics threshold.
RTC_MINUTES = 15


class UserFiles:
    """Part (see the package docstring): the files bucket ``bucket_name`` (id
    ``construct_id``: ``Files`` at home, ``FilesReplica`` in the DR region) and the bucket
    of its server access logs (``AccessLogs``; S3 delivers them only to a bucket of the
    same account and region, encrypted with SSE-S3).

    Secure defaults of :class:`HardenedBucket` (versioned, KMS with ``key``, TLS only, no
    public access, access logged); objects may be deleted (``deletion_reason`` says why
    versions and backups make that safe, for the Control Tower exemption).
    ``access_logs`` and ``files`` are the hardened buckets.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        construct_id: str,
        bucket_name: str,
        key: kms.IKey,
        deletion_reason: str,
    ) -> None:
        self.access_logs = HardenedBucket(
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
        acknowledge_nag(
            self.access_logs.bucket,
            "AwsSolutions-S1",
            "This is the server access log destination; logging it into itself would loop.",
        )
        self.files = HardenedBucket(
            scope,
            construct_id,
            bucket_name=bucket_name,
            encryption_key=key,
            access_logs_bucket=self.access_logs.bucket,
            lifecycle=FILES_LIFECYCLE,
            deny_object_deletion=False,  # users delete their files (replicas: delete markers must land)
        )
        exempt_control(self.files.cfn_bucket, "CT.S3.PR.9", deletion_reason)


class FilesReplication:
    """Part (see the package docstring): S3 replication of every object version of
    ``source`` to the bucket ``destination_bucket_name`` in ``destination_region``,
    re-encrypted there with the key that has the alias ``destination_key_alias``
    (``destination_key_arn`` names it by alias); delete markers replicate; Replication
    Time Control (15 minutes, with metrics) when ``time_control``. ``role`` is the L2 role
    S3 assumes, limited to this account."""

    def __init__(
        self,
        scope: Construct,
        *,
        source: HardenedBucket,
        source_key: kms.IKey,
        destination_bucket_name: str,
        destination_region: str,
        destination_key_alias: str,
        destination_key_arn: str,
        time_control: bool,
    ) -> None:
        stack = Stack.of(scope)
        bucket = source.bucket
        destination = f"arn:{stack.partition}:s3:::{destination_bucket_name}"
        self.role = iam.Role(
            scope,
            "ReplicationRole",
            assumed_by=iam.ServicePrincipal(
                "s3.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description="S3 replication of the DR workload's user files to the DR region",
        )
        role = self.role
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetReplicationConfiguration", "s3:ListBucket"], resources=[bucket.bucket_arn]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                resources=[bucket.arn_for_objects("*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                resources=[f"{destination}/*"],
            )
        )
        role.add_to_policy(iam.PolicyStatement(actions=["kms:Decrypt"], resources=[source_key.key_arn]))
        destination_keys = f"arn:{stack.partition}:kms:{destination_region}:{stack.account}:key/*"
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt", "kms:GenerateDataKey"],
                resources=[destination_keys],
                # The DR key's id is unknown here; its alias, from the config, names it.
                conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": destination_key_alias}},
            )
        )
        source_objects = f"<{stack.get_logical_id(source.cfn_bucket)}.Arn>/*"  # as cdk-nag prints it
        for resource in (source_objects, f"{destination}/*", destination_keys):
            acknowledge_nag(
                role,
                f"AwsSolutions-IAM5[Resource::{resource}]",
                "Replication acts on every object version of the two buckets; the DR key is named by its alias.",
            )
        rtc = s3.CfnBucket.ReplicationTimeValueProperty(minutes=RTC_MINUTES)
        destination_props = s3.CfnBucket.ReplicationDestinationProperty(
            bucket=destination,
            encryption_configuration=s3.CfnBucket.EncryptionConfigurationProperty(
                replica_kms_key_id=destination_key_arn
            ),
            replication_time=s3.CfnBucket.ReplicationTimeProperty(status="Enabled", time=rtc) if time_control else None,
            metrics=s3.CfnBucket.MetricsProperty(status="Enabled", event_threshold=rtc) if time_control else None,
        )
        source.cfn_bucket.replication_configuration = s3.CfnBucket.ReplicationConfigurationProperty(
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
