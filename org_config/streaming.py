"""The streaming section: the stated load the stream is sized from, the consumers and the delivery settings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from org_config.common import LogRetentionDays, OptionalEmail, _Model
from org_config.streaming_schema import EVENT_COLUMNS, TIME_FIELD, column_type
from org_config.streaming_sizing import MAX_RECORD_KIB, StreamLoad, StreamSizing, size_stream


class Streaming(_Model):
    """Pattern 5: the Kinesis pipeline and the load its stream is sized for.

    The stream's shard count follows from the load and the consumers
    (:mod:`org_config.streaming_sizing`); every alarm threshold follows from these settings.
    """

    account: str = "workload-prod"  # account name the pattern is deployed to
    alarm_email: OptionalEmail = None
    # --- The load -------------------------------------------------------------------------
    capacity_mode: Literal["provisioned", "on-demand"] = "provisioned"
    records_per_second: Annotated[float, Field(gt=0, le=10_000_000)] = 3000
    average_record_kib: Annotated[float, Field(gt=0)] = 1.0
    max_record_kib: Annotated[float, Field(gt=0)] = 64.0
    headroom: Annotated[float, Field(ge=1, le=10)] = 1.25  # load multiplier before rounding up
    # Share of all records that carry the busiest partition key (a hot-key warning above one shard).
    hottest_key_share: Annotated[float, Field(gt=0, le=1)] | None = None
    retention_hours: Annotated[int, Field(ge=24, le=8760)] = 24
    # --- Consumers: enhanced fan-out gets 2 MiB/s per shard of its own --------------------
    lambda_consumer: Literal["classic", "enhanced-fan-out"] = "enhanced-fan-out"
    flink_consumer: Literal["classic", "enhanced-fan-out"] = "enhanced-fan-out"
    other_classic_consumers: Annotated[int, Field(ge=0, le=5)] = 0
    other_enhanced_fan_out_consumers: Annotated[int, Field(ge=0, le=20)] = 0
    # --- Lambda consumer (event source mapping) ------------------------------------------
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 500
    batching_window_seconds: Annotated[int, Field(ge=0, le=300)] = 1
    parallelization_factor: Annotated[int, Field(ge=1, le=10)] = 2
    # Bounded: -1 (retry until the record expires) would let one poison record stall its shard.
    maximum_retry_attempts: Annotated[int, Field(ge=0, le=10_000)] = 3
    maximum_record_age_seconds: Annotated[int, Field(ge=60, le=604_800)] = 3600
    consumer_timeout_seconds: Annotated[int, Field(ge=1, le=900)] = 60
    # --- Firehose to S3 -------------------------------------------------------------------
    parquet_conversion: bool = True
    firehose_buffer_mib: Annotated[int, Field(ge=1, le=128)] = 128
    firehose_buffer_seconds: Annotated[int, Field(ge=0, le=900)] = 300
    # Record fields Firehose partitions by, after the date (cut from the event time).
    partition_fields: tuple[str, ...] = ("event_type",)
    # --- Managed Service for Apache Flink ---------------------------------------------------
    flink_parallelism: Annotated[int, Field(ge=1, le=256)] = 2
    flink_parallelism_per_kpu: Annotated[int, Field(ge=1, le=8)] = 1
    flink_window_seconds: Annotated[int, Field(ge=1, le=86_400)] = 60
    flink_checkpoint_interval_seconds: Annotated[int, Field(ge=1, le=3_600)] = 60
    # --- Ingestion API, logs, data lake ----------------------------------------------------
    api_rate_limit_per_second: Annotated[int, Field(ge=1, le=10_000)] = 100
    api_burst_limit: Annotated[int, Field(ge=1, le=5_000)] = 200
    log_retention_days: LogRetentionDays = 365
    transition_to_infrequent_access_days: Annotated[int, Field(ge=30)] = 30
    transition_to_glacier_days: Annotated[int, Field(ge=1)] = 90
    expire_after_days: Annotated[int, Field(ge=1)] = 730
    noncurrent_versions_expire_after_days: Annotated[int, Field(ge=1)] = 30
    # Object Lock (governance mode) keeps each delivered object unchanged for this long.
    data_lake_object_lock_days: Annotated[int, Field(ge=1, le=36_500)] = 30
    # --- Alarms -----------------------------------------------------------------------------
    # Alarm when the oldest unread record is this share of the way to expiring (retention).
    iterator_age_alarm_percent_of_retention: Annotated[int, Field(ge=1, le=90)] = 25

    @model_validator(mode="after")
    def _consistent(self) -> Streaming:
        if self.max_record_kib > MAX_RECORD_KIB:
            raise ValueError(
                f"streaming.max_record_kib: {self.max_record_kib:g} KiB is over the {MAX_RECORD_KIB} KiB "
                "(1 MiB) a Kinesis record holds"
            )
        if self.average_record_kib > self.max_record_kib:
            raise ValueError("streaming.average_record_kib: must not exceed max_record_kib")
        retention_seconds = self.retention_hours * 3600
        if self.maximum_record_age_seconds >= retention_seconds:
            raise ValueError(
                f"streaming.maximum_record_age_seconds: {self.maximum_record_age_seconds} must be below the "
                f"stream's retention ({self.retention_hours} h = {retention_seconds} s), or records expire "
                "before the consumer gives up on them"
            )
        if self.parquet_conversion and self.firehose_buffer_mib < 64:
            raise ValueError(
                f"streaming.firehose_buffer_mib: {self.firehose_buffer_mib} MiB is below the 64 MiB Firehose "
                "requires with record format conversion (parquet_conversion) on"
            )
        if self.api_burst_limit < self.api_rate_limit_per_second:
            raise ValueError("streaming.api_burst_limit: must be at least api_rate_limit_per_second")
        for index, name in enumerate(self.partition_fields):
            if column_type(name) is None:
                raise ValueError(
                    f"streaming.partition_fields[{index}]: '{name}' is not a column of the event schema "
                    f"({', '.join(c for c, _ in EVENT_COLUMNS)})"
                )
            if column_type(name) != "string" or name == TIME_FIELD:
                raise ValueError(f"streaming.partition_fields[{index}]: '{name}' is not a string column")
        if len(set(self.partition_fields)) != len(self.partition_fields):
            raise ValueError("streaming.partition_fields: lists a field twice")
        if self.transition_to_glacier_days <= self.transition_to_infrequent_access_days:
            raise ValueError(
                "streaming.transition_to_glacier_days: must be later than transition_to_infrequent_access_days"
            )
        if self.expire_after_days <= self.transition_to_glacier_days:
            raise ValueError("streaming.expire_after_days: must be later than transition_to_glacier_days")
        if self.expire_after_days < self.data_lake_object_lock_days:
            raise ValueError(
                "streaming.expire_after_days: must not be shorter than data_lake_object_lock_days "
                "(locked versions cannot expire)"
            )
        sizing = size_stream(self.load())
        if sizing.warnings and not sizing.warnings[0].startswith("hot partition key"):
            raise ValueError(f"streaming: {sizing.warnings[0]}")
        return self

    def classic_consumer_polls(self) -> tuple[float, ...]:
        """GetRecords calls per second per shard of each classic consumer of the stream:
        Firehose and a classic Lambda event source poll each shard once a second; the Flink
        job is configured to poll once a second too; other consumers are counted at 1."""
        polls: list[float] = [1.0]  # Firehose reads with GetRecords
        if self.lambda_consumer == "classic":
            polls.append(1.0)
        if self.flink_consumer == "classic":
            polls.append(1.0)
        polls.extend([1.0] * self.other_classic_consumers)
        return tuple(polls)

    def load(self) -> StreamLoad:
        fan_out = [self.lambda_consumer, self.flink_consumer].count("enhanced-fan-out")
        return StreamLoad(
            records_per_second=self.records_per_second,
            average_record_kib=self.average_record_kib,
            max_record_kib=self.max_record_kib,
            classic_consumer_polls_per_second=self.classic_consumer_polls(),
            enhanced_fan_out_consumers=fan_out + self.other_enhanced_fan_out_consumers,
            headroom=self.headroom,
            hottest_key_share=self.hottest_key_share,
        )

    def sizing(self) -> StreamSizing:
        return size_stream(self.load())
