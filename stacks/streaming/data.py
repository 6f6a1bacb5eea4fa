"""The streaming pattern's stateful half: everything that holds data or keys, and Firehose.

    producers ─► (pipeline stack: ingestion API) ─► stream (KMS, retention, shards from the sizing)
    stream ─► Firehose ─► data-lake bucket, events/event_date=…/… as Parquet ◄── Glue table (schema in the repo)
                       └─► errors/… (records Firehose could not convert or partition)
    stream ─► (pipeline stack: consumer function) ─► events table (one item per event id)
                                                   └─► on-failure queue (batches given up on, over-age records)
    data key (KMS, rotating): stream, buckets, table, queue, alarm topic, log groups
    alarm topic ─► email (optional)

Nothing here changes when a function, the API or the Flink job changes, so such a change
can never replace the stream, the bucket or the table; they are retained if the stack is
deleted. Firehose is here, not in the pipeline stack, because a delivery stream reads a
Kinesis stream from the time it is created (the Firehose API's
``KinesisStreamSourceDescription.DeliveryStartTimestamp``; it has no trim-horizon start):
recreated with the pipeline, it would never deliver what was written while it was gone.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from cdk_constructs.hardened_bucket import Lifecycle
from cdk_constructs.streaming.firehose_delivery import FirehoseDelivery
from cdk_constructs.streaming.names import ON_FAILURE_RETENTION_DAYS, data_lake_bucket_arn, data_lake_bucket_name
from cdk_constructs.streaming.shared import encrypted_log_group
from cdk_constructs.streaming.stores import (
    AlarmTopic,
    DataLake,
    EventsTable,
    EventStream,
    OnFailureQueue,
    streaming_data_key,
)
from org_config.model import OrgConfig
from org_config.streaming_sizing import StreamSizing


class StreamingDataStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: OrgConfig, sizing: StreamSizing, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = config.streaming
        prefix = config.organization.name_prefix

        self.data_key = streaming_data_key(self, alias=f"alias/{prefix}/streaming")
        key = self.data_key.key
        self.stream = EventStream(
            self,
            key=key,
            retention_hours=settings.retention_hours,
            shards=None if settings.capacity_mode == "on-demand" else sizing.shards,
            warnings=sizing.warnings,
        ).stream

        logs = config.log_archive
        self.lake = DataLake(
            self,
            bucket_name=data_lake_bucket_name(config),
            key=key,
            access_log_lifecycle=Lifecycle(
                infrequent_access_after_days=logs.transition_to_infrequent_access_days,
                glacier_after_days=logs.transition_to_glacier_days,
                expire_after_days=logs.expire_after_days,
                noncurrent_expire_after_days=logs.noncurrent_versions_expire_after_days,
            ),
            lifecycle=Lifecycle(
                infrequent_access_after_days=settings.transition_to_infrequent_access_days,
                glacier_after_days=settings.transition_to_glacier_days,
                expire_after_days=settings.expire_after_days,
                noncurrent_expire_after_days=settings.noncurrent_versions_expire_after_days,
            ),
            object_lock_days=settings.data_lake_object_lock_days,
            database_name=f"{prefix.replace('-', '_')}_streaming",
            partition_fields=settings.partition_fields,
        )
        self.access_logs, self.data_lake = self.lake.access_logs, self.lake.bucket
        self.glue_database, self.glue_table = self.lake.glue_database, self.lake.glue_table

        self.events_table = EventsTable(self, key=key).table
        self.on_failure = OnFailureQueue(self, key=key, retention_days=ON_FAILURE_RETENTION_DAYS).queue
        self.alarm_topic = AlarmTopic(self, key=key, email=settings.alarm_email).topic

        self.firehose = FirehoseDelivery(
            self,
            stream_arn=self.stream.stream_arn,
            key_arn=key.key_arn,
            bucket_arn=data_lake_bucket_arn(config, self.partition),
            database=self.glue_database.ref,
            table=self.glue_table.ref,
            log_group=encrypted_log_group(self, "FirehoseLogs", key=key, retention_days=settings.log_retention_days),
            partition_fields=settings.partition_fields,
            parquet_conversion=settings.parquet_conversion,
            buffer_mib=settings.firehose_buffer_mib,
            buffer_seconds=settings.firehose_buffer_seconds,
        )
