"""The streaming section of the config: each invalid value fails with one line naming the
field and the rule, before anything is synthesized."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from org_config import ConfigError, load_config, parse_config
from org_config.loader import example_config_text


def _example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(example_config_text())
    return data


def _set(**values: Any) -> Any:
    def mutate(data: dict[str, Any]) -> None:
        data["streaming"].update(values)

    mutate.__name__ = "_".join(f"{k}={v}" for k, v in values.items())
    return mutate


INVALID = [
    # The list of bad input.
    (_set(records_per_second=0), "streaming.records_per_second: Input should be greater than 0"),
    (_set(records_per_second=-5), "streaming.records_per_second: Input should be greater than 0"),
    (_set(average_record_kib=0), "streaming.average_record_kib: Input should be greater than 0"),
    (
        _set(max_record_kib=1025),
        "streaming.max_record_kib: 1025 KiB is over the 1024 KiB (1 MiB) a Kinesis record holds",
    ),
    (
        _set(maximum_record_age_seconds=86_400),
        "streaming.maximum_record_age_seconds: 86400 must be below the stream's retention (24 h = 86400 s)",
    ),
    (
        _set(retention_hours=48, maximum_record_age_seconds=200_000),
        "streaming.maximum_record_age_seconds: 200000 must be below the stream's retention (48 h",
    ),
    (_set(maximum_record_age_seconds=-1), "streaming.maximum_record_age_seconds: Input should be greater than or"),
    (_set(parallelization_factor=11), "streaming.parallelization_factor: Input should be less than or equal to 10"),
    (
        _set(firehose_buffer_mib=63),
        "streaming.firehose_buffer_mib: 63 MiB is below the 64 MiB Firehose requires with record format conversion",
    ),
    (
        _set(partition_fields=["event_type", "region"]),
        "streaming.partition_fields[1]: 'region' is not a column of the event schema",
    ),
    # Further rules.
    (_set(maximum_retry_attempts=-1), "streaming.maximum_retry_attempts: Input should be greater than or equal to 0"),
    (_set(batch_size=10_001), "streaming.batch_size: Input should be less than or equal to 10000"),
    (_set(firehose_buffer_mib=129), "streaming.firehose_buffer_mib: Input should be less than or equal to 128"),
    (_set(firehose_buffer_seconds=901), "streaming.firehose_buffer_seconds: Input should be less than or equal"),
    (_set(retention_hours=23), "streaming.retention_hours: Input should be greater than or equal to 24"),
    (_set(retention_hours=8761), "streaming.retention_hours: Input should be less than or equal to 8760"),
    (_set(average_record_kib=100), "streaming.average_record_kib: must not exceed max_record_kib"),
    (_set(partition_fields=["amount"]), "streaming.partition_fields[0]: 'amount' is not a string column"),
    (_set(partition_fields=["event_time"]), "streaming.partition_fields[0]: 'event_time' is not a string column"),
    (_set(partition_fields=["event_type", "event_type"]), "streaming.partition_fields: lists a field twice"),
    (_set(capacity_mode="serverless"), "streaming.capacity_mode: Input should be 'provisioned' or 'on-demand'"),
    (_set(lambda_consumer="efo"), "streaming.lambda_consumer: Input should be 'classic' or 'enhanced-fan-out'"),
    (
        _set(lambda_consumer="classic", flink_consumer="classic", other_classic_consumers=3),
        "streaming: classic consumers call GetRecords 6 times per second on each shard",
    ),
    (_set(api_burst_limit=50), "streaming.api_burst_limit: must be at least api_rate_limit_per_second"),
    (_set(account="audit"), "streaming.account: 'audit' has role 'audit'"),
    (_set(account="payments"), "streaming.account: 'payments' is not a defined account"),
    (_set(log_retention_days=366), "streaming.log_retention_days: 366 is not a retention CloudWatch Logs accepts"),
    (_set(headroom=0.9), "streaming.headroom: Input should be greater than or equal to 1"),
    (
        _set(data_lake_object_lock_days=800),
        "streaming.expire_after_days: must not be shorter than data_lake_object_lock_days",
    ),
    (_set(shards=4), "streaming.shards: unknown key"),
]


@pytest.mark.parametrize(("mutate", "expected"), INVALID, ids=[m.__name__ for m, _ in INVALID])
def test_invalid_streaming_settings_name_field_and_rule(mutate: Any, expected: str) -> None:
    data = _example()
    mutate(data)
    with pytest.raises(ConfigError) as error:
        parse_config(yaml.safe_dump(data, sort_keys=False), source="org.yaml")
    message = str(error.value)
    assert "\n" not in message, "the error must be one line"
    assert message.startswith("org.yaml: ")
    assert expected in message


def test_boundaries_that_are_allowed() -> None:
    data = _example()
    data["streaming"].update(
        max_record_kib=1024, firehose_buffer_mib=64, parallelization_factor=10, maximum_record_age_seconds=86_399
    )
    settings = parse_config(yaml.safe_dump(data, sort_keys=False)).streaming
    assert (settings.max_record_kib, settings.firehose_buffer_mib) == (1024, 64)


def test_small_buffer_is_fine_without_conversion() -> None:
    data = _example()
    data["streaming"].update(parquet_conversion=False, firehose_buffer_mib=5)
    assert parse_config(yaml.safe_dump(data, sort_keys=False)).streaming.firehose_buffer_mib == 5


def test_hot_key_is_a_warning_not_an_error() -> None:
    data = _example()
    data["streaming"].update(hottest_key_share=0.5)  # 1,500 records/s on one key
    sizing = parse_config(yaml.safe_dump(data, sort_keys=False)).streaming.sizing()
    assert sizing.warnings and sizing.warnings[0].startswith("hot partition key")


def test_example_load_is_sized_with_its_headroom() -> None:
    sizing = load_config().streaming.sizing()
    # 3,000 x 1 KiB x 1.25 = 3.66 MiB/s and 3,750 records/s: 4 shards.
    assert sizing.shards == 4
    # Firehose is the one classic consumer; Lambda and Flink use enhanced fan-out.
    assert sizing.load.classic_consumers == 1
    assert sizing.load.enhanced_fan_out_consumers == 2
