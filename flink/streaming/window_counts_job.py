"""Managed Service for Apache Flink job: events per key (event type) per tumbling window.

    stream (enhanced fan-out or polling) -> parse (windows.parse_event; what cannot be
    counted is dropped and counted: droppedUnparsableEvents) -> watermarks (event time,
    bounded out-of-orderness) -> key by event_type -> WindowCounter (windows.py; late events
    counted: droppedLateEvents) -> JSON lines in S3

Runtime properties (set by the pipeline stack, group ``job``): ``stream_name``,
``region``, ``consumer_arn`` (empty for polling), ``window_seconds``,
``out_of_orderness_seconds``, ``allowed_lateness_seconds``, ``output_path``.

The Kinesis source needs the Kinesis connector JAR in ``lib/`` of the application package
(``kinesis.analytics.flink.run.options`` / ``jarfile``): ``python -m flink.connector_jar
fetch`` downloads it (pinned version and checksum), and ``... check`` refuses a deploy
without it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

# Managed Flink runs this file from the root of the zip, where windows.py is a top-level
# module; static analysis sees the folder as a package.
if TYPE_CHECKING:
    from .windows import WindowCount, add_event, fire, is_late, parse_event, timer_for
else:
    from windows import WindowCount, add_event, fire, is_late, parse_event, timer_for

APPLICATION_PROPERTIES = "/etc/flink/application_properties.json"  # where Managed Flink puts them


def job_properties(path: str = APPLICATION_PROPERTIES) -> dict[str, str]:
    with open(path, encoding="utf-8") as file:
        groups: list[dict[str, Any]] = json.load(file)
    properties: dict[str, str] = next(g["PropertyMap"] for g in groups if g["PropertyGroupId"] == "job")
    return properties


def to_json(window: WindowCount) -> str:
    return json.dumps(
        {
            "event_type": window.key,
            "window_start": window.window_start_ms,
            "window_end": window.window_end_ms,
            "count": window.count,
        },
        sort_keys=True,
    )


def main() -> None:  # pragma: no cover - runs inside Managed Service for Apache Flink
    from pyflink.common import Duration, Encoder, Types, WatermarkStrategy  # type: ignore[import-not-found]
    from pyflink.common.serialization import SimpleStringSchema  # type: ignore[import-not-found]
    from pyflink.common.watermark_strategy import TimestampAssigner  # type: ignore[import-not-found]
    from pyflink.datastream import (  # type: ignore[import-not-found]
        FlatMapFunction,
        KeyedProcessFunction,
        StreamExecutionEnvironment,
    )
    from pyflink.datastream.connectors.file_system import FileSink  # type: ignore[import-not-found]
    from pyflink.datastream.connectors.kinesis import FlinkKinesisConsumer  # type: ignore[import-not-found]
    from pyflink.datastream.state import MapStateDescriptor  # type: ignore[import-not-found]

    properties = job_properties()
    size_ms = int(properties["window_seconds"]) * 1000
    lateness_ms = int(properties["allowed_lateness_seconds"]) * 1000

    class ParseEvents(FlatMapFunction):  # type: ignore[misc]
        def open(self, runtime_context: Any) -> None:
            self.unparsable = runtime_context.get_metrics_group().counter("droppedUnparsableEvents")

        def flat_map(self, value: str) -> Any:
            parsed = parse_event(value)
            if parsed is None:
                self.unparsable.inc()
                return
            yield parsed

    class EventTime(TimestampAssigner):  # type: ignore[misc]
        def extract_timestamp(self, value: tuple[str, int], record_timestamp: int) -> int:
            return value[1]

    class WindowCounter(KeyedProcessFunction):  # type: ignore[misc]
        def open(self, runtime_context: Any) -> None:
            self.counts = runtime_context.get_map_state(MapStateDescriptor("counts", Types.LONG(), Types.LONG()))
            self.late = runtime_context.get_metrics_group().counter("droppedLateEvents")

        def process_element(self, value: tuple[str, int], ctx: Any) -> Any:
            event_time = value[1]
            if is_late(event_time, size_ms, ctx.timer_service().current_watermark(), lateness_ms):
                self.late.inc()
                return
            counts = dict(self.counts.items())
            start = add_event(counts, event_time, size_ms)
            self.counts.put(start, counts[start])
            ctx.timer_service().register_event_time_timer(timer_for(start, size_ms, lateness_ms))

        def on_timer(self, timestamp: int, ctx: Any) -> Any:
            counts = dict(self.counts.items())
            for window in fire(counts, ctx.get_current_key(), timestamp, size_ms, lateness_ms):
                self.counts.remove(window.window_start_ms)
                yield to_json(window)

    consumer_config = {"aws.region": properties["region"], "flink.stream.initpos": "TRIM_HORIZON"}
    if properties.get("consumer_arn"):
        # Enhanced fan-out through the consumer the stack registered (the job registers none).
        consumer_config.update(
            {
                "flink.stream.recordpublisher": "EFO",
                "flink.stream.efo.registration": "NONE",
                f"flink.stream.efo.consumerarn.{properties['stream_name']}": properties["consumer_arn"],
            }
        )
    else:
        # Polling: once a second per shard, as the stream's sizing assumes.
        consumer_config["flink.shard.getrecords.intervalmillis"] = "1000"

    env = StreamExecutionEnvironment.get_execution_environment()
    source = FlinkKinesisConsumer(properties["stream_name"], SimpleStringSchema(), consumer_config)
    watermarks = WatermarkStrategy.for_bounded_out_of_orderness(
        Duration.of_seconds(int(properties["out_of_orderness_seconds"]))
    ).with_timestamp_assigner(EventTime())
    sink = FileSink.for_row_format(properties["output_path"], Encoder.simple_string_encoder()).build()
    (
        env.add_source(source)
        # Parsed before any timestamp is read: a record that cannot be counted is dropped here.
        .flat_map(ParseEvents(), output_type=Types.TUPLE([Types.STRING(), Types.LONG()]))
        .assign_timestamps_and_watermarks(watermarks)
        .key_by(lambda event: event[0], key_type=Types.STRING())
        .process(WindowCounter(), output_type=Types.STRING())
        .sink_to(sink)
    )
    env.execute("window-counts")


if __name__ == "__main__":
    main()
