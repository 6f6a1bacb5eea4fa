"""The Flink application: per-type tumbling-window counts, from the stream to the data lake."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisanalyticsv2 as flink
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag
from cdk_constructs.streaming.names import FLINK_RUNTIME, WINDOW_COUNTS_PREFIX
from cdk_constructs.streaming.shared import READ_STREAM_ACTIONS, fan_out_consumer
from org_config.streaming import Streaming

FLINK_CODE = str(Path(__file__).resolve().parents[2] / "flink" / "streaming")
FLINK_OUT_OF_ORDERNESS_SECONDS = 5  # how late an event may arrive and still count in its window
CONNECTOR_JAR = "lib/kinesis-connector.jar"  # inside the application's zip

_App = flink.CfnApplication


class FlinkApplication:
    """A Managed Service for Apache Flink application (``WindowCounts``) running
    ``flink/streaming/window_counts_job.py`` from a zip asset (``FlinkCode``), with its role
    (``FlinkRole``), policy (``FlinkPolicy``) and logging option.

    Secure defaults: the role may only be assumed by the service for this account, read
    the code object, read the stream (through its own enhanced fan-out consumer when
    ``settings.flink_consumer`` asks for one), use the data key, write under
    ``window-counts/`` and write its own log group; checkpoints every
    ``flink_checkpoint_interval_seconds``, a snapshot on every update or stop, the
    configured parallelism with autoscaling off, application metrics and INFO logs.

    ``application`` (L1), ``role``, ``policy``, ``code`` and ``fan_out`` (None for polling)
    are the constructs.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        settings: Streaming,
        stream: kinesis.IStream,
        key: kms.IKey,
        bucket_name: str,
        bucket_arn: str,
        log_group: logs.LogGroup,
    ) -> None:
        stack = Stack.of(scope)
        region_arn = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}"
        self.code = s3_assets.Asset(scope, "FlinkCode", path=FLINK_CODE, exclude=["__pycache__", "*.pyc"])
        log_stream = logs.LogStream(
            scope, "FlinkApplicationLogs", log_group=log_group, removal_policy=RemovalPolicy.DESTROY
        )
        self.role = iam.Role(
            scope,
            "FlinkRole",
            assumed_by=iam.ServicePrincipal(
                "kinesisanalytics.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description="Lets the Flink application read the stream and write window counts to the data lake",
        )
        statements = _statements(self.code, stream, key, bucket_arn, log_group, region_arn)
        properties: dict[str, str] = {
            "stream_name": stream.stream_name,
            "region": stack.region,
            "consumer_arn": "",
            "window_seconds": str(settings.flink_window_seconds),
            "out_of_orderness_seconds": str(FLINK_OUT_OF_ORDERNESS_SECONDS),
            "allowed_lateness_seconds": str(settings.flink_allowed_lateness_seconds),
            "output_path": f"s3://{bucket_name}/{WINDOW_COUNTS_PREFIX}",
        }
        self.fan_out: kinesis.CfnStreamConsumer | None = None
        if settings.flink_consumer == "enhanced-fan-out":
            self.fan_out = fan_out_consumer(scope, "flink-window-counts", stream_arn=stream.stream_arn)
            properties["consumer_arn"] = self.fan_out.attr_consumer_arn
            statements.append(
                iam.PolicyStatement(
                    sid="ReadThroughFanOut",
                    actions=["kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer"],
                    resources=[self.fan_out.attr_consumer_arn],
                )
            )
        self.policy = iam.Policy(scope, "FlinkPolicy", roles=[self.role], statements=statements)
        acknowledge_nag(
            self.policy,
            f"AwsSolutions-IAM5[Resource::{bucket_arn}/{WINDOW_COUNTS_PREFIX}*]",
            "The file sink names each part file it writes (multipart uploads, committed at "
            "checkpoints); the prefix it writes under is the narrowest scope there is.",
        )
        acknowledge_nag(
            self.policy,
            f"AwsSolutions-IAM5[Resource::{region_arn}:log-group:*]",
            "DescribeLogGroups lists log groups and supports no narrower resource than every "
            "log group of the account and region.",
        )
        self.application = _App(
            scope,
            "WindowCounts",
            runtime_environment=FLINK_RUNTIME,
            service_execution_role=self.role.role_arn,
            application_description="Streaming pipeline: events per type per tumbling window, to the data lake",
            application_configuration=self._configuration(settings, properties),
        )
        self.application.node.add_dependency(self.policy)
        logging = flink.CfnApplicationCloudWatchLoggingOption(
            scope,
            "WindowCountsLogging",
            application_name=self.application.ref,
            cloud_watch_logging_option=flink.CfnApplicationCloudWatchLoggingOption.CloudWatchLoggingOptionProperty(
                log_stream_arn=(
                    f"{region_arn}:log-group:{log_group.log_group_name}:log-stream:{log_stream.log_stream_name}"
                )
            ),
        )
        logging.node.add_dependency(self.policy)

    def _configuration(self, settings: Streaming, properties: dict[str, str]) -> _App.ApplicationConfigurationProperty:
        checkpoint_ms = settings.flink_checkpoint_interval_seconds * 1000
        return _App.ApplicationConfigurationProperty(
            application_code_configuration=_App.ApplicationCodeConfigurationProperty(
                code_content_type="ZIPFILE",
                code_content=_App.CodeContentProperty(
                    s3_content_location=_App.S3ContentLocationProperty(
                        bucket_arn=self.code.bucket.bucket_arn, file_key=self.code.s3_object_key
                    )
                ),
            ),
            environment_properties=_App.EnvironmentPropertiesProperty(
                property_groups=[
                    _App.PropertyGroupProperty(
                        property_group_id="kinesis.analytics.flink.run.options",
                        property_map={"python": "window_counts_job.py", "jarfile": CONNECTOR_JAR},
                    ),
                    _App.PropertyGroupProperty(property_group_id="job", property_map=properties),
                ]
            ),
            flink_application_configuration=_App.FlinkApplicationConfigurationProperty(
                checkpoint_configuration=_App.CheckpointConfigurationProperty(
                    configuration_type="CUSTOM",
                    checkpointing_enabled=True,
                    checkpoint_interval=checkpoint_ms,
                    # Half an interval between checkpoints leaves the job time to process.
                    min_pause_between_checkpoints=checkpoint_ms // 2,
                ),
                monitoring_configuration=_App.MonitoringConfigurationProperty(
                    configuration_type="CUSTOM", log_level="INFO", metrics_level="APPLICATION"
                ),
                parallelism_configuration=_App.ParallelismConfigurationProperty(
                    configuration_type="CUSTOM",
                    parallelism=settings.flink_parallelism,
                    parallelism_per_kpu=settings.flink_parallelism_per_kpu,
                    auto_scaling_enabled=False,  # the parallelism is the config's, not the service's
                ),
            ),
            application_snapshot_configuration=_App.ApplicationSnapshotConfigurationProperty(
                snapshots_enabled=True  # a snapshot on every update or stop, to resume from
            ),
        )


def _statements(
    code: s3_assets.Asset,
    stream: kinesis.IStream,
    key: kms.IKey,
    bucket_arn: str,
    log_group: logs.LogGroup,
    region_arn: str,
) -> list[iam.PolicyStatement]:
    """What the application may do: read its code and the stream, use the key, write the
    window counts and its logs (the fan-out consumer's rights are added when there is one)."""
    return [
        iam.PolicyStatement(
            sid="ReadApplicationCode",  # the one object of the code asset
            actions=["s3:GetObject", "s3:GetObjectVersion"],
            resources=[code.bucket.arn_for_objects(code.s3_object_key)],
        ),
        iam.PolicyStatement(sid="ReadStream", actions=READ_STREAM_ACTIONS, resources=[stream.stream_arn]),
        iam.PolicyStatement(sid="UseDataKey", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]),
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
            resources=[f"{region_arn}:log-group:*"],
        ),
    ]
