"""Per-key tumbling-window counts in event time: the logic of the Flink job, in plain Python.

The job (``window_counts_job.py``) keeps, per key, a map from window start to count in
Flink keyed state and calls these functions from its process function; the tests drive
the same functions with events and watermarks, without Flink.

Rules:

* a window covers ``[start, start + size)``: an event exactly at a window's end belongs to
  the next window;
* a window is emitted once, when the watermark passes its end (Flink's event-time timer
  at ``end - 1`` fires when the watermark reaches it);
* an event whose window has already been emitted (watermark past its end plus the allowed
  lateness) is late: it is counted as dropped, never added to a closed window.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass


@dataclass(frozen=True)
class WindowCount:
    key: str
    window_start_ms: int
    window_end_ms: int
    count: int


def window_start(event_time_ms: int, size_ms: int) -> int:
    """Start of the tumbling window holding ``event_time_ms`` (windows aligned to the epoch)."""
    if size_ms <= 0:
        raise ValueError("window size must be positive")
    return event_time_ms - event_time_ms % size_ms


def timer_for(start_ms: int, size_ms: int) -> int:
    """The event-time timer that closes the window starting at ``start_ms``."""
    return start_ms + size_ms - 1


def is_late(event_time_ms: int, size_ms: int, watermark_ms: int, allowed_lateness_ms: int = 0) -> bool:
    """True if the event's window was already emitted when the event arrives."""
    return timer_for(window_start(event_time_ms, size_ms), size_ms) + allowed_lateness_ms <= watermark_ms


def add_event(counts: MutableMapping[int, int], event_time_ms: int, size_ms: int) -> int:
    """Count the event in its window (``counts`` is the key's state); returns the window start."""
    start = window_start(event_time_ms, size_ms)
    counts[start] = counts.get(start, 0) + 1
    return start


def fire(counts: MutableMapping[int, int], key: str, timer_ms: int, size_ms: int) -> list[WindowCount]:
    """Emit and forget every window of ``counts`` that ends at or before ``timer_ms + 1``."""
    closed = sorted(start for start in counts if timer_for(start, size_ms) <= timer_ms)
    emitted = [WindowCount(key, start, start + size_ms, counts.pop(start)) for start in closed]
    return emitted


@dataclass
class Simulation:
    """What the job emits for a sequence of (key, event time) and watermarks, in arrival order."""

    emitted: list[WindowCount]
    dropped_late: int


def simulate(arrivals: Iterable[tuple[str, int] | int], size_ms: int, *, allowed_lateness_ms: int = 0) -> Simulation:
    """Run events (``(key, event_time_ms)``) and watermarks (``int``) through the functions
    above the way the job's process function does; a final watermark is not implied."""
    state: dict[str, dict[int, int]] = {}
    timers: set[tuple[str, int]] = set()
    watermark = -(2**63)
    emitted: list[WindowCount] = []
    dropped = 0
    for arrival in arrivals:
        if isinstance(arrival, int):
            watermark = max(watermark, arrival)
            for key, timer in sorted(t for t in timers if t[1] <= watermark):
                timers.discard((key, timer))
                emitted.extend(fire(state[key], key, timer, size_ms))
            continue
        key, event_time = arrival
        if is_late(event_time, size_ms, watermark, allowed_lateness_ms):
            dropped += 1
            continue
        start = add_event(state.setdefault(key, {}), event_time, size_ms)
        timers.add((key, timer_for(start, size_ms)))
    return Simulation(emitted, dropped)
