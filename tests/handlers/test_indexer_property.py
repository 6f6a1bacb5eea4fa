"""Randomized check: any delivery order, duplication and batching gives the true final state.

For each seed a history of puts, overwrites and deletes is generated over
several customers and keys, with increasing S3-style sequencers of varying
length (a later one is often the shorter). The events are shuffled, duplicated at random, packed into SQS
messages (sometimes several records per message) and split into batches.
After delivery the index items, the by-upload-time index and the totals must
equal the state S3 ends in.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws

from . import helpers
from .helpers import created, etag_of, index_keys, keys, message_for, partition_items, removed, run_indexer

SEED_COUNT = 200
PATHS = ["a.txt", "dir/b.bin", "with space/é.csv", "x+y=z.json", "deep/er/c"]
CONTENT_TYPES = ["text/plain", "application/pdf", "image/png; q=1", None]
CLASSIFICATIONS = ["public", "confidential", None]


@dataclass(frozen=True)
class Put:
    body: bytes
    content_type: str | None
    classification: str | None


@dataclass(frozen=True)
class Event:
    customer_id: str
    path: str
    sequencer: str
    event_time: str
    put: Put | None  # None for a delete

    @property
    def key(self) -> str:
        return f"customers/{self.customer_id}/{self.path}"

    def record(self) -> dict[str, Any]:
        if self.put is None:
            return removed(self.key, self.sequencer, self.event_time)
        return created(self.key, self.put.body, self.sequencer, self.event_time)


def _timestamp(milliseconds: int) -> str:
    seconds, millis = divmod(milliseconds, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def sequencer_after(rng: random.Random, position: int) -> str:
    """An S3-style sequencer for the given position in one key's history.

    S3 orders sequencers by right-padding the shorter with zeros: a later event may have the
    shorter sequencer. The position is a fixed-width prefix; a random tail of 0 to 3 hex
    digits varies the length, and trailing zeros are sometimes dropped (the same value).
    """
    text = f"00{position:012X}" + "".join(rng.choice("0123456789ABCDEF") for _ in range(rng.randint(0, 3)))
    return text.rstrip("0") if rng.random() < 0.2 else text


def generate_history(rng: random.Random, seed: int) -> list[Event]:
    """Events per key in S3 order: increasing sequencers and times (spread over a few days)."""
    events: list[Event] = []
    customers = [f"s{seed}-c{n}" for n in range(rng.randint(1, 3))]
    for customer_id in customers:
        for path in rng.sample(PATHS, rng.randint(1, 3)):
            position = rng.randint(1, 0xFFFF)
            moment = 1_709_251_200_000 + rng.randint(0, 3 * 86_400_000)  # 2024-03-01 .. 03-04
            for _ in range(rng.randint(1, 4)):
                position += rng.randint(1, 0xFFFF)
                moment += rng.randint(1, 20 * 3_600_000)
                text = sequencer_after(rng, position)
                put = None
                if rng.random() < 0.65:
                    put = Put(
                        body=rng.randbytes(rng.randint(0, 300)),
                        content_type=rng.choice(CONTENT_TYPES),
                        classification=rng.choice(CLASSIFICATIONS),
                    )
                events.append(Event(customer_id, path, text, _timestamp(moment), put))
    return events


def deliver(rng: random.Random, events: list[Event]) -> None:
    records = [event.record() for event in events for _ in range(1 + (rng.random() < 0.3) + (rng.random() < 0.1))]
    rng.shuffle(records)
    messages: list[dict[str, Any]] = []
    while records:
        count = 2 if len(records) > 1 and rng.random() < 0.15 else 1
        messages.append(message_for(*records[:count]))
        records = records[count:]
    while messages:
        size = rng.randint(1, 10)
        assert run_indexer(*messages[:size]) == []
        messages = messages[size:]


def differences(events: list[Event]) -> list[str]:
    """Compare the table with the final S3 state; an empty list means they agree."""
    final: dict[tuple[str, str], Event] = {}
    for event in events:  # generated in S3 order per key
        final[(event.customer_id, event.path)] = event
    problems: list[str] = []
    for customer_id in sorted({customer for customer, _ in final}):
        items = partition_items(customer_id)
        expected_live = {p: e for (c, p), e in final.items() if c == customer_id and e.put is not None}
        expected_deleted = {p: e for (c, p), e in final.items() if c == customer_id and e.put is None}
        for sort_key, item in items.items():
            if sort_key == keys.TOTALS_SK:
                continue
            path = keys.path_from_object_sk(sort_key)
            if path in expected_live:
                event = expected_live.pop(path)
                assert event.put is not None
                want = {
                    "item_type": "OBJECT",
                    "key": event.key,
                    "size": len(event.put.body),
                    "etag": etag_of(event.put.body),
                    "uploaded_at": event.event_time,
                    "sequencer": keys.normalize_sequencer(event.sequencer),
                    # S3 stores binary/octet-stream when an upload names no content type.
                    "content_type": event.put.content_type or "binary/octet-stream",
                    "classification": event.put.classification,
                    "UPLOAD_SK": keys.upload_sort_key(event.event_time, path),
                    "DAY_SK": keys.day_sort_key(event.event_time, customer_id, path),
                }
            elif path in expected_deleted:
                event = expected_deleted.pop(path)
                want = {"item_type": "TOMBSTONE", "sequencer": keys.normalize_sequencer(event.sequencer)}
            else:
                problems.append(f"{customer_id}: unexpected item {sort_key}")
                continue
            got = {name: item.get(name) for name in want}
            if got != want:
                problems.append(f"{customer_id}/{path}: expected {want}, got {got}")
        problems.extend(f"{customer_id}/{path}: missing live object" for path in expected_live)
        # A final delete may never have met an indexed object only if every earlier event was
        # skipped; it still leaves its tombstone, so a missing one is a difference too.
        problems.extend(f"{customer_id}/{path}: missing tombstone" for path in expected_deleted)

        live = [e for (c, _), e in final.items() if c == customer_id and e.put is not None]
        want_totals = (sum(len(e.put.body) for e in live if e.put is not None), len(live))
        got_item = items.get(keys.TOTALS_SK, {})
        got_totals = (int(got_item.get("total_bytes", 0)), int(got_item.get("object_count", 0)))
        if got_totals != want_totals:
            problems.append(f"{customer_id}: totals expected {want_totals}, got {got_totals}")
        newest_first = [
            e.key for e in sorted(live, key=lambda e: keys.upload_sort_key(e.event_time, e.path), reverse=True)
        ]
        listed = index_keys(keys.INDEX_BY_UPLOAD_TIME, keys.customer_pk(customer_id))
        if listed != newest_first:
            problems.append(f"{customer_id}: by-upload-time index lists {listed}, expected {newest_first}")
    return problems


@pytest.fixture(scope="module")
def mocked_account() -> Iterator[None]:
    with mock_aws():
        helpers.reset_handler_caches()
        helpers.create_bucket()
        yield
    helpers.reset_handler_caches()


def _fresh_table() -> None:
    """A new empty table per seed: transactions in the mock copy the whole table, so keep it small."""
    dynamodb = helpers.client("dynamodb")
    if helpers.TABLE_NAME in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName=helpers.TABLE_NAME)
    helpers.create_table()


def test_any_delivery_order_gives_the_true_final_state(mocked_account: None) -> None:
    for seed in range(SEED_COUNT):
        rng = random.Random(seed)
        _fresh_table()
        events = generate_history(rng, seed)
        final: dict[str, Event] = {}
        for event in events:
            final[event.key] = event
        for event in final.values():  # S3 holds exactly the final versions
            if event.put is not None:
                helpers.upload(event.key, event.put.body, event.put.content_type, event.put.classification)
        deliver(rng, events)
        problems = differences(events)
        assert problems == [], f"seed {seed}: " + "\n".join(problems)
