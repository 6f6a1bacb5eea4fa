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

from aws_cdk import Stack
from constructs import Construct

from cdk_constructs.hardened_bucket import Lifecycle
from cdk_constructs.streaming.names import ON_FAILURE_RETENTION_DAYS, data_lake_bucket_name
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
