"""The log-archive baseline: where every account's audit logs end up.

    CloudTrail (org trail) ─┐
    AWS Config (all accts) ─┼─► central bucket per log type ─► KMS key (rotating, org-scoped)
    VPC flow logs (all)  ───┘         │
                                      └─► server access logs ─► access-log bucket (SSE-S3)

Each delivering service may write only on behalf of this organization (aws:SourceOrgID)
or of the organization trail (aws:SourceArn); nobody may delete a log object, and Object
Lock keeps every version for the configured retention.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag
from cdk_constructs.hardened_bucket import HardenedBucket, Lifecycle
from cdk_constructs.hardened_key import HardenedKey
from org_config.model import AccountRole, OrgConfig
from org_config.names import log_bucket_name, log_key_alias, organization_trail_arn


class LogArchiveBaselineStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = config.log_archive
        org_id = config.organization.id
        management_id = config.account(AccountRole.MANAGEMENT).id
        trail_arn = organization_trail_arn(config)
        lifecycle = Lifecycle(
            infrequent_access_after_days=settings.transition_to_infrequent_access_days,
            glacier_after_days=settings.transition_to_glacier_days,
            expire_after_days=settings.expire_after_days,
            noncurrent_expire_after_days=settings.noncurrent_versions_expire_after_days,
        )
        from_this_org = {"StringEquals": {"aws:SourceOrgID": org_id}}
        from_org_trail = {"StringEquals": {"aws:SourceArn": trail_arn}}

        self.log_key = HardenedKey(
            self,
            "LogKey",
            alias=log_key_alias(config),
            description="Encrypts the organization's central logs",
        )

        # S3 delivers server access logs only to a bucket in the same account and region,
        # encrypted with SSE-S3 and without Object Lock default retention, so this one
        # bucket differs from the others on exactly those points.
        self.access_logs = HardenedBucket(
            self,
            "S3AccessLogs",
            bucket_name=log_bucket_name(config, "s3-access-logs"),
            encryption_key=None,
            access_logs_bucket=None,
            lifecycle=lifecycle,
        )
        acknowledge_nag(
            self.access_logs.bucket,
            "AwsSolutions-S1",
            "This is the server access log destination; logging it into itself would loop.",
        )

        def central_bucket(construct_id: str, purpose: str) -> HardenedBucket:
            return HardenedBucket(
                self,
                construct_id,
                bucket_name=log_bucket_name(config, purpose),
                encryption_key=self.log_key.key,
                access_logs_bucket=self.access_logs.bucket,
                access_logs_prefix=f"{purpose}/",
                lifecycle=lifecycle,
                object_lock_mode=settings.object_lock_mode,
                object_lock_days=settings.object_lock_days,
            )

        self.cloudtrail_logs = central_bucket("CloudTrailLogs", "cloudtrail")
        self.config_logs = central_bucket("ConfigLogs", "config")
        self.flow_logs = central_bucket("VpcFlowLogs", "vpc-flow-logs")

        # CloudTrail: only the organization trail may write, under the management account
        # and organization prefixes that an organization trail uses.
        trail_bucket = self.cloudtrail_logs.bucket
        self._allow_delivery(
            sid="CloudTrail",
            service="cloudtrail.amazonaws.com",
            bucket=trail_bucket,
            object_keys=[f"AWSLogs/{management_id}/*", f"AWSLogs/{org_id}/*"],
            conditions=from_org_trail,
        )
        self.log_key.allow_service(
            sid="CloudTrailEncryptLogs",
            service_principal="cloudtrail.amazonaws.com",
            actions=["kms:GenerateDataKey*"],
            conditions={
                **from_org_trail,
                "StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{management_id}:trail/*"
                },
            },
        )
        self.log_key.allow_service(
            sid="CloudTrailDescribeKey",
            service_principal="cloudtrail.amazonaws.com",
            actions=["kms:DescribeKey"],
            conditions=from_org_trail,
        )

        # AWS Config delivery channels of every account in the organization.
        self._allow_delivery(
            sid="Config",
            service="config.amazonaws.com",
            bucket=self.config_logs.bucket,
            object_keys=["AWSLogs/*/Config/*"],
            conditions=from_this_org,
        )
        self.log_key.allow_service(
            sid="ConfigEncryptLogs",
            service_principal="config.amazonaws.com",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            conditions=from_this_org,
        )

        # VPC flow logs of every account, delivered by the log delivery service.
        self._allow_delivery(
            sid="FlowLogs",
            service="delivery.logs.amazonaws.com",
            bucket=self.flow_logs.bucket,
            object_keys=["AWSLogs/*"],
            conditions=from_this_org,
        )
        self.log_key.allow_service(
            sid="FlowLogsEncryptLogs",
            service_principal="delivery.logs.amazonaws.com",
            actions=[
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ],
            conditions=from_this_org,
        )

    @staticmethod
    def _allow_delivery(
        *,
        sid: str,
        service: str,
        bucket: s3.IBucket,
        object_keys: list[str],
        conditions: dict[str, dict[str, str]],
    ) -> None:
        """Let ``service`` check the bucket ACL and write objects under ``object_keys``,
        only under ``conditions``; objects it writes belong to the bucket owner."""
        principal = iam.ServicePrincipal(service)
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"{sid}AclCheck",
                principals=[principal],
                actions=["s3:GetBucketAcl", "s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions=conditions,
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"{sid}Write",
                principals=[principal],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(key) for key in object_keys],
                conditions={
                    **conditions,
                    "StringEquals": {
                        **conditions.get("StringEquals", {}),
                        "s3:x-amz-acl": "bucket-owner-full-control",
                    },
                },
            )
        )
