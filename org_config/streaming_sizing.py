"""How many shards a Kinesis data stream needs for a stated load, and what it costs a month.

Plain Python over numbers (no CDK, no config import), so the config model, the stacks, the
doc page and the tests share one calculation. Arithmetic is exact (``Fraction``), so the
boundaries (exactly 1,000 records/s, exactly 1 MiB/s) land on the side AWS documents.

Per shard (Kinesis Data Streams quotas, "Quotas and limits" in the developer guide):

* writes: 1 MiB/s or 1,000 records/s, whichever is reached first;
* reads: 2 MiB/s and 5 ``GetRecords`` calls per second, shared by every classic consumer;
  an enhanced fan-out consumer gets its own 2 MiB/s per shard, pushed over HTTP/2;
* a record's data is at most 1 MiB (before base64).

Write side: ``max(ceil(MiB/s / 1), ceil(records/s / 1000))``. Read side: classic consumers
share 2 MiB/s per shard, so ``ceil(MiB/s * classic consumers / 2)``; an enhanced fan-out
consumer reads 2 MiB/s from each shard, which never needs more shards than the write side.
The load is multiplied by the headroom factor before either side is rounded up.

Consumer side (the Lambda consumer writes one conditional ``PutItem`` per event, one after
another within a batch): a batch in flight carries ``1000 / ms_per_write`` events per
second, so the load needs ``ceil(records/s x headroom x ms_per_write / 1000)`` batches in
flight. Lambda runs at most 10 batches per shard at once (the parallelization factor,
"Parallelization factor" in Lambda's Kinesis parameters), so the stream needs at least
``ceil(batches / 10)`` shards, and the parallelization factor is
``ceil(batches / shards)``. An on-demand stream starts with 4 MB/s and 4,000 records/s of
write capacity (the quotas page above), which is 4 shards' worth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

# --- Quotas of one shard ------------------------------------------------------------------
SHARD_WRITE_MIB_PER_SECOND = 1
SHARD_WRITE_RECORDS_PER_SECOND = 1_000
SHARD_READ_MIB_PER_SECOND = 2  # shared by classic consumers; per enhanced fan-out consumer
SHARD_GET_RECORDS_PER_SECOND = 5  # shared by classic consumers
MAX_RECORD_KIB = 1_024  # 1 MiB of data per record
MAX_ENHANCED_FAN_OUT_CONSUMERS = 20  # registered consumers per stream
KIB_PER_MIB = 1_024
PUT_PAYLOAD_UNIT_KIB = 25  # a record is billed in 25 KB chunks (rounded up)
SECONDS_PER_HOUR = 3_600
# --- The Lambda consumer and on-demand streams -------------------------------------------
MAX_PARALLELIZATION_FACTOR = 10  # concurrent batches per shard (Lambda's Kinesis parameters)
ON_DEMAND_INITIAL_SHARDS = 4  # a new on-demand stream: 4 MB/s, 4,000 records/s of writes
ON_DEMAND_INITIAL_WRITE_MIB_PER_SECOND = ON_DEMAND_INITIAL_SHARDS * SHARD_WRITE_MIB_PER_SECOND
ON_DEMAND_INITIAL_WRITE_RECORDS_PER_SECOND = ON_DEMAND_INITIAL_SHARDS * SHARD_WRITE_RECORDS_PER_SECOND


def _exact(value: float | int) -> Fraction:
    """A config number as the decimal it was written as (1.2 is 6/5, not 1.19999...)."""
    return Fraction(str(value))


def _ceil(value: Fraction) -> int:
    return math.ceil(value)


@dataclass(frozen=True, kw_only=True)
class StreamLoad:
    """The load a stream must carry, as stated in the config."""

    records_per_second: float
    average_record_kib: float
    max_record_kib: float
    # GetRecords calls per second each classic (shared-throughput) consumer makes on a shard.
    classic_consumer_polls_per_second: tuple[float, ...] = ()
    enhanced_fan_out_consumers: int = 0
    headroom: float = 1.0  # multiplies the load before rounding up; 1.25 = 25 % spare
    # Share (0-1] of all records that carry the busiest partition key; None if unknown.
    hottest_key_share: float | None = None
    on_demand: bool = False  # capacity mode: on-demand streams start at 4 shards' worth
    # The Lambda consumer: milliseconds one conditional write takes end to end (None: no
    # consumer to size), and the parallelization factor the config states (None: derived).
    consumer_milliseconds_per_write: float | None = None
    parallelization_factor: int | None = None

    def __post_init__(self) -> None:
        if self.records_per_second <= 0:
            raise ValueError("records_per_second: must be greater than 0")
        if self.average_record_kib <= 0:
            raise ValueError("average_record_kib: must be greater than 0")
        if self.max_record_kib > MAX_RECORD_KIB:
            raise ValueError(f"max_record_kib: a Kinesis record holds at most {MAX_RECORD_KIB} KiB (1 MiB)")
        if self.average_record_kib > self.max_record_kib:
            raise ValueError("average_record_kib: must not exceed max_record_kib")
        if self.headroom < 1:
            raise ValueError("headroom: must be at least 1 (1.0 = no spare capacity)")
        if self.hottest_key_share is not None and not 0 < self.hottest_key_share <= 1:
            raise ValueError("hottest_key_share: must be in (0, 1]")
        if self.consumer_milliseconds_per_write is not None and self.consumer_milliseconds_per_write <= 0:
            raise ValueError("consumer_milliseconds_per_write: must be greater than 0")
        if self.parallelization_factor is not None and not 1 <= self.parallelization_factor <= 10:
            raise ValueError(f"parallelization_factor: must be 1 to {MAX_PARALLELIZATION_FACTOR}")

    @property
    def ingest_mib_per_second(self) -> Fraction:
        return _exact(self.records_per_second) * _exact(self.average_record_kib) / KIB_PER_MIB

    @property
    def classic_consumers(self) -> int:
        return len(self.classic_consumer_polls_per_second)


@dataclass(frozen=True, kw_only=True)
class StreamSizing:
    """The shard count for a load and the reason for it."""

    load: StreamLoad
    write_shards_for_bytes: int
    write_shards_for_records: int
    read_shards_for_classic_consumers: int
    read_shards_for_enhanced_fan_out: int
    shards: int
    deciding: str  # which need sets the shard count
    get_records_per_second_per_shard: Fraction
    # Batches the consumer must have in flight, the shards that takes, and the factor.
    consumer_batches_needed: int
    shards_for_consumer: int
    parallelization_factor: int
    refusals: tuple[str, ...]  # the load cannot be carried this way: the config refuses it
    warnings: tuple[str, ...]  # it can, with a risk the user should know: synth warnings

    @property
    def write_shards(self) -> int:
        return max(self.write_shards_for_bytes, self.write_shards_for_records)

    @property
    def read_shards(self) -> int:
        return max(self.read_shards_for_classic_consumers, self.read_shards_for_enhanced_fan_out)

    @property
    def write_utilization(self) -> Fraction:
        """Busiest write dimension at the stated load (without headroom), as a share of capacity."""
        load = self.load
        by_bytes = load.ingest_mib_per_second / (self.shards * SHARD_WRITE_MIB_PER_SECOND)
        by_records = _exact(load.records_per_second) / (self.shards * SHARD_WRITE_RECORDS_PER_SECOND)
        return max(by_bytes, by_records)

    @property
    def spare_write_capacity(self) -> Fraction:
        """Share of the write capacity left free at the stated load."""
        return 1 - self.write_utilization

    @property
    def concurrency_shards(self) -> int:
        """Shards the consumer's concurrency is counted for: an on-demand stream has at
        least the 4 it starts with."""
        return max(self.shards, ON_DEMAND_INITIAL_SHARDS) if self.load.on_demand else self.shards

    @property
    def consumer_concurrency(self) -> int:
        """The most batches the event source runs at once: its reserved concurrency."""
        return self.concurrency_shards * self.parallelization_factor

    @property
    def consumer_events_per_second(self) -> Fraction | None:
        """What the consumer carries at that concurrency (None without a write latency)."""
        if self.load.consumer_milliseconds_per_write is None:
            return None
        return self.consumer_concurrency * 1000 / _exact(self.load.consumer_milliseconds_per_write)


def size_stream(load: StreamLoad) -> StreamSizing:
    """Shards for ``load``: the larger of the write and read needs, after headroom."""
    headroom = _exact(load.headroom)
    mib = load.ingest_mib_per_second * headroom
    records = _exact(load.records_per_second) * headroom
    write_bytes = max(1, _ceil(mib / SHARD_WRITE_MIB_PER_SECOND))
    write_records = max(1, _ceil(records / SHARD_WRITE_RECORDS_PER_SECOND))
    read_classic = _ceil(mib * load.classic_consumers / SHARD_READ_MIB_PER_SECOND)
    read_fan_out = _ceil(mib / SHARD_READ_MIB_PER_SECOND) if load.enhanced_fan_out_consumers else 0
    batches = 0
    if load.consumer_milliseconds_per_write is not None:
        batches = _ceil(records * _exact(load.consumer_milliseconds_per_write) / 1000)
    consumer_shards = _ceil(Fraction(batches, MAX_PARALLELIZATION_FACTOR))
    needs = {
        "write throughput (MiB/s)": write_bytes,
        "write records per second": write_records,
        "classic consumers' shared reads": read_classic,
        "enhanced fan-out reads": read_fan_out,
        "the consumer's writes (10 batches per shard at most)": consumer_shards,
    }
    shards = max(needs.values())
    deciding = next(name for name, count in needs.items() if count == shards)
    concurrency_shards = max(shards, ON_DEMAND_INITIAL_SHARDS) if load.on_demand else shards
    derived_factor = max(1, _ceil(Fraction(batches, concurrency_shards)))
    factor = derived_factor if load.parallelization_factor is None else load.parallelization_factor

    refusals: list[str] = []
    warnings: list[str] = []
    if factor < derived_factor:
        refusals.append(
            f"parallelization_factor: {factor} batches per shard carry "
            f"{float(concurrency_shards * factor * 1000 / _exact(load.consumer_milliseconds_per_write or 1)):g} "
            f"events/s at {load.consumer_milliseconds_per_write:g} ms per write, below the "
            f"{float(records):g} events/s of the load with headroom: needs {derived_factor} (or leave it out "
            "to derive it)"
        )
    polls = sum((_exact(p) for p in load.classic_consumer_polls_per_second), Fraction(0))
    if polls > SHARD_GET_RECORDS_PER_SECOND:
        refusals.append(
            f"classic consumers call GetRecords {float(polls):g} times per second on each shard, above the "
            f"{SHARD_GET_RECORDS_PER_SECOND} a shard serves (more shards do not help): "
            "move a consumer to enhanced fan-out"
        )
    if load.enhanced_fan_out_consumers > MAX_ENHANCED_FAN_OUT_CONSUMERS:
        refusals.append(
            f"{load.enhanced_fan_out_consumers} enhanced fan-out consumers: a stream registers at most "
            f"{MAX_ENHANCED_FAN_OUT_CONSUMERS}"
        )
    if load.hottest_key_share is not None:
        share = _exact(load.hottest_key_share)
        key_records = _exact(load.records_per_second) * share
        key_mib = load.ingest_mib_per_second * share
        if key_records > SHARD_WRITE_RECORDS_PER_SECOND or key_mib > SHARD_WRITE_MIB_PER_SECOND:
            warnings.append(
                f"hot partition key: the busiest key carries {float(key_records):g} records/s "
                f"({float(key_mib):.3g} MiB/s), more than one shard accepts "
                f"({SHARD_WRITE_RECORDS_PER_SECOND} records/s, {SHARD_WRITE_MIB_PER_SECOND} MiB/s) and a key "
                "always maps to one shard: spread it (for example a suffix on the key)"
            )
    stated_records = _exact(load.records_per_second)
    if load.on_demand and (
        load.ingest_mib_per_second > ON_DEMAND_INITIAL_WRITE_MIB_PER_SECOND
        or stated_records > ON_DEMAND_INITIAL_WRITE_RECORDS_PER_SECOND
    ):
        warnings.append(
            f"on-demand start: the stated load ({float(stated_records):g} records/s, "
            f"{float(load.ingest_mib_per_second):.3g} MiB/s) is more than a new on-demand stream accepts "
            f"({ON_DEMAND_INITIAL_WRITE_RECORDS_PER_SECOND} records/s, "
            f"{ON_DEMAND_INITIAL_WRITE_MIB_PER_SECOND} MiB/s): "
            "producers are throttled until Kinesis scales the stream up; ramp the load up, or start provisioned"
        )
    return StreamSizing(
        load=load,
        write_shards_for_bytes=write_bytes,
        write_shards_for_records=write_records,
        read_shards_for_classic_consumers=read_classic,
        read_shards_for_enhanced_fan_out=read_fan_out,
        shards=shards,
        deciding=deciding,
        get_records_per_second_per_shard=polls,
        consumer_batches_needed=batches,
        shards_for_consumer=consumer_shards,
        parallelization_factor=factor,
        refusals=tuple(refusals),
        warnings=tuple(warnings),
    )


# --- Cost -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Prices:
    """List prices in USD for one region, with where and when they were read."""

    source: str
    region: str
    as_of: str
    shard_hour: float
    put_payload_units_per_million: float
    fan_out_consumer_shard_hour: float
    fan_out_retrieval_per_gb: float
    on_demand_stream_hour: float
    on_demand_ingest_per_gb: float
    on_demand_retrieval_per_gb: float
    on_demand_fan_out_retrieval_per_gb: float
    dynamodb_wcu_hour: float


# The study notes' figures: shard-hour $0.015 and DynamoDB WCU-hour $0.00065 (us-east-1).
# The worked example (3 shards, $32.40 a month; 3,000 WCU, about $1,450.90) uses these.
NOTES_PRICES = Prices(
    source="the study notes' worked example (us-east-1 list prices)",
    region="us-east-1",
    as_of="as given in the notes",
    shard_hour=0.015,
    put_payload_units_per_million=0.014,
    fan_out_consumer_shard_hour=0.015,
    fan_out_retrieval_per_gb=0.013,
    on_demand_stream_hour=0.04,
    on_demand_ingest_per_gb=0.08,
    on_demand_retrieval_per_gb=0.04,
    on_demand_fan_out_retrieval_per_gb=0.05,
    dynamodb_wcu_hour=0.00065,
)

# List prices (us-east-1) from the Amazon Kinesis Data Streams and Amazon DynamoDB pricing
# pages. The pages quote per-region rates; Europe (Ireland) is slightly higher.
CURRENT_PRICES = Prices(
    source="the Amazon Kinesis Data Streams and Amazon DynamoDB (provisioned capacity) pricing pages",
    region="us-east-1",
    # The stored copy of the pricing page consulted on 2026-11-27 did not show the rates; these
    # are the rates the pages listed when last read. Check them before relying on the totals.
    as_of="rates as last listed; re-check before relying on them",
    shard_hour=0.015,
    put_payload_units_per_million=0.014,
    fan_out_consumer_shard_hour=0.015,
    fan_out_retrieval_per_gb=0.013,
    on_demand_stream_hour=0.04,
    on_demand_ingest_per_gb=0.08,
    on_demand_retrieval_per_gb=0.04,
    on_demand_fan_out_retrieval_per_gb=0.05,
    dynamodb_wcu_hour=0.00065,
)

HOURS_PER_MONTH = 730  # AWS's pricing calculator month (8,760 hours / 12)
NOTES_KINESIS_HOURS = 720  # the notes' Kinesis figure: a 30-day month
NOTES_DYNAMODB_HOURS = 744  # the notes' DynamoDB figure: a 31-day month


@dataclass(frozen=True, kw_only=True)
class MonthlyCost:
    """One way of carrying the load for a month, line by line (USD)."""

    mode: str
    lines: tuple[tuple[str, float], ...]

    @property
    def total(self) -> float:
        return round(sum(amount for _, amount in self.lines), 2)


def _gb_per_month(mib_per_second: Fraction, hours: int) -> Fraction:
    return mib_per_second * SECONDS_PER_HOUR * hours / KIB_PER_MIB  # MiB -> GiB, billed as GB


def provisioned_cost(sizing: StreamSizing, prices: Prices, *, hours: int = HOURS_PER_MONTH) -> MonthlyCost:
    """Shard hours, PUT payload units and enhanced fan-out for a provisioned stream."""
    load = sizing.load
    units_per_record = math.ceil(_exact(load.average_record_kib) / PUT_PAYLOAD_UNIT_KIB)
    put_units = _exact(load.records_per_second) * units_per_record * SECONDS_PER_HOUR * hours
    fan_out = load.enhanced_fan_out_consumers
    lines = [
        ("shard hours", round(sizing.shards * prices.shard_hour * hours, 2)),
        ("PUT payload units", round(float(put_units / 1_000_000) * prices.put_payload_units_per_million, 2)),
    ]
    if fan_out:
        lines.append(
            (
                "enhanced fan-out consumer-shard hours",
                round(fan_out * sizing.shards * prices.fan_out_consumer_shard_hour * hours, 2),
            )
        )
        gb = _gb_per_month(load.ingest_mib_per_second, hours) * fan_out
        lines.append(("enhanced fan-out data retrieved", round(float(gb) * prices.fan_out_retrieval_per_gb, 2)))
    return MonthlyCost(mode="provisioned", lines=tuple(lines))


def on_demand_cost(load: StreamLoad, prices: Prices, *, hours: int = HOURS_PER_MONTH) -> MonthlyCost:
    """Stream hours and data in and out for an on-demand stream (records billed per whole KiB)."""
    billed_kib = math.ceil(_exact(load.average_record_kib))
    mib = _exact(load.records_per_second) * billed_kib / KIB_PER_MIB
    gb = _gb_per_month(mib, hours)
    lines = [
        ("stream hours", round(prices.on_demand_stream_hour * hours, 2)),
        ("data in", round(float(gb) * prices.on_demand_ingest_per_gb, 2)),
    ]
    if load.classic_consumers:
        lines.append(
            (
                "data out, classic consumers",
                round(float(gb * load.classic_consumers) * prices.on_demand_retrieval_per_gb, 2),
            )
        )
    if load.enhanced_fan_out_consumers:
        lines.append(
            (
                "data out, enhanced fan-out",
                round(float(gb * load.enhanced_fan_out_consumers) * prices.on_demand_fan_out_retrieval_per_gb, 2),
            )
        )
    return MonthlyCost(mode="on-demand", lines=tuple(lines))


def dynamodb_streams_write_cost(load: StreamLoad, prices: Prices, *, hours: int = HOURS_PER_MONTH) -> MonthlyCost:
    """The same writes through a provisioned DynamoDB table (whose stream then carries them):
    one WCU per write per second for each started KiB of item."""
    wcu = _exact(load.records_per_second) * math.ceil(_exact(load.average_record_kib))
    return MonthlyCost(
        mode="DynamoDB Streams (provisioned WCU)",
        lines=(("write capacity unit hours", round(float(wcu) * prices.dynamodb_wcu_hour * hours, 2)),),
    )
