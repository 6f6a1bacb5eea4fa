"""An S3 bucket with secure defaults for data that must not be lost or exposed."""

from __future__ import annotations

import typing
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.gates import exempt_control, skip_checkov


@dataclass(frozen=True, kw_only=True)
class Lifecycle:
    """When objects move to colder storage classes and when they expire."""

    infrequent_access_after_days: int
    glacier_after_days: int
    expire_after_days: int
    noncurrent_expire_after_days: int


class HardenedBucket(Construct):
    """An S3 bucket that is private, encrypted, versioned and retained.

    Secure defaults:

    * all four public access blocks on, object ownership enforced (ACLs disabled);
    * default encryption with ``encryption_key`` (SSE-KMS, S3 Bucket Keys to cut KMS
      requests); without a key, SSE-S3 - only for the server access log destination, which
      S3 delivers to with SSE-S3 alone (the construct then records, with reasons, the
      checks such a bucket cannot meet: its own access logs, SSE-KMS, Object Lock);
    * a bucket policy that denies requests without TLS and, with
      ``deny_object_deletion``, denies deleting objects or versions to every principal
      (lifecycle expiration still works: it is not a request subject to bucket policy);
    * versioning, and Object Lock default retention when ``object_lock_days`` is given;
    * server access logs to ``access_logs_bucket`` when given;
    * object events sent to Amazon EventBridge, where security tooling can react to them
      (free unless a rule matches; AWS Control Tower's CT.S3.PR.4 asks for notifications);
    * lifecycle transitions to colder classes, and incomplete multipart uploads aborted
      after 7 days;
    * RETAIN on delete and replace.

    ``bucket`` is the underlying ``aws_s3.Bucket``; ``cfn_bucket`` its CloudFormation resource.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str | None = None,
        encryption_key: kms.IKey | None,
        access_logs_bucket: s3.IBucket | None,
        access_logs_prefix: str | None = None,
        lifecycle: Lifecycle,
        object_lock_mode: str = "GOVERNANCE",
        object_lock_days: int | None = None,
        deny_object_deletion: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        if object_lock_mode not in ("GOVERNANCE", "COMPLIANCE"):
            raise ValueError(f"object_lock_mode must be GOVERNANCE or COMPLIANCE, not {object_lock_mode}")
        retention = None
        if object_lock_days is not None:
            days = Duration.days(object_lock_days)
            retention = (
                s3.ObjectLockRetention.compliance(days)
                if object_lock_mode == "COMPLIANCE"
                else s3.ObjectLockRetention.governance(days)
            )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            encryption=s3.BucketEncryption.KMS if encryption_key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=encryption_key,
            bucket_key_enabled=True if encryption_key else None,
            enforce_ssl=True,
            versioned=True,
            object_lock_enabled=object_lock_days is not None or None,
            object_lock_default_retention=retention,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix=access_logs_prefix,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="colder-storage-then-expire",
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(lifecycle.infrequent_access_after_days),
                        ),
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER,
                            transition_after=Duration.days(lifecycle.glacier_after_days),
                        ),
                    ],
                    expiration=Duration.days(lifecycle.expire_after_days),
                    noncurrent_version_expiration=Duration.days(lifecycle.noncurrent_expire_after_days),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.cfn_bucket = typing.cast(s3.CfnBucket, self.bucket.node.default_child)
        # Set on the bucket itself: CDK's event_bridge_enabled would add a custom resource (a
        # Lambda function with broad S3 rights) to make the same call.
        self.cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(event_bridge_enabled=True)
        )
        if encryption_key is None:
            # The server access log destination: S3 delivers those logs only to a bucket with
            # SSE-S3, without Object Lock default retention, and not into the bucket itself.
            for control, reason in (
                ("CT.S3.PR.10", "S3 delivers server access logs only to a bucket encrypted with SSE-S3, not SSE-KMS."),
                ("CT.S3.PR.2", "This is the server access log destination; logging it into itself would loop."),
                (
                    "CT.S3.PR.9",
                    "S3 delivers server access logs only to a bucket without Object Lock default retention; "
                    "the bucket policy denies object deletion instead.",
                ),
            ):
                exempt_control(self.cfn_bucket, control, reason)
            skip_checkov(
                self.cfn_bucket,
                "CKV_AWS_18",
                "This is the server access log destination; logging it into itself would loop.",
            )
        if deny_object_deletion:
            self.bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="DenyObjectDeletion",
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
                    resources=[self.bucket.arn_for_objects("*")],
                )
            )
