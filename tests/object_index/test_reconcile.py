"""Reconcile: lost events are repaired from a listing of the bucket, and a repair never
undoes an event that is newer than what the index held."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from . import helpers
from .helpers import (
    FakeLambdaContext,
    created,
    delete,
    etag_of,
    index_keys,
    index_records,
    keys,
    object_item,
    partition_items,
    removed,
    totals,
    upload,
)

reconcile: ModuleType = importlib.import_module("reconcile")

pytestmark = pytest.mark.usefixtures("aws")


def seq(value: int) -> str:
    return f"00{value:016X}"


def run(customer_id: str = "acme", context: Any = None, **extra: Any) -> dict[str, Any]:
    return dict(reconcile.handler({"customer_id": customer_id, **extra}, context or FakeLambdaContext()))


def _lost_events() -> None:
    """acme: kept (in step), lost-create, lost-overwrite, lost-delete, recreated after a
    delete whose create was lost; globex untouched."""
    upload("customers/acme/kept.txt", b"kept", content_type="text/plain", classification="public")
    upload("customers/acme/overwritten.txt", b"v1")
    upload("customers/acme/deleted.txt", b"to be deleted")
    upload("customers/acme/recreated.txt", b"old")
    upload("customers/globex/g.txt", b"globex")
    index_records(
        created("customers/acme/kept.txt", b"kept", seq(1), "2024-03-01T09:00:00.000Z"),
        created("customers/acme/overwritten.txt", b"v1", seq(1), "2024-03-01T09:00:00.000Z"),
        created("customers/acme/deleted.txt", b"to be deleted", seq(1), "2024-03-01T09:00:00.000Z"),
        created("customers/acme/recreated.txt", b"old", seq(1), "2024-03-01T09:00:00.000Z"),
        removed("customers/acme/recreated.txt", seq(2), "2024-03-01T10:00:00.000Z"),
        created("customers/globex/g.txt", b"globex", seq(1), "2024-03-01T09:00:00.000Z"),
    )
    # What happens next never reaches the index: the events are lost.
    upload("customers/acme/new.pdf", b"brand new", content_type="application/pdf", classification="confidential")
    upload("customers/acme/overwritten.txt", b"version two", content_type="text/csv")
    delete("customers/acme/deleted.txt")
    upload("customers/acme/recreated.txt", b"recreated")
    upload("customers/acme/not a layout problem/é +.txt", b"odd but valid")


def test_lost_events_are_repaired_and_totals_follow() -> None:
    _lost_events()
    before_globex = partition_items("globex")
    result = run()
    assert result == {
        "customer_id": "acme",
        "listed": 5,
        "indexed": 4,
        "outcomes": {"repaired": 5},
        "next_start_after": None,
    }
    live = {
        "customers/acme/kept.txt": b"kept",
        "customers/acme/new.pdf": b"brand new",
        "customers/acme/overwritten.txt": b"version two",
        "customers/acme/recreated.txt": b"recreated",
        "customers/acme/not a layout problem/é +.txt": b"odd but valid",
    }
    for key, body in live.items():
        item = object_item(key)
        assert item is not None, key
        assert (item["item_type"], item["size"], item["etag"]) == ("OBJECT", len(body), etag_of(body)), key
    new = object_item("customers/acme/new.pdf")
    assert new is not None
    assert (new["content_type"], new["classification"]) == ("application/pdf", "confidential")
    assert new["sequencer"] == "0" * keys.SEQUENCER_WIDTH  # never indexed: below every real event
    assert object_item("customers/acme/deleted.txt")["item_type"] == "TOMBSTONE"  # type: ignore[index]
    assert totals("acme") == (sum(len(body) for body in live.values()), len(live))
    assert sorted(index_keys(keys.INDEX_BY_UPLOAD_TIME, "CUSTOMER#acme")) == sorted(live)
    assert index_keys(keys.INDEX_BY_CONTENT_TYPE, "CUSTOMER#acme#CT#application/pdf") == ["customers/acme/new.pdf"]
    assert partition_items("globex") == before_globex
    # A second pass finds nothing to do.
    assert run()["outcomes"] == {}


def test_a_repair_keeps_the_stored_sequencer_so_newer_events_still_apply() -> None:
    _lost_events()
    overwritten = object_item("customers/acme/overwritten.txt")
    assert overwritten is not None
    run()
    repaired = object_item("customers/acme/overwritten.txt")
    assert repaired is not None and repaired["sequencer"] == overwritten["sequencer"]
    # The lost event turns up after all (late, not lost): applied, same state, totals unchanged.
    before = totals("acme")
    index_records(created("customers/acme/overwritten.txt", b"version two", seq(5), "2024-03-02T09:00:00.000Z"))
    assert totals("acme") == before
    # An older event that was only delayed is still superseded by the tombstone's sequencer.
    index_records(created("customers/acme/recreated.txt", b"old", seq(1), "2024-03-01T09:00:00.000Z"))
    assert object_item("customers/acme/recreated.txt")["size"] == len(b"recreated")  # type: ignore[index]


def test_an_event_applied_during_the_repair_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    upload("customers/acme/race.txt", b"one")
    index_records(created("customers/acme/race.txt", b"one", seq(1), "2024-03-01T09:00:00.000Z"))
    delete("customers/acme/race.txt")  # the delete event is in flight
    original = helpers.writes.write
    raced: list[bool] = []

    def event_first(*args: Any) -> Any:
        if not raced:
            raced.append(True)
            upload("customers/acme/race.txt", b"three!")
            index_records(created("customers/acme/race.txt", b"three!", seq(3), "2024-03-01T11:00:00.000Z"))
        return original(*args)

    monkeypatch.setattr(helpers.writes, "write", event_first)
    assert run()["outcomes"] == {"changed": 1}
    item = object_item("customers/acme/race.txt")
    assert item is not None
    assert (item["size"], item["sequencer"]) == (6, keys.normalize_sequencer(seq(3)))
    assert totals("acme") == (6, 1)


def _interleaved_runs(monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two reconcile runs for one customer, overlapping: the first has read the key's item and
    S3 and is about to write when the second runs from start to end."""
    original = helpers.writes.write
    second: list[dict[str, Any]] = []

    def the_other_run_first(*args: Any) -> Any:
        if not second:
            second.append({})  # the second run's own write goes straight through
            second[0] = run()
        return original(*args)

    monkeypatch.setattr(helpers.writes, "write", the_other_run_first)
    first = run()
    return first, second[0]


def test_two_overlapping_repairs_of_a_lost_delete_move_the_totals_once(monkeypatch: pytest.MonkeyPatch) -> None:
    upload("customers/acme/a.txt", b"seven!!")
    index_records(created("customers/acme/a.txt", b"seven!!", seq(1), "2024-03-01T09:00:00.000Z"))
    delete("customers/acme/a.txt")  # the delete event is lost
    first, second = _interleaved_runs(monkeypatch)
    assert (first["outcomes"], second["outcomes"]) == ({"changed": 1}, {"repaired": 1})
    assert object_item("customers/acme/a.txt")["item_type"] == "TOMBSTONE"  # type: ignore[index]
    assert totals("acme") == (0, 0)  # what S3 holds


def test_two_overlapping_repairs_of_a_lost_re_create_move_the_totals_once(monkeypatch: pytest.MonkeyPatch) -> None:
    upload("customers/acme/a.txt", b"old")
    index_records(
        created("customers/acme/a.txt", b"old", seq(1), "2024-03-01T09:00:00.000Z"),
        removed("customers/acme/a.txt", seq(2), "2024-03-01T10:00:00.000Z"),
    )
    upload("customers/acme/a.txt", b"seven!!")  # the re-create's event is lost
    first, second = _interleaved_runs(monkeypatch)
    assert (first["outcomes"], second["outcomes"]) == ({"changed": 1}, {"repaired": 1})
    assert object_item("customers/acme/a.txt")["size"] == 7  # type: ignore[index]
    assert totals("acme") == (7, 1)  # what S3 holds


def test_two_overlapping_repairs_of_a_lost_overwrite_move_the_totals_once(monkeypatch: pytest.MonkeyPatch) -> None:
    upload("customers/acme/a.txt", b"v1")
    index_records(created("customers/acme/a.txt", b"v1", seq(1), "2024-03-01T09:00:00.000Z"))
    upload("customers/acme/a.txt", b"version 2")  # the overwrite's event is lost
    first, second = _interleaved_runs(monkeypatch)
    assert (first["outcomes"], second["outcomes"]) == ({"changed": 1}, {"repaired": 1})
    assert totals("acme") == (9, 1)


@dataclass
class ShortContext(FakeLambdaContext):
    """An invocation that runs out of time after ``calls`` checks."""

    calls: int = 2

    def get_remaining_time_in_millis(self) -> int:
        self.calls -= 1
        return 60_000 if self.calls >= 0 else 1_000


def test_a_long_walk_hands_back_where_to_go_on() -> None:
    for n in range(5):
        upload(f"customers/acme/f{n}.txt", b"x" * n)
    first = run(context=ShortContext(calls=2))
    assert first["next_start_after"] == "f1.txt"
    assert first["outcomes"] == {"repaired": 2}
    second = run(start_after=first["next_start_after"])
    assert (second["outcomes"], second["next_start_after"]) == ({"repaired": 3}, None)
    assert totals("acme") == (0 + 1 + 2 + 3 + 4, 5)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"customer_id": "bad id"}, "customer_id must be"),
        ({"customer_id": "Acme"}, r"customer_id must be .* \(lower case only\)"),
        ({}, "customer_id must be"),
        ({"customer_id": "acme", "start_after": 5}, "start_after must be a string"),
        ([], "the input must be"),
    ],
)
def test_bad_input_is_refused_before_anything_is_read(event: Any, message: str) -> None:
    with pytest.raises(reconcile.BadInputError, match=message):
        reconcile.handler(event, FakeLambdaContext())
