"""Indexer scenarios: ordering, idempotency, totals, poison records, S3 metadata."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from . import helpers
from .helpers import (
    BUCKET,
    clients,
    created,
    delete,
    etag_of,
    index_keys,
    index_records,
    indexer,
    keys,
    message_for,
    object_item,
    partition_items,
    records,
    removed,
    run_indexer,
    s3_record,
    s3_test_event_body,
    sqs_message,
    totals,
    upload,
    writes,
)

pytestmark = pytest.mark.usefixtures("aws")

KEY = "customers/acme/reports/2024/q1.pdf"
V1 = b"first version of the report"
V2 = b"second, longer version of the quarterly report"


def seq(value: int) -> str:
    """An S3-style sequencer: upper-case hex with leading zeros."""
    return f"00{value:016X}"


def test_first_create_indexes_object_attributes_and_totals() -> None:
    upload(KEY, V1, content_type="application/pdf", classification="confidential")
    index_records(created(KEY, V1, seq(10), "2024-03-01T09:15:30.123Z"))

    item = object_item(KEY)
    assert item is not None
    assert item["item_type"] == "OBJECT"
    assert item["customer_id"] == "acme"
    assert item["key"] == KEY
    assert item["size"] == len(V1)
    assert item["etag"] == etag_of(V1)
    assert item["content_type"] == "application/pdf"
    assert item["classification"] == "confidential"
    assert item["uploaded_at"] == "2024-03-01T09:15:30.123Z"
    assert item["sequencer"] == keys.normalize_sequencer(seq(10))
    assert item["UPLOAD_SK"] == "2024-03-01T09:15:30.123Z#reports/2024/q1.pdf"
    assert item["CT_PK"] == "CUSTOMER#acme#CT#application/pdf"
    assert item["CLS_PK"] == "CUSTOMER#acme#CLS#confidential"
    assert item["DAY_PK"] == f"DAY#2024-03-01#{keys.day_shard('acme', 'reports/2024/q1.pdf')}"
    assert item["DAY_SK"] == "2024-03-01T09:15:30.123Z#acme#reports/2024/q1.pdf"
    assert totals("acme") == (len(V1), 1)
    assert index_keys(keys.INDEX_BY_UPLOAD_TIME, "CUSTOMER#acme") == [KEY]


def test_same_message_delivered_twice_is_idempotent() -> None:
    upload(KEY, V1, content_type="application/pdf")
    message = message_for(created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z"), message_id="m-1")
    assert run_indexer(message) == []
    before = partition_items("acme")
    assert run_indexer(message) == []
    assert partition_items("acme") == before
    assert totals("acme") == (len(V1), 1)


def test_same_record_in_two_messages_of_one_batch_is_idempotent() -> None:
    upload(KEY, V1)
    record = created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z")
    assert run_indexer(message_for(record), message_for(record)) == []
    assert totals("acme") == (len(V1), 1)
    assert len([sk for sk in partition_items("acme") if sk.startswith("OBJECT#")]) == 1


def test_older_event_arriving_after_newer_one_is_ignored() -> None:
    upload(KEY, V2, content_type="text/plain")
    index_records(
        created(KEY, V2, seq(20), "2024-03-02T10:00:00.000Z"),
        created(KEY, V1, seq(10), "2024-03-01T10:00:00.000Z"),
    )
    item = object_item(KEY)
    assert item is not None
    assert (item["size"], item["etag"], item["uploaded_at"]) == (len(V2), etag_of(V2), "2024-03-02T10:00:00.000Z")
    assert totals("acme") == (len(V2), 1)


def test_overwrite_moves_totals_by_the_size_difference_and_updates_date() -> None:
    other = "customers/acme/other.bin"
    upload(other, b"12345")
    upload(KEY, V1, content_type="application/pdf", classification="internal")
    index_records(
        created(other, b"12345", seq(5), "2024-03-01T08:00:00.000Z"),
        created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z"),
    )
    assert totals("acme") == (5 + len(V1), 2)

    upload(KEY, V2, content_type="text/plain", classification="public")
    index_records(created(KEY, V2, seq(11), "2024-03-03T12:00:00.000Z"))

    item = object_item(KEY)
    assert item is not None
    assert (item["size"], item["uploaded_at"], item["content_type"]) == (
        len(V2),
        "2024-03-03T12:00:00.000Z",
        "text/plain",
    )
    assert item["DAY_PK"].startswith("DAY#2024-03-03#")
    assert totals("acme") == (5 + len(V2), 2)
    assert index_keys(keys.INDEX_BY_UPLOAD_TIME, "CUSTOMER#acme") == [KEY, other]
    assert index_keys(keys.INDEX_BY_CONTENT_TYPE, "CUSTOMER#acme#CT#application/pdf") == []
    assert index_keys(keys.INDEX_BY_CLASSIFICATION, "CUSTOMER#acme#CLS#public") == [KEY]


def test_delete_leaves_a_tombstone_outside_every_index_and_subtracts() -> None:
    upload(KEY, V1, content_type="application/pdf", classification="confidential")
    index_records(created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z"))
    delete(KEY)
    index_records(removed(KEY, seq(11), "2024-03-01T10:00:00.000Z"))

    item = object_item(KEY)
    assert item is not None
    assert item["item_type"] == "TOMBSTONE"
    assert item["sequencer"] == keys.normalize_sequencer(seq(11))
    assert item["expires_at"] == 1709287200 + 30 * 24 * 3600  # 2024-03-01T10:00:00Z + 30 days, to the second
    assert not {"UPLOAD_SK", "CT_PK", "CLS_PK", "DAY_PK", "DAY_SK", "size"} & set(item)
    assert totals("acme") == (0, 0)
    assert index_keys(keys.INDEX_BY_UPLOAD_TIME, "CUSTOMER#acme") == []
    assert index_keys(keys.INDEX_BY_CONTENT_TYPE, "CUSTOMER#acme#CT#application/pdf") == []


def test_create_after_delete_brings_the_object_back() -> None:
    upload(KEY, V2, content_type="text/plain")
    index_records(
        created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z"),
        removed(KEY, seq(11), "2024-03-01T10:00:00.000Z"),
        created(KEY, V2, seq(12), "2024-03-01T11:00:00.000Z"),
    )
    item = object_item(KEY)
    assert item is not None
    assert (item["item_type"], item["size"], item["content_type"]) == ("OBJECT", len(V2), "text/plain")
    assert totals("acme") == (len(V2), 1)


def test_delete_after_create_delivered_in_reverse_order_stays_deleted() -> None:
    # S3 no longer holds the object: it was created and then deleted.
    index_records(
        removed(KEY, seq(11), "2024-03-01T10:00:00.000Z"),
        created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z"),
    )
    item = object_item(KEY)
    assert item is not None
    assert item["item_type"] == "TOMBSTONE"
    assert totals("acme") == (0, 0)


def test_delete_of_a_never_indexed_key_writes_only_a_tombstone() -> None:
    index_records(removed(KEY, seq(11), "2024-03-01T10:00:00.000Z"))
    items = partition_items("acme")
    assert set(items) == {"OBJECT#reports/2024/q1.pdf"}
    assert totals("acme") == (0, 0)


@pytest.mark.parametrize(
    "event_name",
    ["ObjectRemoved:DeleteMarkerCreated", "LifecycleExpiration:Delete", "LifecycleExpiration:DeleteMarkerCreated"],
)
def test_other_removal_events_delete_the_object(event_name: str) -> None:
    upload(KEY, V1)
    index_records(created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z"))
    delete(KEY)
    index_records(removed(KEY, seq(11), "2024-03-02T00:00:00.000Z", event_name=event_name))
    assert totals("acme") == (0, 0)


@pytest.mark.parametrize("event_name", ["ObjectCreated:Copy", "ObjectCreated:CompleteMultipartUpload"])
def test_other_creation_events_index_the_object(event_name: str) -> None:
    upload(KEY, V1, content_type="application/pdf")
    index_records(created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z", event_name=event_name))
    assert totals("acme") == (len(V1), 1)


def test_keys_with_spaces_plus_signs_and_unicode_are_url_decoded() -> None:
    key = "customers/acme/Q1 summary \u2013 café + notes (final).pdf"
    upload(key, V1, content_type="application/pdf", classification="public")
    record = created(key, V1, seq(10), "2024-03-01T09:00:00.000Z")
    encoded = record["s3"]["object"]["key"]
    assert " " not in encoded and "+" in encoded and "%2B" in encoded  # as S3 sends it
    index_records(record)
    item = object_item(key)
    assert item is not None
    assert item["key"] == key
    assert item["content_type"] == "application/pdf"  # HeadObject found the decoded key
    assert totals("acme") == (len(V1), 1)


def test_long_keys_still_fit_the_index_sort_key_limit() -> None:
    key = "customers/acme/" + "d/" * 300 + "é" * 200 + ".txt"
    assert len(key.encode()) <= 1024
    upload(key, V1)
    index_records(created(key, V1, seq(10), "2024-03-01T09:00:00.000Z"))
    item = object_item(key)
    assert item is not None
    assert len(item["UPLOAD_SK"].encode()) <= 1024
    assert len(item["DAY_SK"].encode()) <= 1024


def test_poison_records_fail_alone_while_their_neighbours_succeed(caplog: pytest.LogCaptureFixture) -> None:
    good_one, good_two = "customers/acme/one.txt", "customers/globex/two.txt"
    upload(good_one, b"one")
    upload(good_two, b"two!")
    missing_sequencer = created("customers/acme/three.txt", b"3", seq(1), "2024-03-01T09:00:00.000Z")
    del missing_sequencer["s3"]["object"]["sequencer"]
    missing_size = created("customers/acme/four.txt", b"4", seq(1), "2024-03-01T09:00:00.000Z")
    del missing_size["s3"]["object"]["size"]
    bad_time = created("customers/acme/five.txt", b"5", seq(1), "yesterday")
    messages = [
        message_for(created(good_one, b"one", seq(1), "2024-03-01T09:00:00.000Z"), message_id="good-1"),
        sqs_message("{not json", message_id="not-json"),
        sqs_message({"Records": []}, message_id="no-records"),
        sqs_message({"unexpected": True}, message_id="not-s3"),
        sqs_message("[1, 2]", message_id="json-list"),
        message_for(missing_sequencer, message_id="no-sequencer"),
        message_for(missing_size, message_id="no-size"),
        message_for(bad_time, message_id="bad-time"),
        sqs_message({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]}, message_id="no-s3"),
        message_for(created(good_two, b"two!", seq(1), "2024-03-01T09:00:00.000Z"), message_id="good-2"),
    ]
    failed = run_indexer(*messages)
    assert failed == [m["messageId"] for m in messages if not m["messageId"].startswith("good")]
    assert totals("acme") == (3, 1)
    assert totals("globex") == (4, 1)
    rejected = {
        getattr(record, "message_id", None): record
        for record in caplog.records
        if record.getMessage().startswith("Rejected S3 event message")
    }
    assert set(rejected) == set(failed)
    assert rejected["not-json"].levelname == "ERROR"
    assert "not valid JSON" in getattr(rejected["not-json"], "reason", "")


def test_a_key_that_is_not_url_encoded_utf8_is_rejected_with_its_log_line(caplog: pytest.LogCaptureFixture) -> None:
    record = created("customers/acme/x.txt", b"x", seq(1), "2024-03-01T09:00:00.000Z")
    record["s3"]["object"]["key"] = "customers/acme/%FF.txt"  # S3 keys are UTF-8; %FF decodes to nothing
    assert run_indexer(message_for(record, message_id="bad-encoding")) == ["bad-encoding"]
    (line,) = [r for r in caplog.records if r.getMessage().startswith("Rejected S3 event message")]
    assert (line.levelname, getattr(line, "message_id", None)) == ("ERROR", "bad-encoding")
    assert getattr(line, "reason", "") == "s3.object.key is not URL-encoded UTF-8"
    assert partition_items("acme") == {}


def emitted_metrics(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The embedded-metric-format documents the indexer printed (one per invocation with metrics)."""
    documents = []
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            documents.append(json.loads(line))
    return documents


def _metric_total(documents: list[dict[str, Any]], name: str) -> float:
    total = 0.0
    for document in documents:
        value = document.get(name, 0)
        total += sum(value) if isinstance(value, list) else value
    return total


@pytest.mark.parametrize(
    "key",
    [
        "customers/readme.txt",
        "customers/ACME Corp/x.txt",
        "customers/Acme/x.txt",  # customer ids are lower case only
        "customers/acme/",
        "customers//x.txt",
        f"customers/{'c' * 65}/x",
        "elsewhere/acme/x.txt",
    ],
)
def test_keys_outside_the_layout_are_skipped_counted_and_never_dead_lettered(
    key: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Retrying could never index them, so they must not fill the dead-letter queue."""
    upload(KEY, V1)
    message = message_for(
        created(key, b"x", seq(1), "2024-03-01T09:00:00.000Z"),
        created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z"),
        message_id="mixed",
    )
    assert run_indexer(message) == []
    assert totals("acme") == (len(V1), 1)  # the valid record of the same message is applied
    (skipped,) = [r for r in caplog.records if r.getMessage().startswith("Skipped S3 event for a key outside")]
    assert skipped.levelname == "WARNING"
    assert repr(key) in getattr(skipped, "reason", "")
    documents = emitted_metrics(capsys)
    assert _metric_total(documents, indexer.UNINDEXABLE_KEY_METRIC) == 1
    (document,) = documents
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == indexer.METRICS_NAMESPACE
    assert (document["service"], document["bucket"]) == ("object-index-indexer", BUCKET)


@pytest.mark.parametrize(
    "record",
    [
        created(KEY, V1, "F" * 32, "2024-03-01T09:00:00.000Z"),
        removed(KEY, "F" * 32, "2024-03-01T09:00:00.000Z", "ObjectRemoved:DeleteMarkerCreated"),
        s3_record("ObjectTagging:Put", KEY, seq(99), "2024-03-01T09:00:00.000Z"),
    ],
    ids=["create", "delete-marker-with-maximal-sequencer", "untracked-event"],
)
def test_a_record_naming_another_bucket_is_never_applied(
    record: dict[str, Any], caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    upload(KEY, V1)
    index_records(created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z"))
    before = partition_items("acme")
    forged = json.loads(json.dumps(record))
    forged["s3"]["bucket"] = {"name": "attacker-bucket", "arn": "arn:aws:s3:::attacker-bucket"}
    genuine_neighbour = created("customers/acme/other.txt", b"o", seq(1), "2024-03-01T09:00:00.000Z")
    upload("customers/acme/other.txt", b"o")
    # The whole message is refused (also its record for this bucket) and acknowledged.
    assert run_indexer(message_for(forged, genuine_neighbour, message_id="forged")) == []
    assert partition_items("acme") == before
    (line,) = [r for r in caplog.records if r.getMessage().startswith("Ignored S3 event message for another bucket")]
    assert (line.levelname, getattr(line, "bucket", None)) == ("ERROR", "attacker-bucket")
    assert _metric_total(emitted_metrics(capsys), indexer.FOREIGN_BUCKET_METRIC) == 1
    # A real later event still applies: the forged one left no sequencer behind.
    upload(KEY, V2)
    index_records(created(KEY, V2, seq(11), "2024-03-01T10:00:00.000Z"))
    assert totals("acme") == (len(V2), 1)


def test_missing_bucket_name_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OBJECT_BUCKET_NAME")
    clients.bucket_name.cache_clear()
    with pytest.raises(RuntimeError, match="OBJECT_BUCKET_NAME"):
        run_indexer(sqs_message(s3_test_event_body()))
    clients.bucket_name.cache_clear()


def test_a_batch_of_only_poison_messages_reports_them_instead_of_raising() -> None:
    assert run_indexer(sqs_message("garbage", message_id="only")) == ["only"]


def test_a_message_with_one_bad_record_writes_nothing_of_it() -> None:
    upload(KEY, V1)
    message = message_for(
        created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z"),
        created("customers/acme/x.txt", b"x", "not-hex", "2024-03-01T09:00:00.000Z"),
        message_id="mixed",
    )
    assert run_indexer(message) == ["mixed"]
    assert partition_items("acme") == {}


def test_a_message_with_several_records_applies_all_of_them() -> None:
    upload(KEY, V1)
    upload("customers/acme/b.txt", b"bb")
    message = message_for(
        created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z"),
        created("customers/acme/b.txt", b"bb", seq(3), "2024-03-01T09:00:01.000Z"),
    )
    assert run_indexer(message) == []
    assert totals("acme") == (len(V1) + 2, 2)


def test_s3_test_event_and_untracked_event_types_are_acknowledged_and_ignored() -> None:
    tagging = s3_record("ObjectTagging:Put", KEY, seq(10), "2024-03-01T09:00:00.000Z")
    restore = s3_record("ObjectRestore:Completed", "not/in/convention", seq(10), "2024-03-01T09:00:00.000Z")
    assert run_indexer(sqs_message(s3_test_event_body()), message_for(tagging), message_for(restore)) == []
    assert partition_items("acme") == {}


def test_metadata_of_a_newer_version_is_not_attached_to_an_older_event() -> None:
    upload(KEY, V2, content_type="text/plain", classification="public")  # S3 already holds V2
    index_records(created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z"))
    item = object_item(KEY)
    assert item is not None
    assert (item["size"], item["etag"]) == (len(V1), etag_of(V1))
    assert not {"content_type", "classification", "CT_PK", "CLS_PK"} & set(item)
    assert totals("acme") == (len(V1), 1)

    index_records(created(KEY, V2, seq(11), "2024-03-01T10:00:00.000Z"))
    item = object_item(KEY)
    assert item is not None
    assert (item["content_type"], item["classification"]) == ("text/plain", "public")
    assert totals("acme") == (len(V2), 1)


def test_create_of_an_object_that_is_gone_is_skipped_until_its_delete_arrives() -> None:
    index_records(created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z"))
    assert partition_items("acme") == {}
    index_records(removed(KEY, seq(11), "2024-03-01T10:00:00.000Z"))
    assert object_item(KEY)["item_type"] == "TOMBSTONE"  # type: ignore[index]
    assert totals("acme") == (0, 0)


def test_versioned_bucket_matches_metadata_by_version_id() -> None:
    helpers.client("s3").put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = upload(KEY, V1, content_type="application/pdf", classification="internal")
    upload(KEY, V1, content_type="text/plain", classification="public")  # same bytes, same ETag
    record = created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z")
    record["s3"]["object"]["versionId"] = first["VersionId"]
    index_records(record)
    item = object_item(KEY)
    assert item is not None
    assert item["version_id"] == first["VersionId"]
    assert "content_type" not in item  # the current version is another one


def _two_versions_indexed() -> tuple[str, str]:
    """A versioned bucket holding V1 then V2 of KEY, both indexed; returns their version ids."""
    helpers.client("s3").put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = upload(KEY, V1, content_type="application/pdf", classification="internal")["VersionId"]
    second = upload(KEY, V2, content_type="text/plain", classification="public")["VersionId"]
    for sequencer, body, version, at in ((seq(10), V1, first, "09"), (seq(11), V2, second, "10")):
        record = created(KEY, body, sequencer, f"2024-03-01T{at}:00:00.000Z")
        record["s3"]["object"]["versionId"] = version
        index_records(record)
    return first, second


def test_deleting_a_noncurrent_version_keeps_the_current_object() -> None:
    first, second = _two_versions_indexed()
    delete(KEY, version_id=first)
    index_records(removed(KEY, seq(12), "2024-03-01T11:00:00.000Z", version_id=first))
    item = object_item(KEY)
    assert item is not None
    assert (item["item_type"], item["size"], item["version_id"]) == ("OBJECT", len(V2), second)
    assert (item["content_type"], item["classification"]) == ("text/plain", "public")
    # S3's LastModified, not the event time the index held: see the next test for why.
    last_modified = helpers.client("s3").head_object(Bucket=BUCKET, Key=KEY)["LastModified"]
    assert item["uploaded_at"] == keys.normalize_event_time(last_modified.isoformat())
    assert item["sequencer"] == keys.normalize_sequencer(seq(12))
    assert totals("acme") == (len(V2), 1)


@pytest.mark.parametrize("deleted", ["noncurrent", "current"])
def test_a_version_delete_gives_the_same_final_item_in_every_delivery_order(deleted: str) -> None:
    """Two uploads and a delete by version id, delivered in each of the six orders (and
    twice over): the final item, totals and index entries are the same every time."""
    helpers.client("s3").put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = upload(KEY, V1, content_type="application/pdf", classification="internal")["VersionId"]
    second = upload(KEY, V2, content_type="text/plain", classification="public")["VersionId"]
    victim = first if deleted == "noncurrent" else second
    delete(KEY, version_id=victim)
    events = [
        created(KEY, V1, seq(10), "2024-03-01T09:00:00.123Z"),
        created(KEY, V2, seq(11), "2024-03-01T10:00:00.456Z"),
        removed(KEY, seq(12), "2024-03-01T11:00:00.789Z", version_id=victim),
    ]
    events[0]["s3"]["object"]["versionId"] = first
    events[1]["s3"]["object"]["versionId"] = second
    outcomes = set()
    for order in itertools.permutations(range(3)):
        helpers.client("dynamodb").delete_table(TableName=helpers.TABLE_NAME)
        helpers.create_table()
        index_records(*[events[i] for i in order], *[events[i] for i in order])
        outcomes.add(
            json.dumps(
                [partition_items("acme"), index_keys(keys.INDEX_BY_UPLOAD_TIME, "CUSTOMER#acme")],
                sort_keys=True,
                default=str,
            )
        )
    assert len(outcomes) == 1, outcomes
    item = object_item(KEY)
    assert item is not None
    assert item["version_id"] == (second if deleted == "noncurrent" else first)


def test_deleting_the_current_version_indexes_the_one_that_becomes_current() -> None:
    first, second = _two_versions_indexed()
    delete(KEY, version_id=second)
    index_records(removed(KEY, seq(12), "2024-03-01T11:00:00.000Z", version_id=second))
    item = object_item(KEY)
    assert item is not None
    assert (item["item_type"], item["size"], item["etag"], item["version_id"]) == (
        "OBJECT",
        len(V1),
        etag_of(V1),
        first,
    )
    assert (item["content_type"], item["classification"]) == ("application/pdf", "internal")
    assert item["sequencer"] == keys.normalize_sequencer(seq(12))
    last_modified = helpers.client("s3").head_object(Bucket=BUCKET, Key=KEY)["LastModified"]
    assert item["uploaded_at"] == keys.normalize_event_time(last_modified.isoformat())
    assert index_keys(keys.INDEX_BY_CONTENT_TYPE, "CUSTOMER#acme#CT#application/pdf") == [KEY]
    assert index_keys(keys.INDEX_BY_CONTENT_TYPE, "CUSTOMER#acme#CT#text/plain") == []
    assert totals("acme") == (len(V1), 1)


def test_deleting_the_delete_marker_brings_the_object_back() -> None:
    _first, second = _two_versions_indexed()
    marker = delete(KEY)["VersionId"]
    index_records(
        removed(KEY, seq(12), "2024-03-01T11:00:00.000Z", "ObjectRemoved:DeleteMarkerCreated", version_id=marker)
    )
    assert object_item(KEY)["item_type"] == "TOMBSTONE"  # type: ignore[index]
    assert totals("acme") == (0, 0)
    delete(KEY, version_id=marker)
    index_records(removed(KEY, seq(13), "2024-03-01T12:00:00.000Z", version_id=marker))
    item = object_item(KEY)
    assert item is not None
    assert (item["item_type"], item["size"], item["version_id"]) == ("OBJECT", len(V2), second)
    assert totals("acme") == (len(V2), 1)


def test_a_late_version_delete_does_not_undo_newer_events() -> None:
    first, _second = _two_versions_indexed()
    delete(KEY, version_id=first)
    marker = delete(KEY)["VersionId"]
    index_records(
        removed(KEY, seq(13), "2024-03-01T12:00:00.000Z", "ObjectRemoved:DeleteMarkerCreated", version_id=marker),
        removed(KEY, seq(12), "2024-03-01T11:00:00.000Z", version_id=first),  # arrives after the newer event
    )
    assert object_item(KEY)["item_type"] == "TOMBSTONE"  # type: ignore[index]
    assert totals("acme") == (0, 0)


def test_head_object_access_denied_fails_the_message_for_a_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(**_kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject")

    monkeypatch.setattr(clients.s3(), "head_object", denied)
    failed = run_indexer(message_for(created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z"), message_id="m"))
    assert failed == ["m"]
    assert partition_items("acme") == {}


def _change(record: dict[str, Any]) -> Any:
    return records.parse_message(json.dumps({"Records": [record]})).changes[0]


@pytest.mark.parametrize("first_state", ["absent", "live"])
def test_a_newer_event_written_between_read_and_write_wins(monkeypatch: pytest.MonkeyPatch, first_state: str) -> None:
    """Two invocations race on one key: the condition on the stored sequencer decides."""
    upload(KEY, V2, content_type="text/plain")
    if first_state == "live":
        index_records(created(KEY, b"v0", seq(5), "2024-03-01T08:00:00.000Z"))
    older = _change(created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z"))
    newer = _change(created(KEY, V2, seq(20), "2024-03-01T10:00:00.000Z"))
    original_read = writes.read_state
    raced: list[bool] = []

    def read_then_lose_the_race(object_key: Any) -> Any:
        state = original_read(object_key)
        if not raced:
            raced.append(True)
            assert indexer.apply_change(newer) == "applied"  # the other invocation commits first
        return state

    monkeypatch.setattr(writes, "read_state", read_then_lose_the_race)
    assert indexer.apply_change(older) == "superseded"
    item = object_item(KEY)
    assert item is not None
    assert (item["size"], item["sequencer"]) == (len(V2), keys.normalize_sequencer(seq(20)))
    assert totals("acme") == (len(V2), 1)


def test_a_delete_racing_with_an_older_create_keeps_totals_right(monkeypatch: pytest.MonkeyPatch) -> None:
    upload(KEY, V1)
    create = _change(created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z"))
    removal = _change(removed(KEY, seq(20), "2024-03-01T10:00:00.000Z"))
    original_write = writes.write
    raced: list[bool] = []

    def lose_the_race_then_write(*args: Any) -> Any:
        # The create has read the item and S3; the object is deleted and indexed before it writes.
        if not raced:
            raced.append(True)
            delete(KEY)
            indexer.apply_change(removal)
        return original_write(*args)

    monkeypatch.setattr(writes, "write", lose_the_race_then_write)
    assert indexer.apply_change(create) == "superseded"
    assert object_item(KEY)["item_type"] == "TOMBSTONE"  # type: ignore[index]
    assert totals("acme") == (0, 0)


def test_transaction_conflicts_on_the_totals_item_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    upload(KEY, V1)
    client = clients.dynamodb()
    original = client.transact_write_items
    conflicts: list[bool] = []

    def conflict_once(**kwargs: Any) -> Any:
        if not conflicts:
            conflicts.append(True)
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                    "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
                },
                "TransactWriteItems",
            )
        return original(**kwargs)

    monkeypatch.setattr(client, "transact_write_items", conflict_once)
    index_records(created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z"))
    assert conflicts == [True]
    assert totals("acme") == (len(V1), 1)


@pytest.mark.parametrize(
    "reasons",
    [
        [{"Code": "None"}, {"Code": "ThrottlingError"}],
        [{"Code": "ValidationError"}, {"Code": "None"}],
        [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}],  # not the object item's condition
        [],
    ],
    ids=["throttled", "invalid", "totals-condition", "no-reasons"],
)
def test_a_transaction_cancelled_for_another_reason_is_an_error_not_a_conflict(
    monkeypatch: pytest.MonkeyPatch, reasons: list[dict[str, str]]
) -> None:
    """Only the object item's condition or a conflict means "re-read and try again"; anything
    else fails the message at once (SQS retries it), never six silent attempts."""
    upload(KEY, V1)
    client = clients.dynamodb()
    calls: list[bool] = []

    def cancelled(**kwargs: Any) -> Any:
        calls.append(True)
        raise ClientError(
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                "CancellationReasons": reasons,
            },
            "TransactWriteItems",
        )

    monkeypatch.setattr(client, "transact_write_items", cancelled)
    with pytest.raises(ClientError, match="TransactionCanceledException"):
        indexer.apply_change(_change(created(KEY, V1, seq(10), "2024-03-01T09:00:00.000Z")))
    assert calls == [True]
    assert object_item(KEY) is None and totals("acme") == (0, 0)


def test_missing_table_name_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INDEX_TABLE_NAME")
    clients.table_name.cache_clear()
    with pytest.raises(RuntimeError, match="INDEX_TABLE_NAME"):
        run_indexer(sqs_message(s3_test_event_body()))
    clients.table_name.cache_clear()
