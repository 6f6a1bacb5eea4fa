"""De-aggregation of records written by the Kinesis Producer Library (KPL).

The KPL packs many user records into one Kinesis record. The format (documented in the
KPL's ``aggregation-format.md``) is:

    4 magic bytes F3 89 9A C2 | AggregatedRecord (protocol buffers) | MD5 of the protobuf part (16 bytes)

    message AggregatedRecord {
      repeated string partition_key_table = 1;
      repeated string explicit_hash_key_table = 2;
      repeated Record records = 3;
    }
    message Record {
      required uint64 partition_key_index = 1;
      optional uint64 explicit_hash_key_index = 2;
      required bytes data = 3;
      repeated Tag tags = 4;   // ignored here
    }

A record without the magic bytes, or whose checksum does not match, is not an aggregate and
is returned as it is, as the Kinesis Client Library does. A record that has the magic bytes
and the right checksum but cannot be parsed raises :class:`MalformedAggregate`.

The wire format is decoded here (about fifty lines) instead of depending on a protobuf
runtime in the function's package.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

MAGIC = b"\xf3\x89\x9a\xc2"
DIGEST_SIZE = 16  # MD5

_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5


class MalformedAggregate(ValueError):
    """An aggregated record whose checksum matches but whose contents are not valid."""


@dataclass(frozen=True)
class UserRecord:
    partition_key: str
    data: bytes
    sub_sequence_number: int  # position inside the aggregate (0 for a plain record)
    aggregated: bool


def _varint(buffer: bytes, position: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if position >= len(buffer):
            raise MalformedAggregate("truncated varint")
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7
        if shift > 63:
            raise MalformedAggregate("varint longer than 64 bits")


def _fields(buffer: bytes) -> list[tuple[int, int | bytes]]:
    """Every (field number, value) of one protobuf message, in order; unknown wire types fail."""
    fields: list[tuple[int, int | bytes]] = []
    position = 0
    while position < len(buffer):
        key, position = _varint(buffer, position)
        number, wire_type = key >> 3, key & 0x7
        if wire_type == _VARINT:
            value, position = _varint(buffer, position)
            fields.append((number, value))
        elif wire_type == _LENGTH_DELIMITED:
            length, position = _varint(buffer, position)
            if position + length > len(buffer):
                raise MalformedAggregate("length-delimited field runs past the end")
            fields.append((number, buffer[position : position + length]))
            position += length
        elif wire_type in (_FIXED64, _FIXED32):
            position += 8 if wire_type == _FIXED64 else 4
            if position > len(buffer):
                raise MalformedAggregate("fixed-width field runs past the end")
        else:
            raise MalformedAggregate(f"unsupported wire type {wire_type}")
    return fields


def is_aggregated(data: bytes) -> bool:
    """True if ``data`` carries the magic bytes and a matching MD5 checksum."""
    if len(data) < len(MAGIC) + DIGEST_SIZE or not data.startswith(MAGIC):
        return False
    body = data[len(MAGIC) : -DIGEST_SIZE]
    return hashlib.md5(body, usedforsecurity=False).digest() == data[-DIGEST_SIZE:]


def deaggregate(data: bytes, partition_key: str) -> list[UserRecord]:
    """The user records inside one Kinesis record (the record itself if it is no aggregate)."""
    if not is_aggregated(data):
        return [UserRecord(partition_key=partition_key, data=data, sub_sequence_number=0, aggregated=False)]
    keys: list[str] = []
    entries: list[bytes] = []
    for number, value in _fields(data[len(MAGIC) : -DIGEST_SIZE]):
        if number == 1 and isinstance(value, bytes):
            keys.append(value.decode("utf-8"))
        elif number == 3 and isinstance(value, bytes):
            entries.append(value)
    records: list[UserRecord] = []
    for index, entry in enumerate(entries):
        key_index: int | None = None
        payload: bytes | None = None
        for number, value in _fields(entry):
            if number == 1 and isinstance(value, int):
                key_index = value
            elif number == 3 and isinstance(value, bytes):
                payload = value
        if key_index is None or payload is None:
            raise MalformedAggregate(f"user record {index} lacks its partition key index or data")
        if key_index >= len(keys):
            raise MalformedAggregate(f"user record {index} names partition key {key_index} of {len(keys)}")
        records.append(
            UserRecord(partition_key=keys[key_index], data=payload, sub_sequence_number=index, aggregated=True)
        )
    return records
