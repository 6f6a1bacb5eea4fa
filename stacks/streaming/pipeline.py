"""The streaming pattern's stateless half: ingestion, consumers, delivery and alarms.

    producer (SigV4) ─► REST API (IAM auth, validated body, throttled) ─► Kinesis PutRecords ─► stream
    stream ─► enhanced fan-out consumer ─► event source mapping ─► consumer function ─► events table
                                            (bisect, bounded retries, maximum age)  └─► on-failure queue
    stream ─► enhanced fan-out consumer ─► Flink application (per-type window counts) ─► data lake window-counts/
    alarms (thresholds from the settings: analysis/streaming/alarms.py) ─► alarm topic (data stack)

Everything here can be deleted and recreated without losing a record: the stream keeps
records for its retention, the consumer and the Flink job start from the trim horizon (the
consumer's writes are idempotent; Flink counts again what it reads again), and the data
stack holds every store and Firehose (which would start at its creation time).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_logs as logs
from constructs import Construct

from analysis.streaming.alarms import alarm_specs
from cdk_constructs.streaming.alarms import PipelineAlarms
from cdk_constructs.streaming.consumer import StreamConsumer
from cdk_constructs.streaming.flink_application import FlinkApplication
from cdk_constructs.streaming.ingestion_api import IngestionApi
from cdk_constructs.streaming.names import (
    STAGE_NAME,
    data_lake_bucket_arn,
    data_lake_bucket_name,
)
from cdk_constructs.streaming.shared import encrypted_log_group
from org_config.model import OrgConfig
from org_config.streaming_sizing import StreamSizing
from stacks.streaming.data import StreamingDataStack


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
        bucket_arn = data_lake_bucket_arn(config, self.partition)

        def log_group(construct_id: str) -> logs.LogGroup:
            return encrypted_log_group(self, construct_id, key=key, retention_days=settings.log_retention_days)

        self.consumer = StreamConsumer(
            self,
            settings=settings,
            stream=stream,
            events_table=data.events_table,
            on_failure=data.on_failure,
            key=key,
            # The sizing derives both from the load and the stated write latency.
            parallelization_factor=sizing.parallelization_factor,
            reserved_concurrency=sizing.consumer_concurrency,
        )
        self.ingestion = IngestionApi(
            self,
            stream=stream,
            key=key,
            access_logs=log_group("ApiAccessLogs"),
            rate_limit_per_second=settings.api_rate_limit_per_second,
            burst_limit=settings.api_burst_limit,
            logging_role_exists=api_gateway_logging_role_exists,
        )
        self.flink = FlinkApplication(
            self,
            settings=settings,
            stream=stream,
            key=key,
            bucket_name=data_lake_bucket_name(config),
            bucket_arn=bucket_arn,
            log_group=log_group("FlinkLogs"),
        )
        self.alarms = PipelineAlarms(
            self,
            specs=alarm_specs(settings, sizing),
            dimensions={
                "stream": {"StreamName": stream.stream_name},
                "function": {"FunctionName": self.consumer.function.function.function_name},
                "queue": {"QueueName": data.on_failure.queue_name},
                "delivery_stream": {"DeliveryStreamName": data.firehose.delivery_stream.ref},
                "application": {"Application": self.flink.application.ref},
                "api": {"ApiName": self.ingestion.api.rest_api_name, "Stage": STAGE_NAME},
            },
            topic=data.alarm_topic,
        ).alarms
