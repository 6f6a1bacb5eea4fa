"""Randomized check: any delivery order, duplication and batching gives the true final state.

For each seed a history of puts, overwrites and deletes is generated over
several customers and keys, with increasing S3-style sequencers of varying
length (a later one is often the shorter). The events are shuffled, duplicated at random, packed into SQS
messages (sometimes several records per message) and split into batches.
After delivery the index items, the by-upload-time index and the totals must
equal the state S3 ends in.

A second check does the same on a versioned bucket with delete markers and deletes by
version id: delivered shuffled and duplicated, the index must end exactly as when the
events arrive in S3's order, and say what S3 holds.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
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


# --- Versioned bucket: version-level deletes in any delivery order ------------------------------

VERSIONED_SEED_COUNT = 40


def _versioned_history(rng: random.Random, seed: int) -> list[dict[str, Any]]:
    """Perform puts, delete markers and deletes by version id on a versioned bucket, in S3
    order, and return the event record of each (with its version id)."""
    s3 = helpers.client("s3")
    records: list[dict[str, Any]] = []
    customer_id = f"v{seed}"
    for path in rng.sample(PATHS, rng.randint(1, 2)):
        key = f"customers/{customer_id}/{path}"
        versions: list[str] = []  # versions and delete markers the key has now
        position = rng.randint(1, 0xFFFF)
        moment = 1_709_251_200_000 + rng.randint(0, 86_400_000)
        for _ in range(rng.randint(2, 6)):
            position += rng.randint(1, 0xFFFF)
            moment += rng.randint(1, 3_600_000)
            sequencer, at = sequencer_after(rng, position), _timestamp(moment)
            choice = rng.random()
            if choice < 0.55 or not versions:
                body = rng.randbytes(rng.randint(0, 200))
                version = helpers.upload(key, body, rng.choice(CONTENT_TYPES), rng.choice(CLASSIFICATIONS))["VersionId"]
                record = created(key, body, sequencer, at)
                record["s3"]["object"]["versionId"] = version
                versions.append(version)
            elif choice < 0.75:
                marker = s3.delete_object(Bucket=helpers.BUCKET, Key=key)["VersionId"]
                record = removed(key, sequencer, at, "ObjectRemoved:DeleteMarkerCreated", version_id=marker)
                versions.append(marker)
            else:
                victim = rng.choice(versions)
                s3.delete_object(Bucket=helpers.BUCKET, Key=key, VersionId=victim)
                record = removed(key, sequencer, at, version_id=victim)
                versions.remove(victim)
            records.append(record)
    return records


def _index_state(customer_id: str) -> str:
    return repr(
        (
            sorted(partition_items(customer_id).items()),
            index_keys(keys.INDEX_BY_UPLOAD_TIME, keys.customer_pk(customer_id)),
        )
    )


@pytest.fixture
def versioned_account(mocked_account: None) -> None:
    """The module's mocked account with versioning turned on (customer ids differ per test)."""
    helpers.client("s3").put_bucket_versioning(Bucket=helpers.BUCKET, VersioningConfiguration={"Status": "Enabled"})


def test_version_deletes_give_the_same_final_state_in_any_delivery_order(versioned_account: None) -> None:
    """Deliver each versioned history in S3 order, then shuffled and duplicated: the index
    must end the same, and say what S3 holds."""
    s3 = helpers.client("s3")
    kinds: Counter[str] = Counter()
    for seed in range(VERSIONED_SEED_COUNT):
        rng = random.Random(1_000 + seed)
        records = _versioned_history(rng, seed)
        customer_id = f"v{seed}"
        _fresh_table()
        for record in records:
            assert run_indexer(message_for(record)) == []
        in_order = _index_state(customer_id)
        _fresh_table()
        shuffled = [record for record in records for _ in range(1 + (rng.random() < 0.3))]
        rng.shuffle(shuffled)
        for start in range(0, len(shuffled), 4):
            assert run_indexer(*[message_for(record) for record in shuffled[start : start + 4]]) == []
        assert _index_state(customer_id) == in_order, f"seed {seed}"
        # And that state is S3's: every key with a current object is live with its size.
        items = partition_items(customer_id)
        live_bytes = live_count = 0
        for key in {record["s3"]["object"]["key"] for record in records}:
            plain_key = keys.parse_object_key(unquote_plus(key))
            item = items[keys.object_sk(plain_key.path)]
            try:
                head = s3.head_object(Bucket=helpers.BUCKET, Key=plain_key.s3_key)
            except ClientError:
                assert item["item_type"] == "TOMBSTONE", f"seed {seed}: {key}"
                continue
            assert (item["item_type"], item["size"], item.get("version_id")) == (
                "OBJECT",
                head["ContentLength"],
                head["VersionId"],
            ), f"seed {seed}: {key}"
            live_bytes += head["ContentLength"]
            live_count += 1
        got = items.get(keys.TOTALS_SK, {})
        assert (int(got.get("total_bytes", 0)), int(got.get("object_count", 0))) == (live_bytes, live_count), seed
        kinds.update(record["eventName"] for record in records)
    # The histories really exercise what the test is about.
    assert kinds["ObjectRemoved:Delete"] >= 20 and kinds["ObjectRemoved:DeleteMarkerCreated"] >= 10, kinds
