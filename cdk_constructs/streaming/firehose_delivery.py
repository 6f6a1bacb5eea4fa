"""The Firehose delivery: the stream into the data lake as partitioned Parquet."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag
from cdk_constructs.streaming.names import ERRORS_PREFIX, EVENTS_PREFIX
from cdk_constructs.streaming.shared import READ_STREAM_ACTIONS

# The times the API admits, as Joda-Time patterns (org_config/streaming_schema.py).
from org_config.streaming_schema import DATE_PARTITION, FIREHOSE_TIMESTAMP_FORMATS, TIME_FIELD

FIREHOSE_PARTITIONING_RETRY_SECONDS = 300

_Cfn = firehose.CfnDeliveryStream


class FirehoseDelivery:
    """A delivery stream (``DeliveryStream``) reading the Kinesis stream and writing the
    data lake, with its role (``FirehoseRole``), policy (``FirehosePolicy``) and log stream.

    Secure defaults: the role may only be assumed by Firehose for this account (external
    id), read the stream, use the data key, write under ``events/`` and ``errors/``, read
    the Glue table's schema and write its own log stream; objects are SSE-KMS with the data
    key; delivery errors are logged to ``log_group``. Records are partitioned by the date
    (the first ten characters of the event time, extracted with JQ) and then
    ``partition_fields``; with ``parquet_conversion`` they are converted with the Glue
    table's schema, and what cannot be converted or partitioned goes under ``errors/``.

    ``delivery_stream`` (L1), ``role`` and ``policy`` are the constructs.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        stream_arn: str,
        key_arn: str,
        bucket_arn: str,
        database: str,
        table: str,
        log_group: logs.LogGroup,
        partition_fields: Sequence[str],
        parquet_conversion: bool,
        buffer_mib: int,
        buffer_seconds: int,
    ) -> None:
        stack = Stack.of(scope)
        glue_arn = f"arn:{stack.partition}:glue:{stack.region}:{stack.account}"
        log_stream = logs.LogStream(
            scope, "FirehoseDeliveryLogs", log_group=log_group, removal_policy=RemovalPolicy.DESTROY
        )
        self.role = iam.Role(
            scope,
            "FirehoseRole",
            assumed_by=iam.ServicePrincipal(
                "firehose.amazonaws.com", conditions={"StringEquals": {"sts:ExternalId": stack.account}}
            ),
            description="Lets Firehose read the stream, look up the Glue schema and write the data lake",
        )
        self.policy = iam.Policy(
            scope,
            "FirehosePolicy",
            roles=[self.role],
            statements=_statements(stream_arn, key_arn, bucket_arn, glue_arn, database, table, log_group),
        )
        for prefix in (EVENTS_PREFIX, ERRORS_PREFIX):
            acknowledge_nag(
                self.policy,
                f"AwsSolutions-IAM5[Resource::{bucket_arn}/{prefix}*]",
                "Firehose names each object it writes (partition path, time, random suffix); the "
                "prefix it writes under is the narrowest scope there is.",
            )
        partition_keys = [DATE_PARTITION, *partition_fields]
        conversion = self._conversion(database, table) if parquet_conversion else None
        self.delivery_stream = firehose.CfnDeliveryStream(
            scope,
            "DeliveryStream",
            delivery_stream_type="KinesisStreamAsSource",
            kinesis_stream_source_configuration=_Cfn.KinesisStreamSourceConfigurationProperty(
                kinesis_stream_arn=stream_arn, role_arn=self.role.role_arn
            ),
            extended_s3_destination_configuration=_Cfn.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=bucket_arn,
                role_arn=self.role.role_arn,
                prefix=EVENTS_PREFIX + "".join(f"{name}=!{{partitionKeyFromQuery:{name}}}/" for name in partition_keys),
                error_output_prefix=f"{ERRORS_PREFIX}!{{firehose:error-output-type}}/!{{timestamp:yyyy-MM-dd}}/",
                # Parquet needs at least 64 MiB (the config checks it); larger files read faster.
                buffering_hints=_Cfn.BufferingHintsProperty(
                    size_in_m_bs=buffer_mib, interval_in_seconds=buffer_seconds
                ),
                compression_format="UNCOMPRESSED",  # Parquet compresses its own pages (Snappy)
                encryption_configuration=_Cfn.EncryptionConfigurationProperty(
                    kms_encryption_config=_Cfn.KMSEncryptionConfigProperty(awskms_key_arn=key_arn)
                ),
                cloud_watch_logging_options=_Cfn.CloudWatchLoggingOptionsProperty(
                    enabled=True, log_group_name=log_group.log_group_name, log_stream_name=log_stream.log_stream_name
                ),
                data_format_conversion_configuration=conversion,
                dynamic_partitioning_configuration=_Cfn.DynamicPartitioningConfigurationProperty(
                    enabled=True,
                    retry_options=_Cfn.RetryOptionsProperty(duration_in_seconds=FIREHOSE_PARTITIONING_RETRY_SECONDS),
                ),
                processing_configuration=_partition_key_extraction(partition_fields),
            ),
        )
        self.delivery_stream.node.add_dependency(self.policy)  # Firehose checks its rights when it is created
        acknowledge_nag(
            self.delivery_stream,
            "AwsSolutions-KDF1",
            "Server-side encryption of a delivery stream applies only to Direct PUT sources; "
            "this one reads the KMS-encrypted stream and writes SSE-KMS objects with the data key.",
        )

    def _conversion(self, database: str, table: str) -> _Cfn.DataFormatConversionConfigurationProperty:
        stack = Stack.of(self.role)
        return _Cfn.DataFormatConversionConfigurationProperty(
            enabled=True,
            input_format_configuration=_Cfn.InputFormatConfigurationProperty(
                deserializer=_Cfn.DeserializerProperty(
                    hive_json_ser_de=_Cfn.HiveJsonSerDeProperty(timestamp_formats=list(FIREHOSE_TIMESTAMP_FORMATS))
                )
            ),
            output_format_configuration=_Cfn.OutputFormatConfigurationProperty(
                serializer=_Cfn.SerializerProperty(parquet_ser_de=_Cfn.ParquetSerDeProperty(compression="SNAPPY"))
            ),
            schema_configuration=_Cfn.SchemaConfigurationProperty(
                catalog_id=stack.account,
                database_name=database,
                table_name=table,
                region=stack.region,
                role_arn=self.role.role_arn,
                version_id="LATEST",
            ),
        )


def _statements(
    stream_arn: str, key_arn: str, bucket_arn: str, glue_arn: str, database: str, table: str, log_group: logs.LogGroup
) -> list[iam.PolicyStatement]:
    """What Firehose may do: read the stream, use the key, write two prefixes, read the schema, log."""
    return [
        iam.PolicyStatement(sid="ReadStream", actions=READ_STREAM_ACTIONS, resources=[stream_arn]),
        iam.PolicyStatement(
            sid="UseDataKey",  # decrypt the stream, encrypt the objects
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[key_arn],
        ),
        iam.PolicyStatement(
            sid="WriteDataLake",
            actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            resources=[f"{bucket_arn}/{EVENTS_PREFIX}*", f"{bucket_arn}/{ERRORS_PREFIX}*"],
        ),
        iam.PolicyStatement(
            sid="ListDataLake",
            actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            resources=[bucket_arn],
        ),
        iam.PolicyStatement(
            sid="ReadSchema",
            actions=["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
            resources=[
                f"{glue_arn}:catalog",
                f"{glue_arn}:database/{database}",
                f"{glue_arn}:table/{database}/{table}",
            ],
        ),
        iam.PolicyStatement(
            sid="WriteDeliveryLogs", actions=["logs:PutLogEvents"], resources=[log_group.log_group_arn]
        ),
    ]


def _partition_key_extraction(
    partition_fields: Sequence[str],
) -> firehose.CfnDeliveryStream.ProcessingConfigurationProperty:
    """JQ over each record: the date is the first 10 characters of the event time."""
    extraction = ", ".join(
        [f"{DATE_PARTITION}: .{TIME_FIELD}[0:10]", *(f"{name}: .{name}" for name in partition_fields)]
    )
    return _Cfn.ProcessingConfigurationProperty(
        enabled=True,
        processors=[
            _Cfn.ProcessorProperty(
                type="MetadataExtraction",
                parameters=[
                    _Cfn.ProcessorParameterProperty(
                        parameter_name="MetadataExtractionQuery", parameter_value=f"{{{extraction}}}"
                    ),
                    _Cfn.ProcessorParameterProperty(parameter_name="JsonParsingEngine", parameter_value="JQ-1.6"),
                ],
            )
        ],
    )
