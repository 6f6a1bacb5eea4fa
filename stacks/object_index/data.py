"""The object index's stateful half: everything that holds data or keys.

    uploaders ─► data bucket, customers/… ─(S3 event notifications)─► event queue ─► indexer
                      │                                                  │ (api stack)
                      └─► server access logs ─► access-log bucket        └─ 5th receive ─► dead-letter queue

    index table (4 GSIs, on-demand, PITR, deletion protection) ◄─ indexer writes, query API reads
    pagination secret (Secrets Manager, HMAC key) ◄─ query API reads, to sign its page tokens
    data key (KMS, rotating): bucket, table, queues, alarm topic, pagination secret, log groups
    alarm topic ─► email (optional)

Nothing here changes when the functions or the API change, so a stateless change can never
replace the table or the bucket; both are retained if the stack is deleted. The pagination
secret lives here too, not beside the query function: a secret encrypted with the data key
adds a Secrets Manager statement to the key's policy, from whichever stack holds the secret.
"""

from __future__ import annotations

import typing
from typing import Any

from aws_cdk import CfnResource, Duration, RemovalPolicy, Stack, Tags
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag, exempt_control
from cdk_constructs.hardened_bucket import HardenedBucket, Lifecycle
from cdk_constructs.hardened_key import HardenedKey
from org_config.model import OrgConfig
from org_config.names import object_index_bucket_name
from stacks.object_index import (
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


class ObjectIndexDataStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = config.object_index
        self.bucket_name = object_index_bucket_name(config)
        # Built from the name, not referenced: the queue and key policies below must exist
        # before the bucket, whose notification configuration S3 checks against them.
        self.bucket_arn = f"arn:{self.partition}:s3:::{self.bucket_name}"
        this_account = {"aws:SourceAccount": self.account}

        self.data_key = HardenedKey(
            self,
            "DataKey",
            alias=f"alias/{config.organization.name_prefix}/object-index",
            description="Encrypts the S3 object index: objects, table, queues, alarm topic, secret and logs",
        )
        key = self.data_key.key
        self.data_key.allow_service(
            sid="S3EventNotifications",  # S3 encrypts the event messages it sends to the queue
            service_principal="s3.amazonaws.com",
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            conditions={"StringEquals": this_account, "ArnEquals": {"aws:SourceArn": self.bucket_arn}},
        )
        self.data_key.allow_service(
            sid="CloudWatchAlarms",  # alarms publish to the encrypted alarm topic
            service_principal="cloudwatch.amazonaws.com",
            actions=["kms:GenerateDataKey*", "kms:Decrypt"],
            conditions={"StringEquals": this_account, "ArnLike": {"aws:SourceArn": self._alarm_arns()}},
        )
        self.data_key.allow_service(
            sid="CloudWatchLogs",  # the function and API access log groups of this account and region
            service_principal=f"logs.{self.region}.amazonaws.com",
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:*"
                    )
                }
            },
        )

        # --- Queues: S3 event notifications wait here for the indexer --------------------
        self.dead_letters = sqs.Queue(
            self,
            "EventDeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(DEAD_LETTER_RETENTION_DAYS),
        )
        exempt_control(
            self.dead_letters,
            "CT.SQS.PR.1",
            "This is the dead-letter queue of the event queue; a queue behind it would only hold the same "
            "messages again, and naming its source queue in a redrive allow policy would be circular.",
        )
        self.events = sqs.Queue(
            self,
            "Events",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(QUEUE_VISIBILITY_TIMEOUT_SECONDS),
            retention_period=Duration.days(settings.event_retention_days),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=MAX_RECEIVE_COUNT, queue=self.dead_letters),
        )
        self.events.add_to_resource_policy(
            iam.PolicyStatement(
                sid="S3EventNotifications",
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self.events.queue_arn],
                conditions={"StringEquals": this_account, "ArnEquals": {"aws:SourceArn": self.bucket_arn}},
            )
        )
        # The allow above does not stop principals of this account whose own policies allow
        # sqs:SendMessage: this deny does, for every sender but S3 on behalf of this bucket and
        # the operator role, which redrives the dead-letter queue (a redrive sends as its caller).
        self.operator_role_arn = f"arn:{self.partition}:iam::{self.account}:role/{settings.operator_role_name}"
        self.events.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OnlyThisBucketSends",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["sqs:SendMessage"],
                resources=[self.events.queue_arn],
                conditions={
                    "ArnNotEquals": {"aws:SourceArn": self.bucket_arn, "aws:PrincipalArn": self.operator_role_arn}
                },
            )
        )

        # --- Buckets ------------------------------------------------------------------------
        # S3 delivers server access logs only to an SSE-S3 bucket in the same account and
        # region; they are kept as long as the organization keeps its logs.
        log_retention = config.log_archive
        self.access_logs = HardenedBucket(
            self,
            "AccessLogs",
            encryption_key=None,
            access_logs_bucket=None,
            lifecycle=Lifecycle(
                infrequent_access_after_days=log_retention.transition_to_infrequent_access_days,
                glacier_after_days=log_retention.transition_to_glacier_days,
                expire_after_days=log_retention.expire_after_days,
                noncurrent_expire_after_days=log_retention.noncurrent_versions_expire_after_days,
            ),
        )
        self.objects = HardenedBucket(
            self,
            "Objects",
            bucket_name=self.bucket_name,
            encryption_key=key,
            access_logs_bucket=self.access_logs.bucket,
            access_logs_prefix="objects/",
            lifecycle=Lifecycle(
                infrequent_access_after_days=settings.transition_to_infrequent_access_days,
                glacier_after_days=settings.transition_to_glacier_days,
                expire_after_days=settings.expire_after_days,
                noncurrent_expire_after_days=settings.noncurrent_versions_expire_after_days,
            ),
            # Customers delete their objects; the index follows through the delete events.
            deny_object_deletion=False,
        )
        exempt_control(
            self.objects.cfn_bucket,
            "CT.S3.PR.9",
            "Customers delete and overwrite their objects and the index follows those deletes; Object Lock "
            "would forbid them. Versioning keeps overwritten and deleted versions for the configured days.",
        )
        # Set on the bucket itself rather than through CDK's notifications helper, which
        # adds a custom resource (a Lambda function with broad S3 rights) to do the same.
        self.objects.cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            queue_configurations=[
                s3.CfnBucket.QueueConfigurationProperty(
                    event=event,
                    queue=self.events.queue_arn,
                    filter=s3.CfnBucket.NotificationFilterProperty(
                        s3_key=s3.CfnBucket.S3KeyFilterProperty(
                            rules=[s3.CfnBucket.FilterRuleProperty(name="prefix", value=OBJECT_PREFIX)]
                        )
                    ),
                )
                for event in S3_EVENTS
            ]
        )
        # S3 sends a test message when the configuration is set: the queue must accept it.
        queue_policy = self.events.node.find_child("Policy")  # created by the statement above
        self.objects.cfn_bucket.add_resource_dependency(typing.cast(CfnResource, queue_policy.node.default_child))

        # --- The index table ----------------------------------------------------------------
        self.table = dynamodb.Table(
            self,
            "Index",
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
            self.table.add_global_secondary_index(
                index_name=index_name,
                partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name=sort_key, type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        # Daily backups by the organization's backup policy, on top of point-in-time recovery.
        Tags.of(self.table).add(config.backup_policy.tag_key, config.backup_policy.tag_value)

        # --- Alarm topic: subscriptions outlive any change to the alarms ---------------------
        self.alarm_topic = sns.Topic(
            self,
            "Alarms",
            display_name="S3 object index alarms",
            master_key=key,
            enforce_ssl=True,
        )
        self.alarm_topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.alarm_topic.topic_arn],
                conditions={"StringEquals": this_account, "ArnLike": {"aws:SourceArn": self._alarm_arns()}},
            )
        )
        if settings.alarm_email is not None:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))

        # --- Pagination key: signs the query API's page tokens ---------------------------------
        # (Here, not in the API stack: the secret adds a Secrets Manager statement to the key policy.)
        self.pagination_key = secretsmanager.Secret(
            self,
            "PaginationKey",
            description="S3 object index: HMAC key that signs the query API's pagination tokens",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False
            ),
            # Not retained: it holds no data; losing it only invalidates page tokens in circulation.
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge_nag(
            self.pagination_key,
            "AwsSolutions-SMG4",
            "The key only signs pagination tokens (it grants no access: every request is "
            "IAM-authorized); rotating it invalidates every token in circulation, so it is "
            "rotated by hand when needed, as the pattern's page describes.",
        )

    def _alarm_arns(self) -> str:
        return f"arn:{self.partition}:cloudwatch:{self.region}:{self.account}:alarm:*"
