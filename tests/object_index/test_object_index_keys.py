"""Pure key-design functions: key convention, sort keys, sequencers, tokens."""

from __future__ import annotations

import json
from datetime import date

import pytest

from .helpers import keys

SECRET = b"unit-test-secret-0123456789abcdefghij"


@pytest.mark.parametrize(
    ("s3_key", "customer_id", "path"),
    [
        ("customers/acme/report.pdf", "acme", "report.pdf"),
        ("customers/a_b-9/deep/nested/file.txt", "a_b-9", "deep/nested/file.txt"),
        ("customers/acme/folder/", "acme", "folder/"),
        ("customers/acme/Q1 summary \u2013 café.pdf", "acme", "Q1 summary \u2013 café.pdf"),
        (f"customers/{'c' * 64}/x", "c" * 64, "x"),
    ],
)
def test_parse_object_key_accepts_the_convention(s3_key: str, customer_id: str, path: str) -> None:
    parsed = keys.parse_object_key(s3_key)
    assert (parsed.customer_id, parsed.path) == (customer_id, path)
    assert parsed.s3_key == s3_key


@pytest.mark.parametrize(
    "s3_key",
    [
        "uploads/acme/report.pdf",
        "customers/acme",
        "customers/acme/",
        "customers//report.pdf",
        "customers/bad id/report.pdf",
        "customers/Acme/report.pdf",  # customer ids are lower case: IAM role names ignore case
        "customers/ACME/report.pdf",
        "customers/acme!/report.pdf",
        "customers/caf\u00e9/report.pdf",
        f"customers/{'c' * 65}/x",
        "Customers/acme/report.pdf",
        "customers/acme\n/report.pdf",
        "customers/acme/" + "x" * 1024,
    ],
)
def test_parse_object_key_rejects_keys_outside_the_convention(s3_key: str) -> None:
    with pytest.raises(keys.InvalidObjectKeyError):
        keys.parse_object_key(s3_key)


def test_sequencers_compare_as_s3_documents_right_padded_with_zeros() -> None:
    earlier = keys.normalize_sequencer("0055AED6DCD90281E5")
    later_and_shorter = keys.normalize_sequencer("0055AED6DCD902820")
    assert earlier < later_and_shorter  # comparing them as numbers (left-padded) gets this wrong
    assert keys.normalize_sequencer("FFF") > keys.normalize_sequencer("1000")
    assert keys.normalize_sequencer("0055aed6dcd90281e5") == earlier  # case does not matter
    assert keys.normalize_sequencer("0055AED6DCD90281E500") == earlier  # trailing zeros do not
    assert len(earlier) == keys.SEQUENCER_WIDTH


@pytest.mark.parametrize("sequencer", ["", "XYZ", "12 34", "0x12", "A" * 65])
def test_invalid_sequencers_are_rejected(sequencer: str) -> None:
    with pytest.raises(keys.InvalidSequencerError):
        keys.normalize_sequencer(sequencer)


def test_event_times_are_normalised_to_fixed_width_utc() -> None:
    assert keys.normalize_event_time("2024-03-01T09:05:03.7Z") == "2024-03-01T09:05:03.700Z"
    assert keys.normalize_event_time("2024-03-01T23:30:00+02:00") == "2024-03-01T21:30:00.000Z"
    for bad in ("yesterday", "2024-03-01T09:05:03", ""):
        with pytest.raises(keys.InvalidEventTimeError):
            keys.normalize_event_time(bad)


def test_sort_keys_are_cut_to_the_dynamodb_limit_on_a_character_boundary() -> None:
    path = "é" * 600  # 1200 bytes
    upload_sk = keys.upload_sort_key("2024-03-01T09:00:00.000Z", path)
    day_sk = keys.day_sort_key("2024-03-01T09:00:00.000Z", "acme", path)
    for sort_key in (upload_sk, day_sk):
        assert len(sort_key.encode()) <= 1024
        assert sort_key.startswith("2024-03-01T09:00:00.000Z#")
    assert keys.upload_sort_key("2024-03-01T09:00:00.000Z", "a.txt") == "2024-03-01T09:00:00.000Z#a.txt"


def test_upload_time_bounds_cover_whole_days() -> None:
    low, high = keys.upload_time_bounds(date(2024, 3, 1), date(2024, 3, 2))
    inside = [
        keys.upload_sort_key("2024-03-01T00:00:00.000Z", "a"),
        keys.upload_sort_key("2024-03-02T23:59:59.999Z", "~~~"),
    ]
    outside = [
        keys.upload_sort_key("2024-02-29T23:59:59.999Z", "a"),
        keys.upload_sort_key("2024-03-03T00:00:00.000Z", "a"),
    ]
    assert all(low <= value <= high for value in inside)
    assert not any(low <= value <= high for value in outside)


def test_media_type_normalisation() -> None:
    assert keys.normalize_media_type("Text/Plain; charset=UTF-8") == "text/plain"
    assert keys.normalize_media_type("  ") is None
    assert keys.normalize_media_type(None) is None
    assert keys.normalize_media_type("a/" + "b" * 300) is None
    assert keys.normalize_classification(" Confidential ") == "Confidential"


def test_day_shard_is_stable_and_in_range() -> None:
    shards = {keys.day_shard("acme", f"file-{n}.txt") for n in range(200)}
    assert shards == set(range(keys.DAY_SHARD_COUNT))
    assert keys.day_shard("acme", "a.txt") == keys.day_shard("acme", "a.txt")


def _position(s3_key: str, uploaded_at: str = "2024-03-01T09:00:00.000Z") -> object:
    return keys.Position(uploaded_at=uploaded_at, object_key=keys.parse_object_key(s3_key))


def test_page_token_round_trip() -> None:
    position = _position("customers/acme/a b/é.txt")
    token = keys.encode_page_token(SECRET, ["objects", "acme"], position)
    assert "acme" not in token and "é" not in token  # opaque to callers
    assert keys.decode_page_token(SECRET, ["objects", "acme"], token) == position


def _longest_key(character: str) -> str:
    prefix = f"customers/{'c' * 64}/"
    return prefix + character * ((keys.MAX_S3_KEY_BYTES - len(prefix)) // len(character.encode()))


@pytest.mark.parametrize("character", ["a", '"', "\\", "\x01", "é", "\u20ac", "\U0001f600"])
def test_a_token_for_the_longest_key_fits_the_limit_whatever_its_characters(character: str) -> None:
    """JSON escaping (``\\u0001`` for one byte) cannot grow a token: the key travels as base64."""
    key = _longest_key(character)
    assert len(key.encode()) > keys.MAX_S3_KEY_BYTES - 4
    long_query = ["by-attribute", "c" * 64, "classification", "\x01" * 256]
    token = keys.encode_page_token(SECRET, long_query, _position(key))
    assert len(token) <= keys.MAX_TOKEN_LENGTH
    assert keys.decode_page_token(SECRET, long_query, token) == _position(key)


def test_the_token_limit_is_what_the_longest_token_needs() -> None:
    longest = keys.encode_page_token(SECRET, ["by-day", "2024-03-01"], _position(_longest_key("a")))
    assert len(longest) == 2000  # every 1,024-byte key gives this length: the key travels as base64
    assert keys.MAX_TOKEN_LENGTH - len(longest) < 64  # bounded, and not much looser than needed


def test_page_token_rejects_tampering_other_keys_and_other_queries() -> None:
    token = keys.encode_page_token(SECRET, ["objects", "acme"], _position("customers/acme/a"))
    payload, signature = token.split(".")
    flipped = ("A" if payload[3] != "A" else "B").join((payload[:3], payload[4:]))
    cases = {
        f"{flipped}.{signature}": "modified",
        f"{payload}.{signature[:-4]}": "modified",
        f"{payload}.{signature[:-1]}": "modified",
        "not-a-token": "not a valid token",
        f"{payload}.{signature}.extra": "not a valid token",
        f"{payload}.!!!": "not a valid token",
        "x" * (keys.MAX_TOKEN_LENGTH + 1): "not a valid token",
    }
    for bad, message in cases.items():
        with pytest.raises(keys.InvalidPageTokenError, match=message):
            keys.decode_page_token(SECRET, ["objects", "acme"], bad)
    with pytest.raises(keys.InvalidPageTokenError, match="modified"):
        keys.decode_page_token(b"another-secret-0123456789abcdefghijkl", ["objects", "acme"], token)
    with pytest.raises(keys.InvalidPageTokenError, match="different query"):
        keys.decode_page_token(SECRET, ["objects", "globex"], token)


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'{"v":1,"q":"x","c":{}}',
        b'{"v":2}',
        b'{"v":2,"q":"QUERY","c":{"t":"yesterday","k":"Y3VzdG9tZXJzL2FjbWUvYQ"}}',
        b'{"v":2,"q":"QUERY","c":{"t":"2024-03-01T09:00:00.000Z","k":"!!"}}',
        b'{"v":2,"q":"QUERY","c":{"t":"2024-03-01T09:00:00.000Z","k":"dXBsb2Fkcy94"}}',
        b'{"v":2,"q":"QUERY","c":{"t":"2024-03-01T09:00:00.000Z","k":"_w"}}',
        b'{"v":2,"q":"QUERY","c":["t","k"]}',
    ],
    ids=["not-json", "old-version", "no-query", "bad-time", "bad-base64", "key-outside-layout", "not-utf8", "list"],
)
def test_a_correctly_signed_but_malformed_payload_is_rejected_cleanly(payload: bytes) -> None:
    """Only our own bug could sign such a payload; it must still be a 400, never a crash."""
    query = ["objects", "acme"]
    payload = payload.replace(b"QUERY", keys._query_digest(query).encode())
    token = f"{keys._b64encode(payload)}.{keys._b64encode(keys._signature(SECRET, payload))}"
    with pytest.raises(keys.InvalidPageTokenError):
        keys.decode_page_token(SECRET, query, token)


@pytest.mark.parametrize("version", [1, 3, "2", None])
def test_a_correctly_signed_token_of_another_version_is_rejected(version: object) -> None:
    """Everything else in the payload is what this version issues; only ``v`` differs."""
    query = ["objects", "acme"]
    good = keys.encode_page_token(SECRET, query, _position("customers/acme/a"))
    data = json.loads(keys._b64decode(good.split(".")[0]))
    assert data["v"] == 2  # the version this code issues
    payload = json.dumps({**data, "v": version}, separators=(",", ":"), sort_keys=True).encode()
    token = f"{keys._b64encode(payload)}.{keys._b64encode(keys._signature(SECRET, payload))}"
    with pytest.raises(keys.InvalidPageTokenError, match="not a valid token"):
        keys.decode_page_token(SECRET, query, token)


def test_media_types_up_to_the_limit_are_indexed_and_longer_ones_are_not() -> None:
    exactly = "application/" + "x" * (keys.MAX_ATTRIBUTE_VALUE_LENGTH - len("application/"))
    assert len(exactly) == 256
    assert keys.normalize_media_type(exactly.upper() + "; charset=utf-8") == exactly
    assert keys.normalize_media_type(exactly + "x") is None
    assert keys.normalize_media_type(" " + exactly + "x; q=1") is None


def test_a_key_of_exactly_1024_bytes_is_accepted_and_1025_is_not() -> None:
    prefix = "customers/acme/"
    exact = prefix + "é" * ((1024 - len(prefix)) // 2) + "x" * ((1024 - len(prefix)) % 2)
    assert len(exact.encode()) == 1024
    assert keys.parse_object_key(exact).path == exact[len(prefix) :]
    with pytest.raises(keys.InvalidObjectKeyError, match="longer than 1024 bytes"):
        keys.parse_object_key(exact + "x")


@pytest.mark.parametrize("value", ["", "   ", "\t\n", "x" * 257, " " + "x" * 257 + " "])
def test_blank_or_oversized_classifications_are_not_indexed(value: str) -> None:
    assert keys.normalize_classification(value) is None


def test_classifications_up_to_the_limit_are_indexed() -> None:
    assert keys.normalize_classification(" " + "x" * 256 + " ") == "x" * 256
    assert keys.normalize_classification("a") == "a"
