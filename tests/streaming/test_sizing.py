"""Shard sizing and cost: the notes' worked example, and every boundary of a shard's quotas."""

from __future__ import annotations

import pytest

from org_config.streaming_sizing import (
    CURRENT_PRICES,
    NOTES_DYNAMODB_HOURS,
    NOTES_KINESIS_HOURS,
    NOTES_PRICES,
    StreamLoad,
    dynamodb_streams_write_cost,
    on_demand_cost,
    provisioned_cost,
    size_stream,
)


def _load(**overrides: object) -> StreamLoad:
    values: dict[str, object] = {"records_per_second": 100, "average_record_kib": 1, "max_record_kib": 1}
    values.update(overrides)
    return StreamLoad(**values)  # type: ignore[arg-type]


def test_notes_worked_example_three_shards_and_monthly_costs() -> None:
    """3,000 messages of 1 KB per second: 3 shards for writes, $32.40 a month in shard hours
    at $0.015 (a 30-day month), against about $1,450.90 for 3,000 WCU of DynamoDB."""
    load = StreamLoad(records_per_second=3_000, average_record_kib=1, max_record_kib=1)
    sizing = size_stream(load)
    assert sizing.write_shards_for_records == 3
    assert sizing.write_shards_for_bytes == 3  # 2.93 MiB/s
    assert sizing.shards == 3
    shard_hours = dict(provisioned_cost(sizing, NOTES_PRICES, hours=NOTES_KINESIS_HOURS).lines)["shard hours"]
    assert shard_hours == pytest.approx(32.40, abs=0.005)
    dynamodb = dynamodb_streams_write_cost(load, NOTES_PRICES, hours=NOTES_DYNAMODB_HOURS)
    # 3,000 WCU x $0.00065 x 744 h = $1,450.80; the notes round to $1,450.90.
    assert dynamodb.total == pytest.approx(1_450.90, abs=0.15)


@pytest.mark.parametrize(
    ("records_per_second", "shards"),
    [(999, 1), (1_000, 1), (1_001, 2), (2_000, 2), (2_001, 3)],
)
def test_records_per_second_boundary(records_per_second: int, shards: int) -> None:
    # 0.5 KiB records keep the byte side below the record side.
    sizing = size_stream(_load(records_per_second=records_per_second, average_record_kib=0.5, max_record_kib=0.5))
    assert sizing.write_shards_for_records == shards
    assert sizing.shards == shards


@pytest.mark.parametrize(
    ("records_per_second", "shards"),
    [(511, 1), (512, 1), (513, 2), (1_024, 2), (1_025, 3)],
)
def test_one_mib_per_second_boundary(records_per_second: int, shards: int) -> None:
    # 2 KiB records: 512 per second is exactly 1 MiB/s.
    sizing = size_stream(_load(records_per_second=records_per_second, average_record_kib=2, max_record_kib=2))
    assert sizing.write_shards_for_bytes == shards
    assert sizing.deciding == "write throughput (MiB/s)"


def test_record_size_at_one_mib_is_accepted_and_above_is_refused() -> None:
    assert size_stream(_load(records_per_second=1, average_record_kib=1024, max_record_kib=1024)).shards == 1
    with pytest.raises(ValueError, match="max_record_kib: a Kinesis record holds at most 1024 KiB"):
        _load(max_record_kib=1024.001)


@pytest.mark.parametrize("bad", [0, -1])
def test_zero_or_negative_throughput_is_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="records_per_second: must be greater than 0"):
        _load(records_per_second=bad)


def test_headroom_is_applied_before_rounding() -> None:
    exact = size_stream(_load(records_per_second=1_000, average_record_kib=0.5, max_record_kib=1))
    spare = size_stream(_load(records_per_second=1_000, average_record_kib=0.5, max_record_kib=1, headroom=1.2))
    assert (exact.shards, spare.shards) == (1, 2)
    assert float(spare.spare_write_capacity) == pytest.approx(0.5)


def test_classic_consumers_share_reads_and_can_decide() -> None:
    # 3,000 x 1 KiB = 2.93 MiB/s. Two classic consumers read 5.86 MiB/s: 3 shards of 2 MiB/s.
    two = size_stream(_load(records_per_second=3_000, classic_consumer_polls_per_second=(1, 1)))
    assert (two.read_shards_for_classic_consumers, two.shards) == (3, 3)
    # Three read 8.79 MiB/s: 5 shards, more than the write side needs.
    three = size_stream(_load(records_per_second=3_000, classic_consumer_polls_per_second=(1, 1, 1)))
    assert (three.read_shards_for_classic_consumers, three.shards) == (5, 5)
    assert three.deciding == "classic consumers' shared reads"


def test_enhanced_fan_out_consumers_never_add_shards() -> None:
    sizing = size_stream(_load(records_per_second=3_000, enhanced_fan_out_consumers=10))
    assert sizing.read_shards_for_enhanced_fan_out == 2
    assert sizing.shards == 3


def test_get_records_calls_above_five_per_shard_warn() -> None:
    assert size_stream(_load(classic_consumer_polls_per_second=(1, 1, 1, 1, 1))).warnings == ()
    (warning,) = size_stream(_load(classic_consumer_polls_per_second=(5, 1))).warnings
    assert "GetRecords 6 times per second" in warning


def test_hot_partition_key_warning_at_one_shard() -> None:
    # 4,000 records/s: a key with 25 % carries exactly 1,000 records/s, which one shard takes.
    assert size_stream(_load(records_per_second=4_000, hottest_key_share=0.25)).warnings == ()
    (warning,) = size_stream(_load(records_per_second=4_000, hottest_key_share=0.2501)).warnings
    assert warning.startswith("hot partition key")
    # By bytes: 1 MiB/s of a key's 40 KiB records is 25.6 records/s.
    (by_bytes,) = size_stream(
        _load(records_per_second=100, average_record_kib=40, max_record_kib=40, hottest_key_share=0.3)
    ).warnings
    assert "MiB/s" in by_bytes


def test_costs_scale_with_the_shard_count_and_mode() -> None:
    load = _load(records_per_second=3_000, enhanced_fan_out_consumers=1)
    sizing = size_stream(load)
    cost = dict(provisioned_cost(sizing, CURRENT_PRICES, hours=730).lines)
    assert cost["shard hours"] == pytest.approx(3 * 0.015 * 730)
    assert cost["enhanced fan-out consumer-shard hours"] == pytest.approx(3 * 0.015 * 730)
    # 3,000 records/s of 1 KiB is 1 PUT payload unit each: 7.884e9 units a month.
    assert cost["PUT payload units"] == pytest.approx(3_000 * 3_600 * 730 / 1e6 * 0.014, abs=0.01)
    on_demand = dict(on_demand_cost(load, CURRENT_PRICES, hours=730).lines)
    assert on_demand["stream hours"] == pytest.approx(0.04 * 730)
    assert on_demand["data in"] == pytest.approx(3_000 * 3_600 * 730 / 1024 / 1024 * 0.08, abs=0.01)
