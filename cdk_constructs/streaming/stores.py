"""The streaming pattern's stores: the data key, the stream, the data lake and its Glue
table, the events table, the on-failure queue and the alarm topic.

Each part adds its resources to the scope it is given under the construct ids the data
stack has always used (see :mod:`cdk_constructs.streaming`), so their logical ids, which
the stateful-id snapshots pin, never move.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Annotations, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag, exempt_control
from cdk_constructs.hardened_bucket import HardenedBucket, Lifecycle
from cdk_constructs.hardened_key import HardenedKey
from cdk_constructs.streaming.names import EVENTS_PREFIX, EVENTS_TABLE_KEY, EVENTS_TABLE_TTL
from org_config.streaming_schema import DATE_PARTITION, EARLIEST_YEAR, EVENT_COLUMNS

# The first day partition projection knows: the earliest the API and the consumer admit.
PROJECTION_START = f"{EARLIEST_YEAR}-01-01"


def _alarm_arns(scope: Construct) -> str:
    stack = Stack.of(scope)
    return f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*"


def streaming_data_key(scope: Construct, *, alias: str) -> HardenedKey:
    """The key of every streaming store (``DataKey``): a :class:`HardenedKey` (rotating,
    retained, administered by the account) that CloudWatch alarms of this account may use
    to publish to the encrypted topic, and CloudWatch Logs to encrypt this account's log
    groups in this region."""
    stack = Stack.of(scope)
    data_key = HardenedKey(
        scope,
        "DataKey",
        alias=alias,
        description="Encrypts the streaming pipeline: stream, data lake, events table, queue, topic and logs",
    )
    data_key.allow_service(
        sid="CloudWatchAlarms",  # alarms publish to the encrypted alarm topic
        service_principal="cloudwatch.amazonaws.com",
        actions=["kms:GenerateDataKey*", "kms:Decrypt"],
        conditions={
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": _alarm_arns(scope)},
        },
    )
    data_key.allow_service(
        sid="CloudWatchLogs",  # the log groups of the functions, API, Firehose and Flink
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
    return data_key


class EventStream:
    """The Kinesis data stream (``Stream``).

    Secure defaults: encrypted with ``key`` (customer-managed); retained when the stack is
    deleted; provisioned with ``shards`` from the sizing, or on demand when ``shards`` is
    None. Each sizing warning is a synth warning on the stream. ``stream`` is the L2.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        key: kms.IKey,
        retention_hours: int,
        shards: int | None,
        warnings: Sequence[str] = (),
    ) -> None:
        on_demand = shards is None
        self.stream = kinesis.Stream(
            scope,
            "Stream",
            encryption=kinesis.StreamEncryption.KMS,
            encryption_key=key,
            retention_period=Duration.hours(retention_hours),
            # Provisioned: the shard count the sizing gives (docs/patterns/streaming.md says why).
            shard_count=shards,
            stream_mode=kinesis.StreamMode.ON_DEMAND if on_demand else kinesis.StreamMode.PROVISIONED,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for warning in warnings:  # e.g. a hot partition key: cdk synth prints it
            Annotations.of(self.stream).add_warning_v2("streaming:sizing", warning)
        acknowledge_nag(
            self.stream,
            "AwsSolutions-KDS3",
            "The stream uses the pattern's customer-managed key on purpose: its key policy, "
            "rotation and retention are this stack's, and every reader is granted it explicitly.",
        )


class DataLake:
    """The data-lake bucket Firehose and Flink write, its access-log bucket and the Glue
    table Athena reads it through (``AccessLogs``, ``DataLake``, ``Catalog``, ``EventsTable``).

    Secure defaults: both buckets are :class:`HardenedBucket` (private, versioned, TLS
    only, deletes denied, retained); the lake is encrypted with ``key`` and keeps each
    delivered object under Object Lock for ``object_lock_days``; the access-log bucket is
    SSE-S3, the only encryption S3 delivers server access logs to. The Glue table uses
    partition projection (no crawler, no partition registered by hand), with the date
    partition first and then ``partition_fields``.

    ``access_logs`` and ``bucket`` are the hardened buckets; ``glue_database`` and
    ``glue_table`` the L1s.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        bucket_name: str,
        key: kms.IKey,
        access_log_lifecycle: Lifecycle,
        lifecycle: Lifecycle,
        object_lock_days: int,
        database_name: str,
        partition_fields: Sequence[str],
    ) -> None:
        account = Stack.of(scope).account
        self.access_logs = HardenedBucket(
            scope,
            "AccessLogs",
            encryption_key=None,  # S3 delivers server access logs only to an SSE-S3 bucket
            access_logs_bucket=None,
            lifecycle=access_log_lifecycle,
        )
        self.bucket = HardenedBucket(
            scope,
            "DataLake",
            bucket_name=bucket_name,
            encryption_key=key,
            access_logs_bucket=self.access_logs.bucket,
            access_logs_prefix="data-lake/",
            lifecycle=lifecycle,
            # Firehose and Flink only add objects; a delivered object is evidence of what arrived.
            object_lock_days=object_lock_days,
        )
        self.glue_database = glue.CfnDatabase(
            scope,
            "Catalog",
            catalog_id=account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=database_name,
                description="Streaming pipeline: events delivered by Firehose as Parquet",
            ),
        )
        partition_columns = [DATE_PARTITION, *partition_fields]
        location = f"s3://{bucket_name}/{EVENTS_PREFIX}"
        template = location + "/".join(f"{name}=${{{name}}}" for name in partition_columns) + "/"
        projection: dict[str, str] = {
            # Partition projection: Athena computes the partitions from these rules, so no
            # crawler runs and no partition is ever registered by hand.
            "projection.enabled": "true",
            f"projection.{DATE_PARTITION}.type": "date",
            f"projection.{DATE_PARTITION}.format": "yyyy-MM-dd",
            f"projection.{DATE_PARTITION}.range": f"{PROJECTION_START},NOW",
            "storage.location.template": template,
        }
        for name in partition_fields:
            projection[f"projection.{name}.type"] = "injected"  # queries name the value
        self.glue_table = glue.CfnTable(
            scope,
            "EventsTable",
            catalog_id=account,
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


class EventsTable:
    """The consumer's idempotent store (``Events``): one item per event id.

    Secure defaults: on-demand billing, encrypted with ``key``, point-in-time recovery,
    deletion protection, retained; items expire through the TTL attribute. ``table`` is
    the L2.
    """

    def __init__(self, scope: Construct, *, key: kms.IKey) -> None:
        self.table = dynamodb.Table(
            scope,
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


class OnFailureQueue:
    """What the consumer gives up on (``OnFailure``): the event source's on-failure
    destination and the consumer's parking place for over-age records.

    Secure defaults: encrypted with ``key``, TLS only, messages kept ``retention_days``.
    It has no dead-letter queue of its own (recorded with the reason). ``queue`` is the L2.
    """

    def __init__(self, scope: Construct, *, key: kms.IKey, retention_days: int) -> None:
        self.queue = sqs.Queue(
            scope,
            "OnFailure",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(retention_days),
        )
        exempt_control(
            self.queue,
            "CT.SQS.PR.1",
            "This queue is the consumer's on-failure destination, the last stop for records it gives "
            "up on; a dead-letter queue behind it would only hold the same messages one step further.",
        )
        acknowledge_nag(
            self.queue,
            "AwsSolutions-SQS3",
            "This queue is the consumer's on-failure destination, the last stop for records it "
            "gives up on; a dead-letter queue behind it would only hide them one step further.",
        )


class AlarmTopic:
    """The topic every alarm of the pipeline publishes to (``Alarms``); its subscriptions
    outlive any change to the alarms.

    Secure defaults: encrypted with ``key``, TLS only, and only CloudWatch alarms of this
    account may publish. ``topic`` is the L2.
    """

    def __init__(self, scope: Construct, *, key: kms.IKey, email: str | None) -> None:
        self.topic = sns.Topic(
            scope, "Alarms", display_name="Streaming pipeline alarms", master_key=key, enforce_ssl=True
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Stack.of(scope).account},
                    "ArnLike": {"aws:SourceArn": _alarm_arns(scope)},
                },
            )
        )
        if email is not None:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
