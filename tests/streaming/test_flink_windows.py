"""The Flink job's window logic, in plain Python: boundaries, keys, watermarks, late events."""

from __future__ import annotations

import importlib
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from org_config import load_config

FLINK_DIR = Path(__file__).resolve().parents[2] / "flink" / "streaming"
if str(FLINK_DIR) not in sys.path:
    sys.path.insert(0, str(FLINK_DIR))
windows: ModuleType = importlib.import_module("windows")
job: ModuleType = importlib.import_module("window_counts_job")

MINUTE = 60_000


def _counts(simulation: object) -> list[tuple[str, int, int]]:
    return [(w.key, w.window_start_ms, w.count) for w in simulation.emitted]  # type: ignore[attr-defined]


def test_window_boundaries_are_half_open() -> None:
    assert windows.window_start(0, MINUTE) == 0
    assert windows.window_start(MINUTE - 1, MINUTE) == 0
    assert windows.window_start(MINUTE, MINUTE) == MINUTE  # the end belongs to the next window
    with pytest.raises(ValueError, match="window size must be positive"):
        windows.window_start(5, 0)


def test_counts_per_key_per_window_emitted_when_the_watermark_passes() -> None:
    run = windows.simulate(
        [("click", 1_000), ("view", 2_000), ("click", 59_999), ("click", 60_000), MINUTE - 2, MINUTE - 1],
        MINUTE,
    )
    # At watermark 59,998 nothing closed; at 59,999 the first window of each key closes.
    assert _counts(run) == [("click", 0, 2), ("view", 0, 1)]
    later = windows.simulate([("click", 60_000), ("click", 119_999), 2 * MINUTE - 1], MINUTE)
    assert _counts(later) == [("click", MINUTE, 2)]


def test_out_of_order_events_inside_the_window_still_count() -> None:
    run = windows.simulate([("a", 50_000), ("a", 10_000), 30_000, ("a", 20_000), MINUTE - 1], MINUTE)
    assert _counts(run) == [("a", 0, 3)]


def test_late_events_are_counted_as_dropped_not_added_to_a_closed_window() -> None:
    run = windows.simulate([("a", 1_000), MINUTE - 1, ("a", 2_000), ("a", 61_000), 2 * MINUTE - 1], MINUTE)
    assert _counts(run) == [("a", 0, 1), ("a", MINUTE, 1)]
    assert run.dropped_late == 1
    # With 5 s of allowed lateness the window waits: the late event counts, once.
    lenient = windows.simulate(
        [("a", 1_000), MINUTE - 1, ("a", 2_000), MINUTE + 4_998, MINUTE + 4_999], MINUTE, allowed_lateness_ms=5_000
    )
    assert (lenient.dropped_late, _counts(lenient)) == (0, [("a", 0, 2)])


POISON = [
    "{not json",
    b"\xff\xfe",
    '["a list"]',
    '{"event_type": "click"}',
    '{"event_type": "click", "event_time": 1764237600}',  # an epoch number
    '{"event_type": "click", "event_time": "yesterday"}',
    '{"event_type": "click", "event_time": "2026-11-27T10:00:00"}',  # no offset
    '{"event_type": 7, "event_time": "2026-11-27T10:00:00Z"}',
    '{"event_time": "2026-11-27T10:00:00Z"}',
    "null",
]


@pytest.mark.parametrize("line", POISON)
def test_a_record_the_job_cannot_count_is_dropped_and_counted_not_raised(line: str | bytes) -> None:
    assert windows.parse_event(line) is None
    good = '{"event_type": "click", "event_time": "1970-01-01T00:00:01Z"}'
    run = windows.simulate([good, line, good, MINUTE - 1], MINUTE)
    assert (run.dropped_unparsable, _counts(run)) == (1, [("click", 0, 2)])


def test_a_shard_read_ten_seconds_behind_loses_no_event_within_the_allowed_lateness() -> None:
    """One source task reads two shards; shard B is read 10 s behind shard A, so the
    watermark (from A's events, 5 s out of orderness) runs 5 s ahead of B's events."""
    arrivals: list[tuple[str, int] | int] = []
    for second in range(10, 130):
        arrivals.append(("a", second * 1000))
        arrivals.append(("b", (second - 10) * 1000))
        arrivals.append((second - 5) * 1000 - 1)  # the watermark after A's event
    strict = windows.simulate(arrivals, MINUTE)
    assert strict.dropped_late > 0  # without lateness, B's events at each window's end are lost
    settings = load_config().streaming
    lenient = windows.simulate(arrivals, MINUTE, allowed_lateness_ms=settings.flink_allowed_lateness_seconds * 1000)
    assert lenient.dropped_late == 0
    # The first window closes 60 s late, with every event of both shards in it.
    assert sorted(_counts(lenient)) == [("a", 0, 50), ("b", 0, 60)]


def test_each_window_is_emitted_once() -> None:
    run = windows.simulate([("a", 1), MINUTE - 1, MINUTE - 1, 5 * MINUTE], MINUTE)
    assert _counts(run) == [("a", 0, 1)]


def test_job_reads_event_time_and_writes_json_lines() -> None:
    line = '{"event_id": "e1", "event_type": "click", "event_time": "2026-11-27T10:00:30+00:00"}'
    moment = int(datetime(2026, 11, 27, 10, 0, 30, tzinfo=UTC).timestamp() * 1000)
    assert windows.parse_event(line) == ("click", moment)
    assert job.parse_event is windows.parse_event  # the job counts with these very functions
    window = windows.WindowCount("click", 0, MINUTE, 3)
    assert job.to_json(window) == '{"count": 3, "event_type": "click", "window_end": 60000, "window_start": 0}'


def test_job_reads_its_property_group(tmp_path: Path) -> None:
    path = tmp_path / "application_properties.json"
    path.write_text(
        '[{"PropertyGroupId": "other", "PropertyMap": {}}, '
        '{"PropertyGroupId": "job", "PropertyMap": {"window_seconds": "60"}}]'
    )
    assert job.job_properties(str(path)) == {"window_seconds": "60"}
