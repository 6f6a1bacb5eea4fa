"""Per-key tumbling-window counts in event time: the logic of the Flink job, in plain Python.

The job (``window_counts_job.py``) keeps, per key, a map from window start to count in
Flink keyed state and calls these functions from its process function; the tests drive
the same functions with events and watermarks, without Flink.

Rules:

* a record the job cannot count (not UTF-8 JSON, not an object, no ``event_type`` string,
  no ``event_time`` ISO 8601 string with an offset; an epoch number is not one) is dropped
  and counted (:func:`parse_event` returns None); it never reaches the timestamp
  assigner, so a poison record cannot fail the job and hold it in a restart loop;
* a window covers ``[start, start + size)``: an event exactly at a window's end belongs to
  the next window;
* a window is emitted once, when the watermark passes its end plus the allowed lateness
  (Flink's event-time timer at ``end - 1 + lateness`` fires when the watermark reaches
  it), so an event up to the allowed lateness behind the watermark still counts: the
  watermark is assigned after the source, across the shards one source task reads, and a
  shard read behind the others is late by as much as it is behind;
* an event whose window has already been emitted is late: it is counted as dropped
  (``droppedLateEvents``), never added to a closed window.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class WindowCount:
    key: str
    window_start_ms: int
    window_end_ms: int
    count: int


def parse_event(line: Any) -> tuple[str, int] | None:
    """``(event_type, event time in ms)`` of one record, or None if the job cannot count it."""
    try:
        event = json.loads(line)
    except (TypeError, ValueError):  # not text, not UTF-8, not JSON
        return None
    if not isinstance(event, dict):
        return None
    event_type, event_time = event.get("event_type"), event.get("event_time")
    if not isinstance(event_type, str) or not event_type or not isinstance(event_time, str):
        return None
    try:
        moment = datetime.fromisoformat(event_time)
    except ValueError:
        return None
    if moment.tzinfo is None:  # a local time would count in a window chosen by the job's clock zone
        return None
    return event_type, int(moment.timestamp() * 1000)


def window_start(event_time_ms: int, size_ms: int) -> int:
    """Start of the tumbling window holding ``event_time_ms`` (windows aligned to the epoch)."""
    if size_ms <= 0:
        raise ValueError("window size must be positive")
    return event_time_ms - event_time_ms % size_ms


def timer_for(start_ms: int, size_ms: int, allowed_lateness_ms: int = 0) -> int:
    """The event-time timer that closes the window starting at ``start_ms``."""
    return start_ms + size_ms - 1 + allowed_lateness_ms


def is_late(event_time_ms: int, size_ms: int, watermark_ms: int, allowed_lateness_ms: int = 0) -> bool:
    """True if the event's window was already emitted when the event arrives."""
    return timer_for(window_start(event_time_ms, size_ms), size_ms, allowed_lateness_ms) <= watermark_ms


def add_event(counts: MutableMapping[int, int], event_time_ms: int, size_ms: int) -> int:
    """Count the event in its window (``counts`` is the key's state); returns the window start."""
    start = window_start(event_time_ms, size_ms)
    counts[start] = counts.get(start, 0) + 1
    return start


def fire(
    counts: MutableMapping[int, int], key: str, timer_ms: int, size_ms: int, allowed_lateness_ms: int = 0
) -> list[WindowCount]:
    """Emit and forget every window of ``counts`` whose timer is at or before ``timer_ms``."""
    closed = sorted(start for start in counts if timer_for(start, size_ms, allowed_lateness_ms) <= timer_ms)
    emitted = [WindowCount(key, start, start + size_ms, counts.pop(start)) for start in closed]
    return emitted


@dataclass
class Simulation:
    """What the job emits for a sequence of records and watermarks, in arrival order."""

    emitted: list[WindowCount]
    dropped_late: int
    dropped_unparsable: int = 0


def simulate(
    arrivals: Iterable[tuple[str, int] | int | str | bytes], size_ms: int, *, allowed_lateness_ms: int = 0
) -> Simulation:
    """Run events (``(key, event_time_ms)``, or a raw record as the stream holds it) and
    watermarks (``int``) through the functions above the way the job does: raw records
    through :func:`parse_event` first; a final watermark is not implied."""
    state: dict[str, dict[int, int]] = {}
    timers: set[tuple[str, int]] = set()
    watermark = -(2**63)
    emitted: list[WindowCount] = []
    dropped = unparsable = 0
    for arrival in arrivals:
        if isinstance(arrival, int):
            watermark = max(watermark, arrival)
            for key, timer in sorted(t for t in timers if t[1] <= watermark):
                timers.discard((key, timer))
                emitted.extend(fire(state[key], key, timer, size_ms, allowed_lateness_ms))
            continue
        parsed = parse_event(arrival) if isinstance(arrival, str | bytes) else arrival
        if parsed is None:
            unparsable += 1
            continue
        key, event_time = parsed
        if is_late(event_time, size_ms, watermark, allowed_lateness_ms):
            dropped += 1
            continue
        start = add_event(state.setdefault(key, {}), event_time, size_ms)
        timers.add((key, timer_for(start, size_ms, allowed_lateness_ms)))
    return Simulation(emitted, dropped, unparsable)
