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


def test_get_records_calls_above_five_per_shard_are_refused() -> None:
    assert size_stream(_load(classic_consumer_polls_per_second=(1, 1, 1, 1, 1))).refusals == ()
    (refusal,) = size_stream(_load(classic_consumer_polls_per_second=(5, 1))).refusals
    assert "GetRecords 6 times per second" in refusal


def test_headroom_below_one_and_average_above_maximum_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^headroom: must be at least 1 \(1.0 = no spare capacity\)$"):
        _load(headroom=0.99)
    assert size_stream(_load(headroom=1)).shards == 1
    with pytest.raises(ValueError, match=r"^average_record_kib: must not exceed max_record_kib$"):
        _load(average_record_kib=1.001, max_record_kib=1)
    assert _load(average_record_kib=1, max_record_kib=1).average_record_kib == 1


def test_fan_out_read_shards_only_with_a_fan_out_consumer() -> None:
    # 10 MiB/s: five shards' worth of one fan-out reader, but there is none.
    heavy = _load(records_per_second=10_240, average_record_kib=1, max_record_kib=1)
    assert size_stream(heavy).read_shards_for_enhanced_fan_out == 0
    one = StreamLoad(records_per_second=10_240, average_record_kib=1, max_record_kib=1, enhanced_fan_out_consumers=1)
    assert size_stream(one).read_shards_for_enhanced_fan_out == 5


def _consumer(records: float, ms: float, **overrides: object) -> StreamLoad:
    values: dict[str, object] = {
        "records_per_second": records,
        "average_record_kib": 0.5,
        "max_record_kib": 1,
        "consumer_milliseconds_per_write": ms,
    }
    values.update(overrides)
    return StreamLoad(**values)  # type: ignore[arg-type]


def test_consumer_concurrency_follows_the_load_and_the_write_latency() -> None:
    """The example: 3,000 events/s x 1.25 at 10 ms a write needs 37.5 batches in flight: 38;
    over 4 shards that is 10 a shard (40 in all), carrying 4,000 events/s."""
    sizing = size_stream(_consumer(3_000, 10, average_record_kib=1, max_record_kib=64, headroom=1.25))
    assert (sizing.consumer_batches_needed, sizing.shards, sizing.parallelization_factor) == (38, 4, 10)
    assert sizing.consumer_concurrency == 40
    assert sizing.consumer_events_per_second == 4_000
    # The issue's measurement: 8 batches in flight at 5 ms carry 1,600 events/s, not 3,000.
    issue = _consumer(3_000, 5, parallelization_factor=2, average_record_kib=1, headroom=1.25)
    assert size_stream(issue).consumer_events_per_second == 1_600
    # Exactly enough: 1,000 events/s at 4 ms need 4 batches; one shard, factor 4.
    exact = size_stream(_consumer(1_000, 4))
    assert (exact.consumer_batches_needed, exact.shards, exact.parallelization_factor) == (4, 1, 4)
    assert exact.consumer_events_per_second == 1_000
    # One more: 5 batches, and 2 shards for the records: 3 a shard.
    over = size_stream(_consumer(1_001, 4))
    assert (over.consumer_batches_needed, over.shards, over.parallelization_factor) == (5, 2, 3)


def test_a_slow_write_adds_shards_past_ten_batches_a_shard() -> None:
    # 1,000 events/s at 25 ms: 25 batches, more than one shard's 10: 3 shards of 9.
    sizing = size_stream(_consumer(1_000, 25))
    assert (sizing.shards_for_consumer, sizing.shards, sizing.parallelization_factor) == (3, 3, 9)
    assert sizing.deciding == "the consumer's writes (10 batches per shard at most)"
    assert size_stream(_consumer(1_000, 10)).shards == 1


def test_a_stated_parallelization_factor_below_the_need_is_refused() -> None:
    assert size_stream(_consumer(1_000, 4, parallelization_factor=4)).refusals == ()
    (refusal,) = size_stream(_consumer(1_000, 4, parallelization_factor=3)).refusals
    assert refusal == (
        "parallelization_factor: 3 batches per shard carry 750 events/s at 4 ms per write, below the "
        "1000 events/s of the load with headroom: needs 4 (or leave it out to derive it)"
    )
    # More than needed is the user's choice.
    assert size_stream(_consumer(1_000, 4, parallelization_factor=10)).consumer_concurrency == 10


def test_on_demand_counts_the_shards_it_starts_with_and_warns_above_them() -> None:
    small = size_stream(_consumer(100, 10, on_demand=True))
    assert (small.shards, small.concurrency_shards, small.consumer_concurrency) == (1, 4, 4)
    assert small.warnings == ()
    at_start = size_stream(_consumer(4_000, 1, on_demand=True, average_record_kib=1, max_record_kib=1))
    assert at_start.warnings == ()  # 4,000 records/s of 1 KiB: 3.9 MiB/s, within both
    (records,) = size_stream(_consumer(4_001, 1, on_demand=True)).warnings
    assert records.startswith("on-demand start: the stated load (4001 records/s, 1.95 MiB/s) is more than a new")
    (mib,) = size_stream(_consumer(1_025, 1, on_demand=True, average_record_kib=4, max_record_kib=4)).warnings
    assert "(1025 records/s, 4 MiB/s)" in mib
    assert size_stream(_consumer(1_024, 1, on_demand=True, average_record_kib=4, max_record_kib=4)).warnings == ()
    assert size_stream(_consumer(4_001, 1)).warnings == ()  # provisioned streams start at their size


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


def test_the_sizing_table_shows_the_consumer_s_derivation() -> None:
    from analysis.streaming.report import render_sizing
    from org_config import load_config

    settings = load_config().streaming
    table = render_sizing(settings, settings.sizing(), 4)
    assert "| consumer: batches in flight the load needs | 3,750 events/s x 10 ms = 38 |" in table
    assert "| parallelization factor (derived) | ceil(38 / 4 shards) = 10 |" in table
    assert "| consumer reserved concurrency | 4 shards x 10 = 40 |" in table
    assert "| consumer carries | 4,000 events/s (3,750 needed with the headroom) |" in table
