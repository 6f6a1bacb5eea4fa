"""Pagination with the longest keys: tokens stay bounded, every page resumes."""

from __future__ import annotations

from typing import Any

import pytest

from . import helpers
from .helpers import call_api, created, index_records, keys

pytestmark = pytest.mark.usefixtures("aws")

DAY = "2024-03-02"


def _seed(paths: list[str]) -> list[str]:
    """Index one object per path, one second apart on DAY; returns their keys newest first."""
    records = []
    for n, path in enumerate(paths):
        key = f"customers/c{n % 3}/{path}"
        helpers.upload(key, b"x")
        records.append(created(key, b"x", f"{n + 1:X}", f"{DAY}T10:{n // 60:02d}:{n % 60:02d}.000Z"))
    index_records(*records)
    return [record_key for record_key in reversed([f"customers/c{n % 3}/{p}" for n, p in enumerate(paths)])]


def _all_pages(route: str, limit: int, **query: str) -> tuple[list[str], list[str]]:
    keys_seen: list[str] = []
    tokens: list[str] = []
    token = None
    while True:
        params = dict(query, limit=str(limit))
        if token is not None:
            params["next_token"] = token
        status, body = call_api(route, **params)
        assert status == 200, (len(tokens), body)
        keys_seen.extend(item["key"] for item in body["items"])
        token = body["next_token"]
        if token is None:
            return keys_seen, tokens
        tokens.append(token)
        assert len(tokens) < 100


def test_by_day_pages_through_24_objects_with_370_byte_paths() -> None:
    """The reviewed failure: with per-shard positions the token outgrew its limit on page 8."""
    paths = [f"{n:02d}-" + "p" * 367 for n in range(24)]
    expected = _seed(paths)
    listed, tokens = _all_pages("/uploads/by-day", 3, date=DAY)
    assert listed == expected
    assert len(tokens) == 7
    assert max(len(token) for token in tokens) <= keys.MAX_TOKEN_LENGTH


@pytest.mark.parametrize("character", ["q", '"', "\x01", "é"])
def test_every_route_pages_through_keys_of_the_maximum_length(character: str) -> None:
    def longest(n: int) -> str:
        prefix = f"customers/c{n % 3}/{n:02d}-"
        return f"{n:02d}-" + character * ((1024 - len(prefix.encode())) // len(character.encode()))

    paths = [longest(n) for n in range(9)]
    assert all(len(f"customers/c0/{p}".encode()) > 1020 for p in paths)
    expected = _seed(paths)
    listed, tokens = _all_pages("/uploads/by-day", 2, date=DAY)
    assert listed == expected
    assert tokens and max(len(token) for token in tokens) <= keys.MAX_TOKEN_LENGTH
    customer_listed, _ = _all_pages("/customers/c0/objects", 1)
    assert customer_listed == [key for key in expected if key.startswith("customers/c0/")]
    by_date, _ = _all_pages("/customers/c1/objects/by-date", 1, start=DAY, end=DAY)
    assert by_date == [key for key in expected if key.startswith("customers/c1/")]


def test_ties_in_a_cut_day_sort_key_across_shards_are_neither_lost_nor_repeated() -> None:
    """Paths longer than the sort key can hold share a cut DAY_SK when uploaded in the same
    millisecond; the shards' order breaks the tie and a page may end inside the tie."""
    stem = "t" * 1000
    records: list[dict[str, Any]] = []
    expected = []
    for n in range(8):
        key = f"customers/c0/{stem}{n}"
        helpers.upload(key, b"x")
        records.append(created(key, b"x", f"{n + 1:X}", f"{DAY}T10:00:00.000Z"))
        expected.append(key)
    index_records(*records)
    sort_keys = {keys.day_sort_key(f"{DAY}T10:00:00.000Z", "c0", k.split("/", 2)[2]) for k in expected}
    assert len(sort_keys) == 1  # every DAY_SK is cut to the same value
    assert len({keys.day_shard("c0", k.split("/", 2)[2]) for k in expected}) > 1
    for limit in (1, 2, 3):
        listed, _ = _all_pages("/uploads/by-day", limit, date=DAY)
        assert sorted(listed) == sorted(expected), limit
        assert len(listed) == len(expected), limit
