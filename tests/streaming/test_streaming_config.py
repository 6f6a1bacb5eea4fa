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
    # The consumer must carry the load (10 ms a write: 38 batches over 4 shards).
    (
        _set(parallelization_factor=9),
        "streaming.parallelization_factor: 9 batches per shard carry 3600 events/s at 10 ms per write, below "
        "the 3750 events/s of the load with headroom: needs 10 (or leave it out to derive it)",
    ),
    (
        _set(consumer_milliseconds_per_write=200),
        "streaming.consumer_timeout_seconds: a batch of 500 events at 200 ms per write takes 100 s; the timeout "
        "must be at least twice that",
    ),
    (_set(consumer_milliseconds_per_write=0), "streaming.consumer_milliseconds_per_write: Input should be greater"),
    # The account's quotas: 5,000,000 records/s is 6,104 shards and far more concurrency.
    (
        _set(records_per_second=5_000_000),
        "streaming.account_shard_quota: the load needs 6,250 shards, more than the account's 1,000",
    ),
    (
        _set(records_per_second=5_000_000, account_shard_quota=20_000),
        "streaming.account_concurrency_quota: the consumer reserves 62,500 concurrent executions, more than the "
        "900 the account's 1,000 leave after the 100 Lambda keeps unreserved",
    ),
    (
        _set(records_per_second=73_000),
        "streaming.account_concurrency_quota: the consumer reserves 920 concurrent executions",
    ),
    (_set(account_concurrency_quota=999), "streaming.account_concurrency_quota: Input should be greater than or"),
    (_set(account_shard_quota=0), "streaming.account_shard_quota: Input should be greater than or equal to 1"),
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


def test_account_is_required_when_the_section_is_present() -> None:
    data = _example()
    del data["streaming"]["account"]
    with pytest.raises(ConfigError) as error:
        parse_config(yaml.safe_dump(data, sort_keys=False), source="org.yaml")
    assert str(error.value).startswith("org.yaml: streaming.account: ")
    assert "required" in str(error.value).lower()


def test_every_problem_of_the_section_in_one_line() -> None:
    data = _example()
    data["streaming"].update(
        firehose_buffer_mib=32, api_burst_limit=50, transition_to_glacier_days=20, partition_fields=["region"]
    )
    with pytest.raises(ConfigError) as error:
        parse_config(yaml.safe_dump(data, sort_keys=False), source="org.yaml")
    message = str(error.value)
    assert "\n" not in message
    for field in ("firehose_buffer_mib", "api_burst_limit", "transition_to_glacier_days", "partition_fields[0]"):
        assert f"streaming.{field}: " in message


def test_quota_boundaries_are_allowed() -> None:
    """72,000 events/s x 1.25: 90 shards of 10 batches, exactly the 900 the default quota
    leaves reservable; a raised quota admits the 920 of 73,000 events/s."""
    data = _example()
    for other in ("object_index", "disaster_recovery"):  # the account's other reservations, counted by the root
        del data[other]
    data["streaming"].update(records_per_second=72_000)
    assert parse_config(yaml.safe_dump(data, sort_keys=False)).streaming.reserved_concurrency() == 900
    data["streaming"].update(records_per_second=73_000, account_concurrency_quota=2_000)
    data["account_quotas"] = {"lambda_concurrent_executions": 2_000}
    assert parse_config(yaml.safe_dump(data, sort_keys=False)).streaming.reserved_concurrency() == 920


def test_reserved_concurrency_is_the_consumer_concurrency() -> None:
    settings = load_config().streaming
    assert settings.reserved_concurrency() == 40  # 4 shards x 10 batches
    data = _example()
    data["streaming"].update(capacity_mode="on-demand", records_per_second=100, parallelization_factor=3)
    assert parse_config(yaml.safe_dump(data, sort_keys=False)).streaming.reserved_concurrency() == 12


def test_on_demand_above_its_starting_capacity_is_a_warning() -> None:
    data = _example()
    data["streaming"].update(capacity_mode="on-demand", records_per_second=6_000)
    sizing = parse_config(yaml.safe_dump(data, sort_keys=False)).streaming.sizing()
    assert any(w.startswith("on-demand start: the stated load (6000 records/s") for w in sizing.warnings)


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
