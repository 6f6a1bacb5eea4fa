"""Every alarm of the streaming pipeline, with its threshold derived from the settings.

Plain Python (no CDK): the pipeline stack creates one CloudWatch alarm per
:class:`AlarmSpec`, the doc page lists them, and the tests change a setting and watch the
threshold move. ``arithmetic`` spells out how each threshold follows from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from org_config.model import Streaming
from org_config.streaming_sizing import StreamSizing

Resource = Literal["stream", "function", "queue", "delivery_stream", "application", "api"]

# Share of the expected records per minute that may be throttled before the write alarm fires.
WRITE_THROTTLE_PERCENT = 1
# Share of the classic consumers' GetRecords calls per minute that may be throttled.
READ_THROTTLE_PERCENT = 10
# The consumer's iterator-age alarm fires half way to the age at which records are given up.
CONSUMER_AGE_PERCENT_OF_MAXIMUM = 50


@dataclass(frozen=True, kw_only=True)
class AlarmSpec:
    construct_id: str
    resource: Resource  # which resource's dimensions the metric takes
    namespace: str
    metric_name: str
    statistic: str
    period_seconds: int
    threshold: float
    description: str
    arithmetic: str


def alarm_specs(settings: Streaming, sizing: StreamSizing) -> list[AlarmSpec]:
    """Every alarm of the pipeline, reader by reader."""
    return [
        *_lag_alarms(settings),
        *_throttle_alarms(settings, sizing),
        *_consumer_failure_alarms(),
        *_delivery_alarms(settings),
        *_flink_alarms(settings),
        *_api_alarms(),
    ]


def _lag_alarms(settings: Streaming) -> list[AlarmSpec]:
    """Readers falling behind, long before a record expires or is given up."""
    retention_ms = settings.retention_hours * 3_600_000
    stream_age = retention_ms * settings.iterator_age_alarm_percent_of_retention // 100
    consumer_age = settings.maximum_record_age_seconds * 1000 * CONSUMER_AGE_PERCENT_OF_MAXIMUM // 100
    return [
        AlarmSpec(
            construct_id="StreamIteratorAgeAlarm",
            resource="stream",
            namespace="AWS/Kinesis",
            metric_name="GetRecords.IteratorAgeMilliseconds",
            statistic="Maximum",
            period_seconds=60,
            threshold=stream_age,
            description="A shared-throughput reader (Firehose) is falling behind; records expire at the retention",
            arithmetic=(
                f"{settings.retention_hours} h retention x {settings.iterator_age_alarm_percent_of_retention} % "
                f"= {stream_age:,} ms"
            ),
        ),
        AlarmSpec(
            construct_id="ConsumerIteratorAgeAlarm",
            resource="function",
            namespace="AWS/Lambda",
            metric_name="IteratorAge",
            statistic="Maximum",
            period_seconds=60,
            threshold=consumer_age,
            description="The consumer function is falling behind; records older than the maximum age are given up",
            arithmetic=(
                f"{settings.maximum_record_age_seconds:,} s maximum record age x {CONSUMER_AGE_PERCENT_OF_MAXIMUM} % "
                f"= {consumer_age:,} ms"
            ),
        ),
    ]


def _throttle_alarms(settings: Streaming, sizing: StreamSizing) -> list[AlarmSpec]:
    """Producers or shared-throughput readers over the shards' quotas."""
    records_per_minute = settings.records_per_second * 60
    write_throttled = records_per_minute * WRITE_THROTTLE_PERCENT / 100
    polls = sum(settings.classic_consumer_polls())
    get_records_per_minute = polls * sizing.shards * 60
    read_throttled = get_records_per_minute * READ_THROTTLE_PERCENT / 100
    return [
        AlarmSpec(
            construct_id="WriteThrottledAlarm",
            resource="stream",
            namespace="AWS/Kinesis",
            metric_name="WriteProvisionedThroughputExceeded",
            statistic="Sum",
            period_seconds=60,
            threshold=write_throttled,
            description="Producers are throttled: the load or one partition key exceeds what the shards accept",
            arithmetic=(
                f"{settings.records_per_second:g} records/s x 60 s x {WRITE_THROTTLE_PERCENT} % "
                f"= {write_throttled:g} records a minute"
            ),
        ),
        AlarmSpec(
            construct_id="ReadThrottledAlarm",
            resource="stream",
            namespace="AWS/Kinesis",
            metric_name="ReadProvisionedThroughputExceeded",
            statistic="Sum",
            period_seconds=60,
            threshold=read_throttled,
            description="Shared-throughput readers are throttled (2 MiB/s and 5 GetRecords/s per shard)",
            arithmetic=(
                f"{polls:g} GetRecords/s per shard x {sizing.shards} shards x 60 s x {READ_THROTTLE_PERCENT} % "
                f"= {read_throttled:g} calls a minute"
            ),
        ),
    ]


def _consumer_failure_alarms() -> list[AlarmSpec]:
    """Invocations that failed and records the consumer gave up on."""
    return [
        AlarmSpec(
            construct_id="ConsumerErrorsAlarm",
            resource="function",
            namespace="AWS/Lambda",
            metric_name="Errors",
            statistic="Sum",
            period_seconds=300,
            threshold=0,
            description="Whole consumer invocations failed (a batch of only poison records, timeouts); Lambda bisects",
            arithmetic="any failed invocation",
        ),
        AlarmSpec(
            construct_id="OnFailureDepthAlarm",
            resource="queue",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            statistic="Maximum",
            period_seconds=60,
            threshold=0,
            description="Records or batches the consumer gave up on wait in the on-failure queue",
            arithmetic="any message",
        ),
    ]


def _delivery_alarms(settings: Streaming) -> list[AlarmSpec]:
    """Firehose late or converting records to the errors/ prefix."""
    freshness = 2 * settings.firehose_buffer_seconds + 60
    return [
        AlarmSpec(
            construct_id="FirehoseFreshnessAlarm",
            resource="delivery_stream",
            namespace="AWS/Firehose",
            metric_name="DeliveryToS3.DataFreshness",
            statistic="Maximum",
            period_seconds=300,
            threshold=freshness,
            description="Firehose is not delivering to S3 in time (the buffer interval bounds a healthy delay)",
            arithmetic=(
                f"2 x {settings.firehose_buffer_seconds} s buffer interval + 60 s = {freshness} s "
                "(one interval to fill, one of delay, a minute to convert and write)"
            ),
        ),
        AlarmSpec(
            construct_id="FirehoseFailedConversionAlarm",
            resource="delivery_stream",
            namespace="AWS/Firehose",
            metric_name="FailedConversion.Records",
            statistic="Sum",
            period_seconds=300,
            threshold=0,
            description="Records did not match the Glue schema and went to the errors/ prefix",
            arithmetic="any record",
        ),
    ]


def _flink_alarms(settings: Streaming) -> list[AlarmSpec]:
    """The Flink job down, behind the stream, or its checkpoints failing or queueing."""
    checkpoint_ms = settings.flink_checkpoint_interval_seconds * 1000
    retention_ms = settings.retention_hours * 3_600_000
    behind = retention_ms * settings.iterator_age_alarm_percent_of_retention // 100
    return [
        AlarmSpec(
            # The Kinesis source's lag, an application-level metric of Managed Flink (the CDK's
            # canned KinesisAnalyticsMetrics.millisBehindLatestAverage names it): the enhanced
            # fan-out reader has no GetRecords iterator age of its own.
            construct_id="FlinkBehindAlarm",
            resource="application",
            namespace="AWS/KinesisAnalytics",
            metric_name="millisBehindLatest",
            statistic="Maximum",
            period_seconds=60,
            threshold=behind,
            description="The Flink job is falling behind the stream; records expire at the retention",
            arithmetic=(
                f"{settings.retention_hours} h retention x {settings.iterator_age_alarm_percent_of_retention} % "
                f"= {behind:,} ms"
            ),
        ),
        AlarmSpec(
            construct_id="FlinkDowntimeAlarm",
            resource="application",
            namespace="AWS/KinesisAnalytics",
            metric_name="downtime",
            statistic="Maximum",
            period_seconds=60,
            threshold=0,
            description="The Flink job is not running (restarting or failed)",
            arithmetic="any downtime",
        ),
        AlarmSpec(
            construct_id="FlinkCheckpointFailuresAlarm",
            resource="application",
            namespace="AWS/KinesisAnalytics",
            metric_name="numberOfFailedCheckpoints",
            statistic="Maximum",
            period_seconds=300,
            threshold=0,
            description="A Flink checkpoint failed since the job (re)started; a restart would replay from an older one",
            arithmetic="any failed checkpoint",
        ),
        AlarmSpec(
            construct_id="FlinkCheckpointDurationAlarm",
            resource="application",
            namespace="AWS/KinesisAnalytics",
            metric_name="lastCheckpointDuration",
            statistic="Maximum",
            period_seconds=300,
            threshold=checkpoint_ms,
            description="A checkpoint took longer than the checkpoint interval, so checkpoints queue up",
            arithmetic=f"{settings.flink_checkpoint_interval_seconds} s checkpoint interval = {checkpoint_ms:,} ms",
        ),
    ]


def _api_alarms() -> list[AlarmSpec]:
    """The ingestion API failing producers."""
    return [
        AlarmSpec(
            construct_id="Api5xxAlarm",
            resource="api",
            namespace="AWS/ApiGateway",
            metric_name="5XXError",
            statistic="Sum",
            period_seconds=300,
            threshold=0,
            description="The ingestion API answered with server errors (Kinesis unavailable or throttling)",
            arithmetic="any server error",
        ),
    ]
