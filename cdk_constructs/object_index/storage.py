"""The object index's stateful pieces: key, event queues, data bucket, index table, alarm topic and
pagination key. Each subclasses the L2 construct it configures, so it is that resource.
"""

from __future__ import annotations

import typing

from aws_cdk import CfnResource, Duration, RemovalPolicy, Stack, Tags
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag, exempt_control
from cdk_constructs.hardened_bucket import HardenedBucket, Lifecycle
from cdk_constructs.hardened_key import HardenedKey
from cdk_constructs.object_index.contract import (
    DEAD_LETTER_RETENTION_DAYS,
    GLOBAL_SECONDARY_INDEXES,
    MAX_RECEIVE_COUNT,
    OBJECT_PREFIX,
    PARTITION_KEY,
    QUEUE_VISIBILITY_TIMEOUT_SECONDS,
    S3_EVENTS,
    SORT_KEY,
    TTL_ATTRIBUTE,
)


def _this_account(scope: Construct) -> dict[str, str]:
    return {"aws:SourceAccount": Stack.of(scope).account}


def alarm_arns(scope: Construct) -> str:
    """Every CloudWatch alarm of the scope's account and region (the alarms live in another stack)."""
    stack = Stack.of(scope)
    return f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*"


class DataKey(HardenedKey):
    """The rotating KMS key of everything the pattern stores: objects, table, queues, alarm topic,
    pagination secret and log groups.

    Beyond :class:`HardenedKey`'s defaults, three service statements, each limited to this
    account and to its source: S3 encrypting event messages for ``bucket_arn`` only, CloudWatch
    alarms publishing to the encrypted topic, and CloudWatch Logs for this account's log groups
    in this region.
    """

    def __init__(self, scope: Construct, construct_id: str, *, alias: str, bucket_arn: str) -> None:
        super().__init__(
            scope,
            construct_id,
            alias=alias,
            description="Encrypts the S3 object index: objects, table, queues, alarm topic, secret and logs",
        )
        stack = Stack.of(self)
        this_account = _this_account(self)
        self.allow_service(
            sid="S3EventNotifications",  # S3 encrypts the event messages it sends to the queue
            service_principal="s3.amazonaws.com",
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            conditions={"StringEquals": this_account, "ArnEquals": {"aws:SourceArn": bucket_arn}},
        )
        self.allow_service(
            sid="CloudWatchAlarms",  # alarms publish to the encrypted alarm topic
            service_principal="cloudwatch.amazonaws.com",
            actions=["kms:GenerateDataKey*", "kms:Decrypt"],
            conditions={"StringEquals": this_account, "ArnLike": {"aws:SourceArn": alarm_arns(self)}},
        )
        self.allow_service(
            sid="CloudWatchLogs",  # the function and API access log groups of this account and region
            service_principal=f"logs.{stack.region}.amazonaws.com",
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
                    )
                }
            },
        )


class EventDeadLetterQueue(sqs.Queue):
    """Where an S3 event goes after ``MAX_RECEIVE_COUNT`` failed receives: KMS-encrypted with
    ``key``, TLS only, kept the 14 days SQS allows at most."""

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(
            scope,
            construct_id,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(DEAD_LETTER_RETENTION_DAYS),
        )
        exempt_control(
            self,
            "CT.SQS.PR.1",
            "This is the dead-letter queue of the event queue; a queue behind it would only hold the same "
            "messages again, and naming its source queue in a redrive allow policy would be circular.",
        )


class EventQueue(sqs.Queue):
    """The S3 event notifications of ``bucket_arn``, waiting for the indexer.

    Secure defaults: KMS-encrypted with ``key``, TLS only, a dead-letter queue after
    ``MAX_RECEIVE_COUNT`` receives, and a queue policy under which only S3, on behalf of that
    bucket in this account, may send, with a deny for every other sender in the account but
    ``operator_role_arn``, which redrives the dead-letter queue (a redrive sends as its caller).
    ``queue_policy`` is the policy resource the bucket must wait for.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        dead_letters: sqs.IQueue,
        retention_days: int,
        bucket_arn: str,
        operator_role_arn: str,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(QUEUE_VISIBILITY_TIMEOUT_SECONDS),
            retention_period=Duration.days(retention_days),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=MAX_RECEIVE_COUNT, queue=dead_letters),
        )
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid="S3EventNotifications",
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self.queue_arn],
                conditions={"StringEquals": _this_account(self), "ArnEquals": {"aws:SourceArn": bucket_arn}},
            )
        )
        # The allow above does not stop principals of this account whose own policies allow
        # sqs:SendMessage: this deny does.
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OnlyThisBucketSends",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["sqs:SendMessage"],
                resources=[self.queue_arn],
                conditions={"ArnNotEquals": {"aws:SourceArn": bucket_arn, "aws:PrincipalArn": operator_role_arn}},
            )
        )
        policy = self.node.find_child("Policy")  # created by the first statement
        self.queue_policy = typing.cast(CfnResource, policy.node.default_child)


class DataBucket(HardenedBucket):
    """The customers' objects, under ``customers/{customer_id}/``, and their event notifications.

    Secure defaults beyond :class:`HardenedBucket`'s: encrypted with ``key``, server access
    logs to ``access_logs``, and every create, delete and delete-marker expiration under the
    prefix sent to ``events``; the bucket waits for the queue's policy, because S3 sends a test
    message when the configuration is set. Customers may delete their objects (the index
    follows the delete events); versioning keeps what they overwrite or delete.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        key: kms.IKey,
        access_logs: s3.IBucket,
        lifecycle: Lifecycle,
        events: EventQueue,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            bucket_name=bucket_name,
            encryption_key=key,
            access_logs_bucket=access_logs,
            access_logs_prefix="objects/",
            lifecycle=lifecycle,
            # Customers delete their objects; the index follows through the delete events.
            deny_object_deletion=False,
        )
        exempt_control(
            self.cfn_bucket,
            "CT.S3.PR.9",
            "Customers delete and overwrite their objects and the index follows those deletes; Object Lock "
            "would forbid them. Versioning keeps overwritten and deleted versions for the configured days.",
        )
        # Set on the bucket itself rather than through CDK's notifications helper, which
        # adds a custom resource (a Lambda function with broad S3 rights) to do the same.
        self.cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            queue_configurations=[
                s3.CfnBucket.QueueConfigurationProperty(
                    event=event,
                    queue=events.queue_arn,
                    filter=s3.CfnBucket.NotificationFilterProperty(
                        s3_key=s3.CfnBucket.S3KeyFilterProperty(
                            rules=[s3.CfnBucket.FilterRuleProperty(name="prefix", value=OBJECT_PREFIX)]
                        )
                    ),
                )
                for event in S3_EVENTS
            ]
        )
        self.cfn_bucket.add_resource_dependency(events.queue_policy)


class IndexTable(dynamodb.Table):
    """The index: one item per object (or tombstone) and one totals item per customer, with the
    four global secondary indexes the query API reads.

    Secure defaults: on-demand, encrypted with ``key``, point-in-time recovery, deletion
    protection, retained when the stack is deleted, TTL on the tombstones' ``expires_at``, and
    the ``backup_tag`` that puts it in the organization's daily backups.
    """

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey, backup_tag: tuple[str, str]) -> None:
        super().__init__(
            scope,
            construct_id,
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            time_to_live_attribute=TTL_ATTRIBUTE,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index_name, (partition_key, sort_key) in GLOBAL_SECONDARY_INDEXES.items():
            self.add_global_secondary_index(
                index_name=index_name,
                partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name=sort_key, type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        # Daily backups by the organization's backup policy, on top of point-in-time recovery.
        Tags.of(self).add(*backup_tag)


class AlarmTopic(sns.Topic):
    """Where the pattern's alarms go: encrypted with ``key``, TLS only, publishable only by
    CloudWatch alarms of this account and region; ``email`` (optional) is subscribed."""

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey, email: str | None) -> None:
        super().__init__(scope, construct_id, display_name="S3 object index alarms", master_key=key, enforce_ssl=True)
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic_arn],
                conditions={"StringEquals": _this_account(self), "ArnLike": {"aws:SourceArn": alarm_arns(self)}},
            )
        )
        if email is not None:
            self.add_subscription(subscriptions.EmailSubscription(email))


class PaginationKey(secretsmanager.Secret):
    """The HMAC key that signs the query API's page tokens: 64 random characters, encrypted with
    ``key``. Not retained: it holds no data; losing it only invalidates page tokens in circulation."""

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(
            scope,
            construct_id,
            description="S3 object index: HMAC key that signs the query API's pagination tokens",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge_nag(
            self,
            "AwsSolutions-SMG4",
            "The key only signs pagination tokens (it grants no access: every request is "
            "IAM-authorized); rotating it invalidates every token in circulation, so it is "
            "rotated by hand when needed, as the pattern's page describes.",
        )
