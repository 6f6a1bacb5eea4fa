"""Tables of the streaming pattern's page, rendered from the config and the synthesized
templates (the shard count and the alarm thresholds are read back from the templates, so
the page shows what is deployed, not what the code meant to deploy)."""

from __future__ import annotations

from typing import Any

from analysis.streaming.alarms import CONSUMER_AGE_PERCENT_OF_MAXIMUM
from org_config.model import Streaming
from org_config.streaming_sizing import (
    CURRENT_PRICES,
    HOURS_PER_MONTH,
    NOTES_DYNAMODB_HOURS,
    NOTES_KINESIS_HOURS,
    NOTES_PRICES,
    MonthlyCost,
    StreamLoad,
    StreamSizing,
    dynamodb_streams_write_cost,
    on_demand_cost,
    provisioned_cost,
    size_stream,
)


def _resources(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template.get("Resources", {}).items() if v["Type"] == type_}


def deployed_shards(data_template: dict[str, Any]) -> int | None:
    """The stream's shard count in the template (None for an on-demand stream)."""
    (stream,) = _resources(data_template, "AWS::Kinesis::Stream").values()
    count = stream["Properties"].get("ShardCount")
    return int(count) if count is not None else None


def _money(value: float) -> str:
    return f"${value:,.2f}"


def render_sizing(settings: Streaming, sizing: StreamSizing, shards_in_template: int | None) -> str:
    load = sizing.load
    rows = [
        (
            "load",
            f"{settings.records_per_second:,g} records/s of {settings.average_record_kib:g} KiB "
            f"(max {settings.max_record_kib:g} KiB)",
        ),
        ("ingest", f"{float(load.ingest_mib_per_second):.2f} MiB/s"),
        ("headroom", f"x {settings.headroom:g}"),
        ("write shards for MiB/s (1 MiB/s each)", str(sizing.write_shards_for_bytes)),
        ("write shards for records/s (1,000 each)", str(sizing.write_shards_for_records)),
        (
            f"read shards for {load.classic_consumers} classic consumer(s) (2 MiB/s shared)",
            str(sizing.read_shards_for_classic_consumers),
        ),
        (
            f"read shards for {load.enhanced_fan_out_consumers} enhanced fan-out consumer(s) (2 MiB/s each)",
            str(sizing.read_shards_for_enhanced_fan_out),
        ),
        ("decided by", sizing.deciding),
        ("shards", str(sizing.shards)),
        ("shards in the synthesized stream", "on-demand" if shards_in_template is None else str(shards_in_template)),
        ("spare write capacity at the stated load", f"{float(sizing.spare_write_capacity):.0%}"),
        ("GetRecords calls per second per shard (limit 5)", f"{float(sizing.get_records_per_second_per_shard):g}"),
        *_consumer_rows(settings, sizing),
        ("warnings", "; ".join(sizing.warnings) or "none"),
    ]
    lines = ["| quantity | value |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def _consumer_rows(settings: Streaming, sizing: StreamSizing) -> list[tuple[str, str]]:
    """How the Lambda consumer carries the load: one conditional write after another in a
    batch, so its concurrency follows from the load and the time of one write."""
    load = sizing.load
    ms = settings.consumer_milliseconds_per_write
    needed = float(load.records_per_second * load.headroom)
    capacity = float(sizing.consumer_events_per_second or 0)
    stated = "stated" if settings.parallelization_factor is not None else "derived"
    shards = sizing.concurrency_shards
    consumer_age = settings.maximum_record_age_seconds * CONSUMER_AGE_PERCENT_OF_MAXIMUM // 100
    return [
        ("consumer: one conditional write (consumer_milliseconds_per_write)", f"{ms:g} ms"),
        (
            "consumer: batches in flight the load needs",
            f"{needed:,.0f} events/s x {ms:g} ms = {sizing.consumer_batches_needed}",
        ),
        ("shards for the consumer (10 batches per shard at most)", str(sizing.shards_for_consumer)),
        (
            f"parallelization factor ({stated})",
            f"ceil({sizing.consumer_batches_needed} / {shards} shards) = {sizing.parallelization_factor}"
            if stated == "derived"
            else str(sizing.parallelization_factor),
        ),
        (
            "consumer reserved concurrency",
            f"{shards} shards x {sizing.parallelization_factor} = {sizing.consumer_concurrency}",
        ),
        ("consumer carries", f"{capacity:,.0f} events/s ({needed:,.0f} needed with the headroom)"),
        (
            "lag alarm before records are given up",
            f"IteratorAge above {consumer_age:,} s, {settings.maximum_record_age_seconds - consumer_age:,} s "
            f"before the {settings.maximum_record_age_seconds:,} s maximum record age",
        ),
    ]


def _cost_rows(costs: list[MonthlyCost]) -> list[str]:
    rows = []
    for cost in costs:
        detail = "; ".join(f"{name} {_money(amount)}" for name, amount in cost.lines)
        rows.append(f"| {cost.mode} | {_money(cost.total)} | {detail} |")
    return rows


def render_cost(sizing: StreamSizing) -> str:
    prices = CURRENT_PRICES
    lines = [
        f"Monthly cost of the example load ({HOURS_PER_MONTH} hours; {prices.region} list prices from "
        f"{prices.source}, {prices.as_of}):",
        "",
        "| carried by | per month | made of |",
        "| --- | --- | --- |",
    ]
    lines += _cost_rows(
        [
            provisioned_cost(sizing, prices),
            on_demand_cost(sizing.load, prices),
            dynamodb_streams_write_cost(sizing.load, prices),
        ]
    )
    notes_load = StreamLoad(records_per_second=3_000, average_record_kib=1, max_record_kib=1)
    notes_sizing = size_stream(notes_load)
    notes_shards = dict(provisioned_cost(notes_sizing, NOTES_PRICES, hours=NOTES_KINESIS_HOURS).lines)["shard hours"]
    notes_dynamodb = dynamodb_streams_write_cost(notes_load, NOTES_PRICES, hours=NOTES_DYNAMODB_HOURS).total
    common_shards = dict(provisioned_cost(notes_sizing, NOTES_PRICES, hours=HOURS_PER_MONTH).lines)["shard hours"]
    common_dynamodb = dynamodb_streams_write_cost(notes_load, NOTES_PRICES, hours=HOURS_PER_MONTH).total
    notes_total = provisioned_cost(notes_sizing, NOTES_PRICES, hours=NOTES_KINESIS_HOURS).total
    common_total = provisioned_cost(notes_sizing, NOTES_PRICES, hours=HOURS_PER_MONTH).total
    lines += [
        "",
        "The notes' worked example (3,000 messages of 1 KB per second, no headroom; a test reproduces it):",
        "",
        "| | notes' month | as computed | on a 730-hour month |",
        "| --- | --- | --- | --- |",
        f"| Kinesis, {notes_sizing.shards} shards x ${NOTES_PRICES.shard_hour} per shard-hour | "
        f"$32.4 (720 h) | {_money(notes_shards)} | {_money(common_shards)} |",
        f"| Kinesis, shard hours and PUT payload units (${NOTES_PRICES.put_payload_units_per_million} "
        f"per million) | not in the notes | {_money(notes_total)} | {_money(common_total)} |",
        f"| DynamoDB Streams, 3,000 WCU x ${NOTES_PRICES.dynamodb_wcu_hour} per WCU-hour | "
        f"$1,450.90 (744 h) | {_money(notes_dynamodb)} | {_money(common_dynamodb)} |",
    ]
    return "\n".join(lines)


def render_alarms(pipeline_template: dict[str, Any]) -> str:
    lines = ["| alarm | metric | statistic, period | threshold | why this number |", "| --- | --- | --- | --- | --- |"]
    for logical_id, alarm in sorted(_resources(pipeline_template, "AWS::CloudWatch::Alarm").items()):
        props = alarm["Properties"]
        description = str(props["AlarmDescription"])
        reason = description.split(" Threshold: ", 1)[-1].rstrip(".")
        name = logical_id.removesuffix(logical_id[-8:]) if len(logical_id) > 8 else logical_id
        threshold = float(props["Threshold"])
        lines.append(
            f"| `{name}` | `{props['Namespace']}` `{props['MetricName']}` | {props['Statistic']}, "
            f"{props['Period']} s | > {threshold:,.0f} | {reason} |"
        )
    return "\n".join(lines)
