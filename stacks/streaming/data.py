"""The streaming pattern's stateful half: everything that holds data or keys.

    producers ─► (pipeline stack: ingestion API) ─► stream (KMS, retention, shards from the sizing)
    stream ─► (pipeline stack: Firehose) ─► data-lake bucket, events/… as Parquet ◄── Glue table (schema in the repo)
                                                              errors/… (records Firehose could not convert)
    stream ─► (pipeline stack: consumer function) ─► events table (one item per event id)
                                                   └─► on-failure queue (batches given up on, over-age records)
    data key (KMS, rotating): stream, buckets, table, queue, alarm topic, log groups
    alarm topic ─► email (optional)

Nothing here changes when a function, the API, Firehose or the Flink job changes, so a
stateless change can never replace the stream, the bucket or the table; they are retained
if the stack is deleted.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag, exempt_control
from cdk_constructs.hardened_bucket import HardenedBucket, Lifecycle
from cdk_constructs.hardened_key import HardenedKey
from org_config.model import OrgConfig
from org_config.streaming_schema import DATE_PARTITION, EVENT_COLUMNS
from org_config.streaming_sizing import StreamSizing
from stacks.streaming import (
    EVENTS_PREFIX,
    EVENTS_TABLE_KEY,
    EVENTS_TABLE_TTL,
    ON_FAILURE_RETENTION_DAYS,
    data_lake_bucket_name,
)


class StreamingDataStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: OrgConfig, sizing: StreamSizing, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = config.streaming
        this_account = {"aws:SourceAccount": self.account}
        alarm_arns = f"arn:{self.partition}:cloudwatch:{self.region}:{self.account}:alarm:*"

        self.data_key = HardenedKey(
            self,
            "DataKey",
            alias=f"alias/{config.organization.name_prefix}/streaming",
            description="Encrypts the streaming pipeline: stream, data lake, events table, queue, topic and logs",
        )
        key = self.data_key.key
        self.data_key.allow_service(
            sid="CloudWatchAlarms",  # alarms publish to the encrypted alarm topic
            service_principal="cloudwatch.amazonaws.com",
            actions=["kms:GenerateDataKey*", "kms:Decrypt"],
            conditions={"StringEquals": this_account, "ArnLike": {"aws:SourceArn": alarm_arns}},
        )
        self.data_key.allow_service(
            sid="CloudWatchLogs",  # the log groups of the functions, API, Firehose and Flink
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

        # --- The stream ------------------------------------------------------------------------
        on_demand = settings.capacity_mode == "on-demand"
        self.stream = kinesis.Stream(
            self,
            "Stream",
            encryption=kinesis.StreamEncryption.KMS,
            encryption_key=key,
            retention_period=Duration.hours(settings.retention_hours),
            # Provisioned: the shard count the sizing gives (docs/patterns/streaming.md says why).
            shard_count=None if on_demand else sizing.shards,
            stream_mode=kinesis.StreamMode.ON_DEMAND if on_demand else kinesis.StreamMode.PROVISIONED,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for warning in sizing.warnings:  # e.g. a hot partition key: cdk synth prints it
            Annotations.of(self.stream).add_warning_v2("streaming:sizing", warning)
        acknowledge_nag(
            self.stream,
            "AwsSolutions-KDS3",
            "The stream uses the pattern's customer-managed key on purpose: its key policy, "
            "rotation and retention are this stack's, and every reader is granted it explicitly.",
        )

        # --- Data lake: Firehose writes Parquet here; Athena reads it through the Glue table --
        log_retention = config.log_archive
        self.access_logs = HardenedBucket(
            self,
            "AccessLogs",
            encryption_key=None,  # S3 delivers server access logs only to an SSE-S3 bucket
            access_logs_bucket=None,
            lifecycle=Lifecycle(
                infrequent_access_after_days=log_retention.transition_to_infrequent_access_days,
                glacier_after_days=log_retention.transition_to_glacier_days,
                expire_after_days=log_retention.expire_after_days,
                noncurrent_expire_after_days=log_retention.noncurrent_versions_expire_after_days,
            ),
        )
        self.data_lake = HardenedBucket(
            self,
            "DataLake",
            bucket_name=data_lake_bucket_name(config),
            encryption_key=key,
            access_logs_bucket=self.access_logs.bucket,
            access_logs_prefix="data-lake/",
            lifecycle=Lifecycle(
                infrequent_access_after_days=settings.transition_to_infrequent_access_days,
                glacier_after_days=settings.transition_to_glacier_days,
                expire_after_days=settings.expire_after_days,
                noncurrent_expire_after_days=settings.noncurrent_versions_expire_after_days,
            ),
            # Firehose and Flink only add objects; a delivered object is evidence of what arrived.
            object_lock_days=settings.data_lake_object_lock_days,
        )

        self.glue_database = glue.CfnDatabase(
            self,
            "Catalog",
            catalog_id=self.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=f"{config.organization.name_prefix.replace('-', '_')}_streaming",
                description="Streaming pipeline: events delivered by Firehose as Parquet",
            ),
        )
        partition_columns = [DATE_PARTITION, *settings.partition_fields]
        location = f"s3://{data_lake_bucket_name(config)}/{EVENTS_PREFIX}"
        template = location + "/".join(f"{name}=${{{name}}}" for name in partition_columns) + "/"
        projection: dict[str, str] = {
            # Partition projection: Athena computes the partitions from these rules, so no
            # crawler runs and no partition is ever registered by hand.
            "projection.enabled": "true",
            f"projection.{DATE_PARTITION}.type": "date",
            f"projection.{DATE_PARTITION}.format": "yyyy-MM-dd",
            f"projection.{DATE_PARTITION}.range": "2020-01-01,NOW",
            "storage.location.template": template,
        }
        for name in settings.partition_fields:
            projection[f"projection.{name}.type"] = "injected"  # queries name the value
        self.glue_table = glue.CfnTable(
            self,
            "EventsTable",
            catalog_id=self.account,
            database_name=self.glue_database.ref,
            table_input=glue.CfnTable.TableInputProperty(
                name="events",
                description="Events from the stream; schema: analysis/streaming_schema.py",
                table_type="EXTERNAL_TABLE",
                parameters={"classification": "parquet", **projection},
                partition_keys=[glue.CfnTable.ColumnProperty(name=name, type="string") for name in partition_columns],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    # Partition columns live in the S3 key, not in the files.
                    columns=[
                        glue.CfnTable.ColumnProperty(name=name, type=type_)
                        for name, type_ in EVENT_COLUMNS
                        if name not in partition_columns
                    ],
                    location=location,
                    input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                    ),
                ),
            ),
        )

        # --- Events table: the consumer's idempotent store ------------------------------------
        self.events_table = dynamodb.Table(
            self,
            "Events",
            partition_key=dynamodb.Attribute(name=EVENTS_TABLE_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            time_to_live_attribute=EVENTS_TABLE_TTL,
            removal_policy=RemovalPolicy.RETAIN,
        )

        # --- On-failure queue: what the consumer gives up on ----------------------------------
        self.on_failure = sqs.Queue(
            self,
            "OnFailure",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(ON_FAILURE_RETENTION_DAYS),
        )
        exempt_control(
            self.on_failure,
            "CT.SQS.PR.1",
            "This queue is the consumer's on-failure destination, the last stop for records it gives "
            "up on; a dead-letter queue behind it would only hold the same messages one step further.",
        )
        acknowledge_nag(
            self.on_failure,
            "AwsSolutions-SQS3",
            "This queue is the consumer's on-failure destination, the last stop for records it "
            "gives up on; a dead-letter queue behind it would only hide them one step further.",
        )

        # --- Alarm topic: subscriptions outlive any change to the alarms ---------------------
        self.alarm_topic = sns.Topic(
            self, "Alarms", display_name="Streaming pipeline alarms", master_key=key, enforce_ssl=True
        )
        self.alarm_topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.alarm_topic.topic_arn],
                conditions={"StringEquals": this_account, "ArnLike": {"aws:SourceArn": alarm_arns}},
            )
        )
        if settings.alarm_email is not None:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
