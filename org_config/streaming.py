"""The streaming section: the stated load the stream is sized from, the consumers and the delivery settings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from org_config.common import LogRetentionDays, OptionalEmail, _Model, raise_problems
from org_config.streaming_schema import EVENT_COLUMNS, TIME_FIELD, column_type
from org_config.streaming_sizing import MAX_RECORD_KIB, StreamLoad, StreamSizing, size_stream

# Lambda keeps this much of an account's concurrency unreserved for every other function
# ("Lambda function scaling": reserved concurrency leaves at least 100 unreserved).
UNRESERVED_CONCURRENCY = 100
# DynamoDB answers in "single-digit milliseconds" (the DynamoDB developer guide's
# introduction); a conditional PutItem from Lambda is sized at the top of that range.
DEFAULT_MILLISECONDS_PER_WRITE = 10
# Kinesis's default shard quota per account and region is 20,000 in us-east-1, us-west-2
# and eu-west-1 and 1,000 or 6,000 elsewhere ("Quotas and limits", Kinesis Data Streams
# developer guide); the default here is the lowest, so no region's default is exceeded.
DEFAULT_SHARD_QUOTA = 1_000


class Streaming(_Model):
    """Pattern 5: the Kinesis pipeline and the load its stream is sized for.

    The stream's shard count follows from the load and the consumers
    (:mod:`org_config.streaming_sizing`); every alarm threshold follows from these settings.
    """

    account: str  # account name the pattern is deployed to (required: no example default)
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
    # Concurrent batches per shard; None derives it from the load and the write latency.
    parallelization_factor: Annotated[int, Field(ge=1, le=10)] | None = None
    # Milliseconds one conditional PutItem takes end to end, as the consumer's sizing assumes.
    consumer_milliseconds_per_write: Annotated[float, Field(gt=0, le=10_000)] = DEFAULT_MILLISECONDS_PER_WRITE
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
    # How far behind the watermark an event may arrive and still count: at least how far one
    # shard may be read behind the others (the watermark is assigned after the source).
    flink_allowed_lateness_seconds: Annotated[int, Field(ge=0, le=3_600)] = 60
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
    # --- The account's quotas (AWS's defaults; raise them if the account's are higher) -----
    account_shard_quota: Annotated[int, Field(ge=1)] = DEFAULT_SHARD_QUOTA
    account_concurrency_quota: Annotated[int, Field(ge=1_000)] = 1_000  # Lambda concurrent executions

    @model_validator(mode="after")
    def _consistent(self) -> Streaming:
        problems = [*self._record_problems(), *self._delivery_problems(), *self._lake_problems()]
        if not any(p.startswith(("streaming.average_record_kib", "streaming.max_record_kib")) for p in problems):
            problems += self._capacity_problems()
        raise_problems(problems)
        return self

    def _record_problems(self) -> list[str]:
        problems = []
        if self.max_record_kib > MAX_RECORD_KIB:
            problems.append(
                f"streaming.max_record_kib: {self.max_record_kib:g} KiB is over the {MAX_RECORD_KIB} KiB "
                "(1 MiB) a Kinesis record holds"
            )
        if self.average_record_kib > self.max_record_kib:
            problems.append("streaming.average_record_kib: must not exceed max_record_kib")
        retention_seconds = self.retention_hours * 3600
        if self.maximum_record_age_seconds >= retention_seconds:
            problems.append(
                f"streaming.maximum_record_age_seconds: {self.maximum_record_age_seconds} must be below the "
                f"stream's retention ({self.retention_hours} h = {retention_seconds} s), or records expire "
                "before the consumer gives up on them"
            )
        batch_ms = self.batch_size * self.consumer_milliseconds_per_write
        if batch_ms * 2 > self.consumer_timeout_seconds * 1000:
            problems.append(
                f"streaming.consumer_timeout_seconds: a batch of {self.batch_size} events at "
                f"{self.consumer_milliseconds_per_write:g} ms per write takes {batch_ms / 1000:g} s; the timeout "
                "must be at least twice that, or a slow batch times out and is retried whole"
            )
        return problems

    def _delivery_problems(self) -> list[str]:
        problems = []
        if self.parquet_conversion and self.firehose_buffer_mib < 64:
            problems.append(
                f"streaming.firehose_buffer_mib: {self.firehose_buffer_mib} MiB is below the 64 MiB Firehose "
                "requires with record format conversion (parquet_conversion) on"
            )
        if self.api_burst_limit < self.api_rate_limit_per_second:
            problems.append("streaming.api_burst_limit: must be at least api_rate_limit_per_second")
        for index, name in enumerate(self.partition_fields):
            if column_type(name) is None:
                problems.append(
                    f"streaming.partition_fields[{index}]: '{name}' is not a column of the event schema "
                    f"({', '.join(c for c, _ in EVENT_COLUMNS)})"
                )
            elif column_type(name) != "string" or name == TIME_FIELD:
                problems.append(f"streaming.partition_fields[{index}]: '{name}' is not a string column")
        if len(set(self.partition_fields)) != len(self.partition_fields):
            problems.append("streaming.partition_fields: lists a field twice")
        return problems

    def _lake_problems(self) -> list[str]:
        problems = []
        if self.transition_to_glacier_days <= self.transition_to_infrequent_access_days:
            problems.append(
                "streaming.transition_to_glacier_days: must be later than transition_to_infrequent_access_days"
            )
        if self.expire_after_days <= self.transition_to_glacier_days:
            problems.append("streaming.expire_after_days: must be later than transition_to_glacier_days")
        if self.expire_after_days < self.data_lake_object_lock_days:
            problems.append(
                "streaming.expire_after_days: must not be shorter than data_lake_object_lock_days "
                "(locked versions cannot expire)"
            )
        return problems

    def _capacity_problems(self) -> list[str]:
        sizing = size_stream(self.load())
        problems = [
            f"streaming.{refusal}" if refusal.startswith("parallelization_factor") else f"streaming: {refusal}"
            for refusal in sizing.refusals
        ]
        if self.capacity_mode == "provisioned" and sizing.shards > self.account_shard_quota:
            problems.append(
                f"streaming.account_shard_quota: the load needs {sizing.shards:,} shards, more than the "
                f"account's {self.account_shard_quota:,} (AWS's default is 20,000 in us-east-1, us-west-2 and "
                "eu-west-1 and 1,000 or 6,000 elsewhere): lower the load, or raise the quota and this value"
            )
        available = self.account_concurrency_quota - UNRESERVED_CONCURRENCY
        if sizing.consumer_concurrency > available:
            problems.append(
                f"streaming.account_concurrency_quota: the consumer reserves {sizing.consumer_concurrency:,} "
                f"concurrent executions, more than the {available:,} the account's {self.account_concurrency_quota:,} "
                f"leave after the {UNRESERVED_CONCURRENCY} Lambda keeps unreserved: lower the load, or raise the "
                "quota and this value"
            )
        return problems

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
            on_demand=self.capacity_mode == "on-demand",
            consumer_milliseconds_per_write=self.consumer_milliseconds_per_write,
            parallelization_factor=self.parallelization_factor,
        )

    def sizing(self) -> StreamSizing:
        return size_stream(self.load())

    def reserved_concurrency(self) -> int:
        """The Lambda concurrency this section reserves in ``account``: the consumer's, one
        execution per shard and parallelization slot (the most its event source runs at once;
        an on-demand stream counted at no fewer than the 4 shards it starts with). The root
        model sums this with the other patterns' reservations in the same account."""
        return self.sizing().consumer_concurrency
