"""Fine-grained assertions on the streaming stacks: the stream is sized from the config,
the consumer's event source carries every setting, the API validates and throttles,
Firehose converts and partitions by the schema in the repo, the Flink application is
configured, and every alarm threshold follows the settings (and moves when they change)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from analysis.streaming.alarms import alarm_specs
from org_config import OrgConfig, load_config, parse_config
from org_config.loader import example_config_text
from org_config.streaming_schema import DATE_PARTITION, EVENT_COLUMNS, REQUIRED_FIELDS
from stacks.streaming.placement import build_streaming
from tests.streaming.consumer_support import consumer
from tests.support.synthesis import Synthesis, new_app, synthesize, temporary_outdir

ROOT = Path(__file__).resolve().parents[2]

CONFIG = load_config()
SETTINGS = CONFIG.streaming
HOME = CONFIG.regions.home
DATA = f"streaming-data-{HOME}"
PIPELINE = f"streaming-pipeline-{HOME}"
MAX_RESOURCES = 250


def _of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def _one(template: dict[str, Any], type_: str) -> dict[str, Any]:
    (resource,) = _of_type(template, type_).values()
    return resource["Properties"]  # type: ignore[no-any-return]


def _alarm_thresholds(template: dict[str, Any]) -> dict[str, float]:
    alarms = _of_type(template, "AWS::CloudWatch::Alarm")
    return {
        next(
            spec.construct_id
            for spec in alarm_specs(SETTINGS, SETTINGS.sizing())
            if logical.startswith(spec.construct_id)
        ): float(alarm["Properties"]["Threshold"])
        for logical, alarm in alarms.items()
    }


@functools.cache
def _changed() -> tuple[OrgConfig, Synthesis]:
    """The streaming stacks alone, synthesized from a config with every alarm-relevant
    setting changed (and on-demand capacity)."""
    data: dict[str, Any] = yaml.safe_load(example_config_text())
    data["streaming"].update(
        capacity_mode="on-demand",
        records_per_second=6000,
        retention_hours=48,
        maximum_record_age_seconds=7200,
        iterator_age_alarm_percent_of_retention=50,
        firehose_buffer_seconds=600,
        flink_checkpoint_interval_seconds=120,
        lambda_consumer="classic",
        flink_parallelism=4,
        partition_fields=["event_type", "source"],
        hottest_key_share=0.5,  # 3,000 records/s on one key: three shards' worth
    )
    config = parse_config(yaml.safe_dump(data, sort_keys=False))
    outdir = temporary_outdir("streaming-changed-")
    app = new_app(outdir)
    build_streaming(app, config)
    return config, synthesize(app, outdir)


def test_stacks_target_the_configured_account_in_the_home_region(synthesis: Synthesis) -> None:
    account = CONFIG.account_named(SETTINGS.account).id
    for name in (DATA, PIPELINE):
        stack = synthesis.stack(name)
        assert (stack.account, stack.region) == (account, HOME)
        assert len(stack.template["Resources"]) <= MAX_RESOURCES


def test_stream_is_sized_from_the_config_and_encrypted(synthesis: Synthesis) -> None:
    stream = _one(synthesis.stack(DATA).template, "AWS::Kinesis::Stream")
    assert stream["ShardCount"] == SETTINGS.sizing().shards == 4
    assert stream["RetentionPeriodHours"] == SETTINGS.retention_hours
    assert stream["StreamEncryption"]["EncryptionType"] == "KMS"
    assert stream["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}


def test_on_demand_mode_sets_no_shard_count() -> None:
    _, changed = _changed()
    stream = _one(changed.stack(DATA).template, "AWS::Kinesis::Stream")
    assert stream["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert "ShardCount" not in stream


def test_event_source_mapping_carries_the_settings(synthesis: Synthesis) -> None:
    template = synthesis.stack(PIPELINE).template
    mapping = _one(template, "AWS::Lambda::EventSourceMapping")
    assert mapping["BatchSize"] == SETTINGS.batch_size
    assert mapping["MaximumBatchingWindowInSeconds"] == SETTINGS.batching_window_seconds
    # Derived: 3,750 events/s at 10 ms a write need 38 batches in flight, 10 on each of 4 shards.
    assert mapping["ParallelizationFactor"] == SETTINGS.sizing().parallelization_factor == 10
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == SETTINGS.maximum_retry_attempts >= 0
    assert mapping["MaximumRecordAgeInSeconds"] == SETTINGS.maximum_record_age_seconds
    assert mapping["MaximumRecordAgeInSeconds"] < SETTINGS.retention_hours * 3600
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "OnFailure" in mapping["DestinationConfig"]
    # Enhanced fan-out: the mapping reads through the registered consumer.
    consumers = _of_type(template, "AWS::Kinesis::StreamConsumer")
    assert mapping["EventSourceArn"]["Fn::GetAtt"][0] in consumers
    assert len(consumers) == 2  # the Lambda consumer and the Flink application


def test_classic_consumer_reads_the_stream_itself() -> None:
    _, changed = _changed()
    template = changed.stack(PIPELINE).template
    mapping = _one(template, "AWS::Lambda::EventSourceMapping")
    assert "Fn::GetAtt" not in mapping["EventSourceArn"] or "ConsumerARN" not in str(mapping["EventSourceArn"])
    # 7,500 events/s at 10 ms: 75 batches over 8 shards, 10 each.
    assert mapping["ParallelizationFactor"] == 10
    assert len(_of_type(template, "AWS::Kinesis::StreamConsumer")) == 1  # Flink only


def test_consumer_concurrency_covers_every_shard_and_slot(synthesis: Synthesis) -> None:
    template = synthesis.stack(PIPELINE).template
    (function,) = (
        f["Properties"]
        for f in _of_type(template, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "consumer.handler"
    )
    assert function["ReservedConcurrentExecutions"] == SETTINGS.reserved_concurrency() == 4 * 10
    environment = function["Environment"]["Variables"]
    assert environment["MAXIMUM_RECORD_AGE_SECONDS"] == str(SETTINGS.maximum_record_age_seconds)


def test_handler_requires_the_fields_the_schema_and_the_api_require() -> None:
    assert tuple(consumer.REQUIRED_FIELDS) == REQUIRED_FIELDS


def test_ingestion_api_is_iam_authorized_validated_and_throttled(synthesis: Synthesis) -> None:
    template = synthesis.stack(PIPELINE).template
    method = _one(template, "AWS::ApiGateway::Method")
    assert method["AuthorizationType"] == "AWS_IAM"
    assert method["Integration"]["Uri"].endswith(":kinesis:action/PutRecords")
    assert method["Integration"]["PassthroughBehavior"] == "NEVER"
    validator = _one(template, "AWS::ApiGateway::RequestValidator")
    assert validator["ValidateRequestBody"] is True
    schema = _one(template, "AWS::ApiGateway::Model")["Schema"]
    records = schema["properties"]["records"]
    assert (records["minItems"], records["maxItems"]) == (1, 500)
    assert records["items"]["properties"]["data"]["required"] == list(REQUIRED_FIELDS)
    time_pattern = re.compile(records["items"]["properties"]["data"]["properties"]["event_time"]["pattern"])
    assert time_pattern.match("2026-11-27T10:00:00+00:00") and time_pattern.match("2026-11-27T10:00:00.123Z")
    assert not time_pattern.match("2026-11-27T10:00:00") and not time_pattern.match("yesterday")
    assert not time_pattern.match("2026-11-27T10:00:00+01:00")  # UTC only: the date partition is the UTC date
    stage = _one(template, "AWS::ApiGateway::Stage")
    (settings,) = stage["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == SETTINGS.api_rate_limit_per_second
    assert settings["ThrottlingBurstLimit"] == SETTINGS.api_burst_limit
    template_text = str(method["Integration"]["RequestTemplates"]["application/json"])
    assert "partition_key" in template_text  # the partition key comes from the request


def test_firehose_converts_to_parquet_and_partitions_by_schema_fields(synthesis: Synthesis) -> None:
    template = synthesis.stack(DATA).template
    s3 = _one(template, "AWS::KinesisFirehose::DeliveryStream")["ExtendedS3DestinationConfiguration"]
    assert s3["BufferingHints"] == {
        "IntervalInSeconds": SETTINGS.firehose_buffer_seconds,
        "SizeInMBs": SETTINGS.firehose_buffer_mib,
    }
    assert s3["BufferingHints"]["SizeInMBs"] >= 64
    assert s3["DataFormatConversionConfiguration"]["Enabled"] is True
    assert "ParquetSerDe" in s3["DataFormatConversionConfiguration"]["OutputFormatConfiguration"]["Serializer"]
    assert s3["DynamicPartitioningConfiguration"]["Enabled"] is True
    assert s3["ErrorOutputPrefix"].startswith("errors/!{firehose:error-output-type}/")
    assert (
        s3["Prefix"]
        == "events/event_date=!{partitionKeyFromQuery:event_date}/event_type=!{partitionKeyFromQuery:event_type}/"
    )


def test_glue_table_schema_is_the_one_in_the_repository(synthesis: Synthesis) -> None:
    table = _one(synthesis.stack(DATA).template, "AWS::Glue::Table")["TableInput"]
    partitions = [DATE_PARTITION, *SETTINGS.partition_fields]
    assert [p["Name"] for p in table["PartitionKeys"]] == partitions
    columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    assert columns == [c for c in EVENT_COLUMNS if c[0] not in partitions]
    assert table["Parameters"]["projection.enabled"] == "true"


def test_partitioning_follows_the_configured_fields() -> None:
    _, changed = _changed()
    s3 = _one(changed.stack(DATA).template, "AWS::KinesisFirehose::DeliveryStream")[
        "ExtendedS3DestinationConfiguration"
    ]
    assert s3["Prefix"].endswith(
        "event_type=!{partitionKeyFromQuery:event_type}/source=!{partitionKeyFromQuery:source}/"
    )
    table = _one(changed.stack(DATA).template, "AWS::Glue::Table")["TableInput"]
    assert [p["Name"] for p in table["PartitionKeys"]] == ["event_date", "event_type", "source"]


def test_flink_application_is_configured_from_the_settings(synthesis: Synthesis) -> None:
    template = synthesis.stack(PIPELINE).template
    application = _one(template, "AWS::KinesisAnalyticsV2::Application")
    flink = application["ApplicationConfiguration"]["FlinkApplicationConfiguration"]
    assert flink["ParallelismConfiguration"]["Parallelism"] == SETTINGS.flink_parallelism
    assert flink["CheckpointConfiguration"]["CheckpointingEnabled"] is True
    assert flink["CheckpointConfiguration"]["CheckpointInterval"] == SETTINGS.flink_checkpoint_interval_seconds * 1000
    assert flink["MonitoringConfiguration"]["LogLevel"] == "INFO"
    code = application["ApplicationConfiguration"]["ApplicationCodeConfiguration"]
    assert code["CodeContentType"] == "ZIPFILE"
    assert _of_type(template, "AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption")
    _, changed = _changed()
    changed_flink = _one(changed.stack(PIPELINE).template, "AWS::KinesisAnalyticsV2::Application")
    assert (
        changed_flink["ApplicationConfiguration"]["FlinkApplicationConfiguration"]["ParallelismConfiguration"][
            "Parallelism"
        ]
        == 4
    )


def test_every_alarm_has_its_derived_threshold_and_an_action(synthesis: Synthesis) -> None:
    template = synthesis.stack(PIPELINE).template
    specs = {spec.construct_id: spec for spec in alarm_specs(SETTINGS, SETTINGS.sizing())}
    thresholds = _alarm_thresholds(template)
    assert thresholds == {name: float(spec.threshold) for name, spec in specs.items()}
    for alarm in _of_type(template, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] and alarm["Properties"]["OKActions"]
    # The example's numbers, worked out by hand:
    assert thresholds["StreamIteratorAgeAlarm"] == 24 * 3_600_000 * 0.25  # 6 h of a 24 h retention
    assert thresholds["ConsumerIteratorAgeAlarm"] == 3_600 * 1000 / 2  # half the maximum record age
    assert thresholds["WriteThrottledAlarm"] == 3_000 * 60 * 0.01
    assert thresholds["ReadThrottledAlarm"] == 1 * 4 * 60 * 0.10  # Firehose polls 4 shards
    assert thresholds["FirehoseFreshnessAlarm"] == 2 * 300 + 60
    assert thresholds["FlinkCheckpointDurationAlarm"] == 60_000
    assert thresholds["FlinkBehindAlarm"] == 24 * 3_600_000 * 0.25  # the Flink reader, like the stream's


MOVING = {
    "StreamIteratorAgeAlarm": 48 * 3_600_000 * 0.50,  # retention 24 -> 48 h, 25 -> 50 %
    "ConsumerIteratorAgeAlarm": 7_200 * 1000 / 2,  # maximum record age 3,600 -> 7,200 s
    "WriteThrottledAlarm": 6_000 * 60 * 0.01,  # 3,000 -> 6,000 records/s
    # Firehose and the (now classic) Lambda consumer poll 8 shards (6,000 x 1 KiB x 1.25).
    "ReadThrottledAlarm": 2 * 8 * 60 * 0.10,
    "FirehoseFreshnessAlarm": 2 * 600 + 60,  # buffer interval 300 -> 600 s
    "FlinkCheckpointDurationAlarm": 120_000,  # checkpoint interval 60 -> 120 s
    "FlinkBehindAlarm": 48 * 3_600_000 * 0.50,
}


@pytest.mark.parametrize("alarm", list(MOVING))
def test_changing_a_setting_moves_the_threshold(synthesis: Synthesis, alarm: str) -> None:
    before = _alarm_thresholds(synthesis.stack(PIPELINE).template)[alarm]
    _, changed = _changed()
    after = _alarm_thresholds(changed.stack(PIPELINE).template)[alarm]
    assert after == MOVING[alarm]
    assert after != before


def _role_actions(template: dict[str, Any], role_prefix: str) -> set[str]:
    actions: set[str] = set()
    for policy in _of_type(template, "AWS::IAM::Policy").values():
        roles = [r["Ref"] for r in policy["Properties"].get("Roles", [])]
        if not any(r.startswith(role_prefix) for r in roles):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            granted = statement["Action"]
            actions.update([granted] if isinstance(granted, str) else granted)
    return actions


def test_consumer_role_grants_what_the_handler_and_event_source_use(synthesis: Synthesis) -> None:
    actions = _role_actions(synthesis.stack(PIPELINE).template, "ConsumerRole")
    assert actions == {
        # the handler: conditional PutItem, SendMessage of over-age records
        "dynamodb:PutItem",
        "sqs:SendMessage",
        # the event source: read the stream through the fan-out consumer, send failures
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
        "kinesis:SubscribeToShard",
        "kinesis:DescribeStreamConsumer",
        # the key of the stream, table and queue; logs; tracing
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }


def test_producers_can_only_put_records(synthesis: Synthesis) -> None:
    actions = _role_actions(synthesis.stack(PIPELINE).template, "ApiPutRecordsRole")
    assert actions == {"kinesis:PutRecords", "kms:GenerateDataKey"}


def test_a_hot_partition_key_is_a_synth_warning(synthesis: Synthesis) -> None:
    def warnings(outdir: Any) -> list[str]:
        metadata = json.loads((outdir / f"{DATA}.metadata.json").read_text())
        return [str(e["data"]) for entries in metadata.values() for e in entries if e["type"] == "aws:cdk:warning"]

    assert not any("hot partition key" in w for w in warnings(synthesis.outdir))
    _, changed = _changed()
    assert any(
        w.startswith("hot partition key: the busiest key carries 3000 records/s") for w in warnings(changed.outdir)
    )


def test_firehose_lives_with_the_stores_so_a_pipeline_recreate_loses_nothing(synthesis: Synthesis) -> None:
    """A delivery stream reads a Kinesis stream from the time it is created; in the data
    stack it is not recreated with the pipeline, and the pipeline's readers start from the
    trim horizon."""
    pipeline = synthesis.stack(PIPELINE).template
    assert not _of_type(pipeline, "AWS::KinesisFirehose::DeliveryStream")
    delivery = _one(synthesis.stack(DATA).template, "AWS::KinesisFirehose::DeliveryStream")
    assert delivery["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert _one(pipeline, "AWS::Lambda::EventSourceMapping")["StartingPosition"] == "TRIM_HORIZON"
    application = _one(pipeline, "AWS::KinesisAnalyticsV2::Application")
    groups = application["ApplicationConfiguration"]["EnvironmentProperties"]["PropertyGroups"]
    job = next(g["PropertyMap"] for g in groups if g["PropertyGroupId"] == "job")
    assert job["allowed_lateness_seconds"] == str(SETTINGS.flink_allowed_lateness_seconds)
    flink_source = (ROOT / "flink" / "streaming" / "window_counts_job.py").read_text()
    assert '"flink.stream.initpos": "TRIM_HORIZON"' in flink_source


def test_an_on_demand_stream_above_its_starting_capacity_is_a_synth_warning() -> None:
    _, changed = _changed()  # on demand, 6,000 records/s: above the 4,000 a new stream takes
    metadata = json.loads((changed.outdir / f"{DATA}.metadata.json").read_text())
    warnings = [str(e["data"]) for entries in metadata.values() for e in entries if e["type"] == "aws:cdk:warning"]
    assert any(w.startswith("on-demand start: the stated load (6000 records/s") for w in warnings)
