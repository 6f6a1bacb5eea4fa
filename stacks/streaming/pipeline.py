"""The streaming pattern's stateless half: ingestion, consumers, delivery and alarms.

    producer (SigV4) ─► REST API (IAM auth, validated body, throttled) ─► Kinesis PutRecords ─► stream
    stream ─► enhanced fan-out consumer ─► event source mapping ─► consumer function ─► events table
                                            (bisect, bounded retries, maximum age)  └─► on-failure queue
    stream ─► Firehose ─► JSON to Parquet (Glue table) ─► data lake events/event_date=…/event_type=…/
                                                        └─► errors/… (conversion or partitioning failed)
    stream ─► enhanced fan-out consumer ─► Flink application (per-type window counts) ─► data lake window-counts/
    alarms (thresholds from the settings: analysis/streaming/alarms.py) ─► alarm topic (data stack)

Everything here can be deleted and recreated without losing a record: the stream keeps
records for its retention, and the data stack holds every store.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import CfnResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisanalyticsv2 as flink
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from analysis.streaming.alarms import alarm_specs
from cdk_constructs.api_gateway_logging import api_gateway_account_logging
from cdk_constructs.gates import acknowledge_nag, exempt_control, skip_checkov
from cdk_constructs.hardened_function import HardenedFunction
from cdk_constructs.lambda_runtime import ARCHITECTURE, RUNTIME, powertools_layer_arn
from org_config.model import OrgConfig
from org_config.streaming_schema import DATE_PARTITION, REQUIRED_FIELDS, TIME_FIELD
from org_config.streaming_sizing import StreamSizing
from stacks.streaming import (
    ERRORS_PREFIX,
    EVENT_TTL_DAYS,
    EVENTS_PREFIX,
    FLINK_RUNTIME,
    ON_DEMAND_INITIAL_SHARDS,
    WINDOW_COUNTS_PREFIX,
    data_lake_bucket_arn,
    data_lake_bucket_name,
)
from stacks.streaming.data import StreamingDataStack

ROOT = Path(__file__).resolve().parents[2]
HANDLER_CODE = str(ROOT / "lambdas" / "streaming")
FLINK_CODE = str(ROOT / "flink" / "streaming")
STAGE_NAME = "v1"
MAX_RECORDS_PER_REQUEST = 500  # what one PutRecords call accepts
MAX_PARTITION_KEY_LENGTH = 256
FLINK_OUT_OF_ORDERNESS_SECONDS = 5  # how late an event may arrive and still count in its window
FIREHOSE_PARTITIONING_RETRY_SECONDS = 300
EVENT_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"


class StreamingPipelineStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: OrgConfig,
        sizing: StreamSizing,
        data: StreamingDataStack,
        api_gateway_logging_role_exists: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = config.streaming
        key = data.data_key.key
        stream = data.stream

        def log_group(construct_id: str) -> logs.LogGroup:
            group = logs.LogGroup(self, construct_id, encryption_key=key)
            typing.cast(logs.CfnLogGroup, _cfn(group)).retention_in_days = settings.log_retention_days
            exempt_control(
                group,
                "CT.CLOUDWATCH.PR.3",
                "Encrypted with the data stack's customer-managed key; the rule does not resolve the "
                "Fn::GetStackOutput that carries that key's ARN and sees no key.",
            )
            return group

        def fan_out(name: str) -> kinesis.CfnStreamConsumer:
            return kinesis.CfnStreamConsumer(self, f"{name}FanOut", consumer_name=name, stream_arn=stream.stream_arn)

        # --- Consumer function: events into the events table, once each -----------------------
        shards_for_concurrency = sizing.shards
        if settings.capacity_mode == "on-demand":
            shards_for_concurrency = max(sizing.shards, ON_DEMAND_INITIAL_SHARDS)
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self, "Powertools", powertools_layer_arn(self.partition, self.region)
        )
        self.consumer = HardenedFunction(
            self,
            "Consumer",
            code_path=HANDLER_CODE,
            handler="consumer.handler",
            description="Streaming pipeline: applies stream records to the events table, once each",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            layers=[powertools],
            environment={
                "EVENTS_TABLE_NAME": data.events_table.table_name,
                "ON_FAILURE_QUEUE_URL": data.on_failure.queue_url,
                "MAXIMUM_RECORD_AGE_SECONDS": str(settings.maximum_record_age_seconds),
                "EVENT_TTL_DAYS": str(EVENT_TTL_DAYS),
                "POWERTOOLS_SERVICE_NAME": "stream-consumer",
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
            key=key,
            log_retention_days=settings.log_retention_days,
            # One concurrent batch per shard and parallelization slot: the most the event
            # source ever runs, so it is never throttled and never starves other functions.
            reserved_concurrency=shards_for_concurrency * settings.parallelization_factor,
            timeout=Duration.seconds(settings.consumer_timeout_seconds),
        )
        role = self.consumer.role
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteEventsOnce",  # conditional PutItem only: never update, delete or read
                actions=["dynamodb:PutItem"],
                resources=[data.events_table.table_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ParkRecords",  # over-age records; the event source sends its own with this right too
                actions=["sqs:SendMessage"],
                resources=[data.on_failure.queue_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="UseDataKey",  # read the stream, write the table and the queue
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[key.key_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadStream",
                actions=[
                    "kinesis:DescribeStream",
                    "kinesis:DescribeStreamSummary",
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                    "kinesis:ListShards",
                ],
                resources=[stream.stream_arn],
            )
        )
        source_arn = stream.stream_arn
        if settings.lambda_consumer == "enhanced-fan-out":
            self.consumer_fan_out = fan_out("lambda-consumer")
            source_arn = self.consumer_fan_out.attr_consumer_arn
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="ReadThroughFanOut",
                    actions=["kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer"],
                    resources=[self.consumer_fan_out.attr_consumer_arn],
                )
            )
        self.event_source = lambda_.EventSourceMapping(
            self,
            "ConsumerEventSource",
            target=self.consumer.function,
            event_source_arn=source_arn,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,  # nothing the stream holds is skipped
            batch_size=settings.batch_size,
            max_batching_window=Duration.seconds(settings.batching_window_seconds),
            parallelization_factor=settings.parallelization_factor,
            bisect_batch_on_error=True,  # a failed invocation is split until the bad record is alone
            retry_attempts=settings.maximum_retry_attempts,
            # Below the retention (the config checks it): records are given up, not lost unseen.
            max_record_age=Duration.seconds(settings.maximum_record_age_seconds),
            report_batch_item_failures=True,
            on_failure=_OnFailureQueue(data.on_failure.queue_arn),
        )
        # The mapping must wait for the role's policy: Lambda checks the rights when it is created.
        self.event_source.node.add_dependency(role)

        # --- Ingestion API: producers call PutRecords through API Gateway ----------------------
        self.api = self._ingestion_api(config, data, log_group("ApiAccessLogs"), api_gateway_logging_role_exists)

        # --- Firehose: the stream into the data lake, as partitioned Parquet --------------------
        self.delivery_stream = self._firehose(config, data, log_group("FirehoseLogs"))

        # --- Flink: per-type tumbling-window counts -----------------------------------------------
        self.flink_application = self._flink(config, data, log_group("FlinkLogs"), fan_out)

        # --- Alarms ------------------------------------------------------------------------------
        action = cloudwatch_actions.SnsAction(data.alarm_topic)
        dimensions = {
            "stream": {"StreamName": stream.stream_name},
            "function": {"FunctionName": self.consumer.function.function_name},
            "queue": {"QueueName": data.on_failure.queue_name},
            "delivery_stream": {"DeliveryStreamName": self.delivery_stream.ref},
            "application": {"Application": self.flink_application.ref},
            "api": {"ApiName": self.api.rest_api_name, "Stage": STAGE_NAME},
        }
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for spec in alarm_specs(settings, sizing):
            alarm = cloudwatch.Alarm(
                self,
                spec.construct_id,
                # The arithmetic travels with the alarm, so an operator sees why the threshold is what it is.
                alarm_description=f"{spec.description}. Threshold: {spec.arithmetic}.",
                metric=cloudwatch.Metric(
                    namespace=spec.namespace,
                    metric_name=spec.metric_name,
                    dimensions_map=dimensions[spec.resource],
                    statistic=spec.statistic,
                    period=Duration.seconds(spec.period_seconds),
                ),
                threshold=spec.threshold,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
            self.alarms[spec.construct_id] = alarm

        skip_checkov(
            _cfn(self.consumer.function),
            "CKV_AWS_116",
            "Invoked synchronously by the Kinesis event source, which has its own on-failure "
            "destination (the on-failure queue); a function dead-letter queue only receives "
            "failed asynchronous invocations.",
        )
        exempt_control(
            self.consumer.function,
            "CT.LAMBDA.PR.3",
            "Calls only AWS regional APIs (Kinesis, DynamoDB, SQS, KMS) and reaches nothing inside a "
            "VPC; a VPC would add endpoints to pay for and no isolation.",
        )
        skip_checkov(
            _cfn(self.consumer.function),
            "CKV_AWS_117",
            "The function reaches only Kinesis, DynamoDB and SQS through their public endpoints "
            "with IAM; it has no network resource to reach in a VPC.",
        )

    # -------------------------------------------------------------------------------------------

    def _ingestion_api(
        self, config: OrgConfig, data: StreamingDataStack, access_logs: logs.LogGroup, logging_role_exists: bool
    ) -> apigateway.RestApi:
        settings = config.streaming
        stream = data.stream
        put_role = iam.Role(
            self,
            "ApiPutRecordsRole",
            assumed_by=iam.ServicePrincipal(
                "apigateway.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": self.account}}
            ),
            description="Lets the ingestion API put records into the stream",
        )
        put_role.add_to_policy(
            iam.PolicyStatement(sid="PutRecords", actions=["kinesis:PutRecords"], resources=[stream.stream_arn])
        )
        put_role.add_to_policy(
            iam.PolicyStatement(
                sid="EncryptRecords", actions=["kms:GenerateDataKey"], resources=[data.data_key.key.key_arn]
            )
        )
        api = apigateway.RestApi(
            self,
            "IngestionApi",
            # The API's 5XX metric is per API name: a name of its own keeps other APIs out of the alarm.
            rest_api_name=f"{self.stack_name}-ingestion",
            description="Streaming pipeline: producers put events into the stream (PutRecords)",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            cloud_watch_role=False,
            default_method_options=apigateway.MethodOptions(authorization_type=apigateway.AuthorizationType.IAM),
            deploy_options=apigateway.StageOptions(
                stage_name=STAGE_NAME,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # full request logging would log the events themselves
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=settings.api_rate_limit_per_second,
                throttling_burst_limit=settings.api_burst_limit,
            ),
        )
        if not logging_role_exists:
            api.deployment_stage.node.add_dependency(api_gateway_account_logging(self))
        model = api.add_model(
            "PutEvents",
            content_type="application/json",
            model_name="PutEvents",
            schema=apigateway.JsonSchema(
                schema=apigateway.JsonSchemaVersion.DRAFT4,
                type=apigateway.JsonSchemaType.OBJECT,
                required=["records"],
                additional_properties=False,
                properties={
                    "records": apigateway.JsonSchema(
                        type=apigateway.JsonSchemaType.ARRAY,
                        min_items=1,
                        max_items=MAX_RECORDS_PER_REQUEST,
                        items=apigateway.JsonSchema(
                            type=apigateway.JsonSchemaType.OBJECT,
                            required=["partition_key", "data"],
                            additional_properties=False,
                            properties={
                                "partition_key": apigateway.JsonSchema(
                                    type=apigateway.JsonSchemaType.STRING,
                                    min_length=1,
                                    max_length=MAX_PARTITION_KEY_LENGTH,
                                ),
                                "data": apigateway.JsonSchema(
                                    type=apigateway.JsonSchemaType.OBJECT,
                                    required=list(REQUIRED_FIELDS),
                                    properties={
                                        **{
                                            name: apigateway.JsonSchema(
                                                type=apigateway.JsonSchemaType.STRING, min_length=1
                                            )
                                            for name in REQUIRED_FIELDS
                                        },
                                        # A time with a UTC offset, as the consumer and the Glue schema expect.
                                        TIME_FIELD: apigateway.JsonSchema(
                                            type=apigateway.JsonSchemaType.STRING, pattern=EVENT_TIME_PATTERN
                                        ),
                                    },
                                ),
                            },
                        ),
                    )
                },
            ),
        )
        validator = api.add_request_validator("Body", validate_request_body=True, validate_request_parameters=True)
        # Each record's data is the event as JSON, base64-encoded as PutRecords expects; the
        # partition key comes from the request (the producer chooses it, e.g. the customer id).
        request_template = (
            "{\n"
            f'  "StreamName": "{stream.stream_name}",\n'
            '  "Records": [\n'
            "#foreach($record in $input.path('$.records'))\n"
            "    {\n"
            '      "Data": "$util.base64Encode($input.json("$.records[$foreach.index].data"))",\n'
            # $input.json quotes and escapes the key as JSON ($util.escapeJavaScript would turn ' into \', not JSON).
            '      "PartitionKey": $input.json("$.records[$foreach.index].partition_key")\n'
            "    }#if($foreach.hasNext),#end\n"
            "#end\n"
            "  ]\n"
            "}"
        )
        integration = apigateway.AwsIntegration(
            service="kinesis",
            action="PutRecords",
            integration_http_method="POST",
            options=apigateway.IntegrationOptions(
                credentials_role=put_role,
                passthrough_behavior=apigateway.PassthroughBehavior.NEVER,  # only the validated JSON shape
                request_templates={"application/json": request_template},
                integration_responses=[
                    # PutRecords answers 200 even when some records failed: FailedRecordCount and
                    # each record's ErrorCode go back to the producer, which retries those records.
                    apigateway.IntegrationResponse(status_code="200"),
                    apigateway.IntegrationResponse(status_code="400", selection_pattern="4\\d{2}"),
                    apigateway.IntegrationResponse(status_code="500", selection_pattern="5\\d{2}"),
                ],
            ),
        )
        method = api.root.add_resource("events").add_method(
            "POST",
            integration,
            authorization_type=apigateway.AuthorizationType.IAM,
            request_validator=validator,
            request_models={"application/json": model},
            method_responses=[apigateway.MethodResponse(status_code=code) for code in ("200", "400", "500")],
        )
        acknowledge_nag(
            method,
            "AwsSolutions-COG4",
            "Producers are AWS principals authorized with IAM (SigV4), not end users of a "
            "Cognito user pool; this method requires IAM authorization.",
        )
        stage = _cfn(api.deployment_stage)
        acknowledge_nag(
            stage,
            "AwsSolutions-APIG3",
            "The only method requires SigV4-signed requests (IAM authorization), which API "
            "Gateway checks before the integration runs, and the stage is throttled; a web ACL "
            "would add per-request cost without a threat it stops for such an API.",
        )
        skip_checkov(
            stage,
            "CKV_AWS_120",
            "Every request writes new events; a stage cache would answer a write from cache and "
            "bill an always-on cache cluster.",
        )
        return api

    def _firehose(
        self, config: OrgConfig, data: StreamingDataStack, log_group: logs.LogGroup
    ) -> firehose.CfnDeliveryStream:
        settings = config.streaming
        bucket_arn = data_lake_bucket_arn(config, self.partition)
        database = data.glue_database.ref
        table = data.glue_table.ref
        log_stream = logs.LogStream(
            self, "FirehoseDeliveryLogs", log_group=log_group, removal_policy=RemovalPolicy.DESTROY
        )
        role = iam.Role(
            self,
            "FirehoseRole",
            assumed_by=iam.ServicePrincipal(
                "firehose.amazonaws.com", conditions={"StringEquals": {"sts:ExternalId": self.account}}
            ),
            description="Lets Firehose read the stream, look up the Glue schema and write the data lake",
        )
        policy = iam.Policy(
            self,
            "FirehosePolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="ReadStream",
                    actions=[
                        "kinesis:DescribeStream",
                        "kinesis:DescribeStreamSummary",
                        "kinesis:GetRecords",
                        "kinesis:GetShardIterator",
                        "kinesis:ListShards",
                    ],
                    resources=[data.stream.stream_arn],
                ),
                iam.PolicyStatement(
                    sid="UseDataKey",  # decrypt the stream, encrypt the objects
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[data.data_key.key.key_arn],
                ),
                iam.PolicyStatement(
                    sid="WriteDataLake",
                    actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                    resources=[
                        f"{bucket_arn}/{EVENTS_PREFIX}*",
                        f"{bucket_arn}/{ERRORS_PREFIX}*",
                    ],
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
                        f"arn:{self.partition}:glue:{self.region}:{self.account}:catalog",
                        f"arn:{self.partition}:glue:{self.region}:{self.account}:database/{database}",
                        f"arn:{self.partition}:glue:{self.region}:{self.account}:table/{database}/{table}",
                    ],
                ),
                iam.PolicyStatement(
                    sid="WriteDeliveryLogs",
                    actions=["logs:PutLogEvents"],
                    resources=[log_group.log_group_arn],
                ),
            ],
        )
        for prefix in (EVENTS_PREFIX, ERRORS_PREFIX):
            acknowledge_nag(
                policy,
                f"AwsSolutions-IAM5[Resource::{bucket_arn}/{prefix}*]",
                "Firehose names each object it writes (partition path, time, random suffix); the "
                "prefix it writes under is the narrowest scope there is.",
            )
        partition_keys = [DATE_PARTITION, *settings.partition_fields]
        # JQ over each record: the date is the first 10 characters of the event time.
        extraction = ", ".join(
            [f"{DATE_PARTITION}: .{TIME_FIELD}[0:10]", *(f"{name}: .{name}" for name in settings.partition_fields)]
        )
        prefix = EVENTS_PREFIX + "".join(f"{name}=!{{partitionKeyFromQuery:{name}}}/" for name in partition_keys)
        conversion = None
        if settings.parquet_conversion:
            conversion = firehose.CfnDeliveryStream.DataFormatConversionConfigurationProperty(
                enabled=True,
                input_format_configuration=firehose.CfnDeliveryStream.InputFormatConfigurationProperty(
                    deserializer=firehose.CfnDeliveryStream.DeserializerProperty(
                        # ISO 8601 event times with an offset, as producers write them.
                        hive_json_ser_de=firehose.CfnDeliveryStream.HiveJsonSerDeProperty(
                            timestamp_formats=["yyyy-MM-dd'T'HH:mm:ssZZ", "yyyy-MM-dd'T'HH:mm:ss.SSSZZ"]
                        )
                    )
                ),
                output_format_configuration=firehose.CfnDeliveryStream.OutputFormatConfigurationProperty(
                    serializer=firehose.CfnDeliveryStream.SerializerProperty(
                        parquet_ser_de=firehose.CfnDeliveryStream.ParquetSerDeProperty(compression="SNAPPY")
                    )
                ),
                schema_configuration=firehose.CfnDeliveryStream.SchemaConfigurationProperty(
                    catalog_id=self.account,
                    database_name=database,
                    table_name=table,
                    region=self.region,
                    role_arn=role.role_arn,
                    version_id="LATEST",
                ),
            )
        delivery = firehose.CfnDeliveryStream(
            self,
            "DeliveryStream",
            delivery_stream_type="KinesisStreamAsSource",
            kinesis_stream_source_configuration=firehose.CfnDeliveryStream.KinesisStreamSourceConfigurationProperty(
                kinesis_stream_arn=data.stream.stream_arn, role_arn=role.role_arn
            ),
            extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=bucket_arn,
                role_arn=role.role_arn,
                prefix=prefix,
                error_output_prefix=f"{ERRORS_PREFIX}!{{firehose:error-output-type}}/!{{timestamp:yyyy-MM-dd}}/",
                # Parquet needs at least 64 MiB (the config checks it); larger files read faster.
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                    size_in_m_bs=settings.firehose_buffer_mib,
                    interval_in_seconds=settings.firehose_buffer_seconds,
                ),
                compression_format="UNCOMPRESSED",  # Parquet compresses its own pages (Snappy)
                encryption_configuration=firehose.CfnDeliveryStream.EncryptionConfigurationProperty(
                    kms_encryption_config=firehose.CfnDeliveryStream.KMSEncryptionConfigProperty(
                        awskms_key_arn=data.data_key.key.key_arn
                    )
                ),
                cloud_watch_logging_options=firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                    enabled=True, log_group_name=log_group.log_group_name, log_stream_name=log_stream.log_stream_name
                ),
                data_format_conversion_configuration=conversion,
                dynamic_partitioning_configuration=firehose.CfnDeliveryStream.DynamicPartitioningConfigurationProperty(
                    enabled=True,
                    retry_options=firehose.CfnDeliveryStream.RetryOptionsProperty(
                        duration_in_seconds=FIREHOSE_PARTITIONING_RETRY_SECONDS
                    ),
                ),
                processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                    enabled=True,
                    processors=[
                        firehose.CfnDeliveryStream.ProcessorProperty(
                            type="MetadataExtraction",
                            parameters=[
                                firehose.CfnDeliveryStream.ProcessorParameterProperty(
                                    parameter_name="MetadataExtractionQuery", parameter_value=f"{{{extraction}}}"
                                ),
                                firehose.CfnDeliveryStream.ProcessorParameterProperty(
                                    parameter_name="JsonParsingEngine", parameter_value="JQ-1.6"
                                ),
                            ],
                        )
                    ],
                ),
            ),
        )
        delivery.node.add_dependency(policy)  # Firehose checks its rights when it is created
        acknowledge_nag(
            delivery,
            "AwsSolutions-KDF1",
            "Server-side encryption of a delivery stream applies only to Direct PUT sources; "
            "this one reads the KMS-encrypted stream and writes SSE-KMS objects with the data key.",
        )
        return delivery

    def _flink(
        self,
        config: OrgConfig,
        data: StreamingDataStack,
        log_group: logs.LogGroup,
        fan_out: typing.Callable[[str], kinesis.CfnStreamConsumer],
    ) -> flink.CfnApplication:
        settings = config.streaming
        bucket_arn = data_lake_bucket_arn(config, self.partition)
        code = s3_assets.Asset(self, "FlinkCode", path=FLINK_CODE, exclude=["__pycache__", "*.pyc"])
        log_stream = logs.LogStream(
            self, "FlinkApplicationLogs", log_group=log_group, removal_policy=RemovalPolicy.DESTROY
        )
        role = iam.Role(
            self,
            "FlinkRole",
            assumed_by=iam.ServicePrincipal(
                "kinesisanalytics.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": self.account}}
            ),
            description="Lets the Flink application read the stream and write window counts to the data lake",
        )
        statements = [
            iam.PolicyStatement(
                sid="ReadApplicationCode",  # the one object of the code asset
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[code.bucket.arn_for_objects(code.s3_object_key)],
            ),
            iam.PolicyStatement(
                sid="ReadStream",
                actions=[
                    "kinesis:DescribeStream",
                    "kinesis:DescribeStreamSummary",
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                    "kinesis:ListShards",
                ],
                resources=[data.stream.stream_arn],
            ),
            iam.PolicyStatement(
                sid="UseDataKey", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[data.data_key.key.key_arn]
            ),
            iam.PolicyStatement(
                sid="WriteWindowCounts",
                actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                resources=[f"{bucket_arn}/{WINDOW_COUNTS_PREFIX}*"],
            ),
            iam.PolicyStatement(sid="ListDataLake", actions=["s3:ListBucket"], resources=[bucket_arn]),
            iam.PolicyStatement(
                sid="WriteApplicationLogs",
                actions=["logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[log_group.log_group_arn],
            ),
            iam.PolicyStatement(
                sid="DescribeLogGroups",  # Managed Flink checks the log group exists
                actions=["logs:DescribeLogGroups"],
                resources=[f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:*"],
            ),
        ]
        properties: dict[str, str] = {
            "stream_name": data.stream.stream_name,
            "region": self.region,
            "consumer_arn": "",
            "window_seconds": str(settings.flink_window_seconds),
            "out_of_orderness_seconds": str(FLINK_OUT_OF_ORDERNESS_SECONDS),
            "output_path": f"s3://{data_lake_bucket_name(config)}/{WINDOW_COUNTS_PREFIX}",
        }
        if settings.flink_consumer == "enhanced-fan-out":
            consumer = fan_out("flink-window-counts")
            properties["consumer_arn"] = consumer.attr_consumer_arn
            statements.append(
                iam.PolicyStatement(
                    sid="ReadThroughFanOut",
                    actions=["kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer"],
                    resources=[consumer.attr_consumer_arn],
                )
            )
        policy = iam.Policy(self, "FlinkPolicy", roles=[role], statements=statements)
        acknowledge_nag(
            policy,
            f"AwsSolutions-IAM5[Resource::{bucket_arn}/{WINDOW_COUNTS_PREFIX}*]",
            "The file sink names each part file it writes (multipart uploads, committed at "
            "checkpoints); the prefix it writes under is the narrowest scope there is.",
        )
        acknowledge_nag(
            policy,
            f"AwsSolutions-IAM5[Resource::arn:{self.partition}:logs:{self.region}:{self.account}:log-group:*]",
            "DescribeLogGroups lists log groups and supports no narrower resource than every "
            "log group of the account and region.",
        )
        application = flink.CfnApplication(
            self,
            "WindowCounts",
            runtime_environment=FLINK_RUNTIME,
            service_execution_role=role.role_arn,
            application_description="Streaming pipeline: events per type per tumbling window, to the data lake",
            application_configuration=flink.CfnApplication.ApplicationConfigurationProperty(
                application_code_configuration=flink.CfnApplication.ApplicationCodeConfigurationProperty(
                    code_content_type="ZIPFILE",
                    code_content=flink.CfnApplication.CodeContentProperty(
                        s3_content_location=flink.CfnApplication.S3ContentLocationProperty(
                            bucket_arn=code.bucket.bucket_arn, file_key=code.s3_object_key
                        )
                    ),
                ),
                environment_properties=flink.CfnApplication.EnvironmentPropertiesProperty(
                    property_groups=[
                        flink.CfnApplication.PropertyGroupProperty(
                            property_group_id="kinesis.analytics.flink.run.options",
                            property_map={"python": "window_counts_job.py", "jarfile": "lib/kinesis-connector.jar"},
                        ),
                        flink.CfnApplication.PropertyGroupProperty(property_group_id="job", property_map=properties),
                    ]
                ),
                flink_application_configuration=flink.CfnApplication.FlinkApplicationConfigurationProperty(
                    checkpoint_configuration=flink.CfnApplication.CheckpointConfigurationProperty(
                        configuration_type="CUSTOM",
                        checkpointing_enabled=True,
                        checkpoint_interval=settings.flink_checkpoint_interval_seconds * 1000,
                        # Half an interval between checkpoints leaves the job time to process.
                        min_pause_between_checkpoints=settings.flink_checkpoint_interval_seconds * 500,
                    ),
                    monitoring_configuration=flink.CfnApplication.MonitoringConfigurationProperty(
                        configuration_type="CUSTOM", log_level="INFO", metrics_level="APPLICATION"
                    ),
                    parallelism_configuration=flink.CfnApplication.ParallelismConfigurationProperty(
                        configuration_type="CUSTOM",
                        parallelism=settings.flink_parallelism,
                        parallelism_per_kpu=settings.flink_parallelism_per_kpu,
                        auto_scaling_enabled=False,  # the parallelism is the config's, not the service's
                    ),
                ),
                application_snapshot_configuration=flink.CfnApplication.ApplicationSnapshotConfigurationProperty(
                    snapshots_enabled=True  # a snapshot on every update or stop, to resume from
                ),
            ),
        )
        application.node.add_dependency(policy)
        logging = flink.CfnApplicationCloudWatchLoggingOption(
            self,
            "WindowCountsLogging",
            application_name=application.ref,
            cloud_watch_logging_option=flink.CfnApplicationCloudWatchLoggingOption.CloudWatchLoggingOptionProperty(
                log_stream_arn=(
                    f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:"
                    f"{log_group.log_group_name}:log-stream:{log_stream.log_stream_name}"
                )
            ),
        )
        logging.node.add_dependency(policy)
        return application


@jsii.implements(lambda_.IEventSourceDlq)
class _OnFailureQueue:
    """The on-failure destination of the event source, without the grant CDK's ``SqsDlq``
    adds (it allows ``kms:GenerateDataKey*`` and ``kms:ReEncrypt*``); the function's role
    already has ``sqs:SendMessage`` on the queue and the two KMS actions the queue needs."""

    def __init__(self, queue_arn: str) -> None:
        self.queue_arn = queue_arn

    def bind(
        self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction
    ) -> lambda_.DlqDestinationConfig:
        return lambda_.DlqDestinationConfig(destination=self.queue_arn)


def _cfn(construct: Construct) -> CfnResource:
    """The CloudFormation resource behind an L2 construct."""
    return typing.cast(CfnResource, construct.node.default_child)
