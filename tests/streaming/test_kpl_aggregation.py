"""The KPL de-aggregator against aggregates encoded independently from the documented
format: long fields (multi-byte lengths), many user records, and every malformed shape a
checksum-valid aggregate can take, each refused as ``MalformedAggregate``."""

from __future__ import annotations

import hashlib

import pytest

from tests.streaming.consumer_support import _field, _varint, aggregate, kpl

MAGIC = b"\xf3\x89\x9a\xc2"


def _signed(body: bytes) -> bytes:
    """``body`` as an aggregate with the magic bytes and a matching checksum."""
    return MAGIC + body + hashlib.md5(body, usedforsecurity=False).digest()


@pytest.mark.parametrize("size", [127, 128, 200, 16_384, 1024 * 1024 - 1024])
def test_user_records_of_any_size_come_out_whole(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    (record,) = kpl.deaggregate(aggregate([("key", data)]), "outer")
    assert (record.partition_key, record.data, record.aggregated) == ("key", data, True)


def test_more_than_128_user_records_keep_their_order_and_keys() -> None:
    records = [(f"key-{i % 150}", f"record {i}".encode()) for i in range(300)]
    out = kpl.deaggregate(aggregate(records), "outer")
    assert [(r.partition_key, r.data) for r in out] == records
    assert [r.sub_sequence_number for r in out] == list(range(300))


def test_a_varint_longer_than_64_bits_is_malformed() -> None:
    ten_bytes = bytes([0xFF] * 10 + [0x01])  # 11 bytes: beyond any uint64
    with pytest.raises(kpl.MalformedAggregate, match="varint longer than 64 bits"):
        kpl.deaggregate(_signed(bytes([0x08]) + ten_bytes), "outer")
    # The longest valid one (2**64 - 1, ten bytes) is read.
    assert kpl._varint(_varint(2**64 - 1), 0) == (2**64 - 1, 10)


def test_a_truncated_varint_is_malformed() -> None:
    with pytest.raises(kpl.MalformedAggregate, match="truncated varint"):
        kpl.deaggregate(_signed(bytes([0x08, 0x80])), "outer")


def test_a_field_running_past_the_end_is_malformed() -> None:
    body = _field(3, 2, _field(1, 0, 0) + _field(3, 2, b"abc"))[:-2]  # cut inside the record
    with pytest.raises(kpl.MalformedAggregate, match="length-delimited field runs past the end"):
        kpl.deaggregate(_signed(body), "outer")
    with pytest.raises(kpl.MalformedAggregate, match="fixed-width field runs past the end"):
        kpl.deaggregate(_signed(bytes([0x11, 0x00, 0x00])), "outer")  # field 2, fixed64, 2 of 8 bytes


@pytest.mark.parametrize(
    "record",
    [_field(3, 2, b"data only"), _field(1, 0, 0), b""],
    ids=["no-key-index", "no-data", "empty"],
)
def test_a_user_record_without_key_index_or_data_is_malformed(record: bytes) -> None:
    body = _field(1, 2, b"key") + _field(3, 2, record)
    with pytest.raises(kpl.MalformedAggregate, match="user record 0 lacks its partition key index or data"):
        kpl.deaggregate(_signed(body), "outer")


def test_an_unknown_wire_type_is_malformed() -> None:
    with pytest.raises(kpl.MalformedAggregate, match="unsupported wire type 3"):
        kpl.deaggregate(_signed(bytes([0x0B])), "outer")
