"""Key design of the S3 object index table (pure functions, no AWS calls).

Object key convention
---------------------
Every indexed S3 object key has the form::

    customers/{customer_id}/{path}

* ``customer_id`` matches ``^[A-Za-z0-9_-]{1,64}$``.
* ``path`` is the non-empty rest of the key and may contain further ``/``.

A key outside this convention (``customers/readme.txt``,
``customers/ACME Corp/x``) is a valid S3 object that belongs to no customer:
the indexer skips its events, logs each at WARNING and counts it in the
``UnindexableKeys`` metric, which an alarm watches. Retrying could never
index it, so it does not go to the dead-letter queue.

Table layout (one table, on-demand capacity)
--------------------------------------------
All key attributes are strings (``S``).

Base table: partition key ``PK``, sort key ``SK``.

=====================  ===========================  ===============================
Item                   PK                           SK
=====================  ===========================  ===============================
Live object            ``CUSTOMER#{customer_id}``   ``OBJECT#{path}``
Tombstone (deleted)    ``CUSTOMER#{customer_id}``   ``OBJECT#{path}``
Customer totals        ``CUSTOMER#{customer_id}``   ``TOTALS``
=====================  ===========================  ===============================

Global secondary indexes (all with projection ``ALL``):

=====================  ======================================  ===============
Index                  Partition key                           Sort key
=====================  ======================================  ===============
``by-upload-time``     ``PK``                                  ``UPLOAD_SK``
``by-content-type``    ``CT_PK``                               ``UPLOAD_SK``
``by-classification``  ``CLS_PK``                              ``UPLOAD_SK``
``by-day``             ``DAY_PK``                              ``DAY_SK``
=====================  ======================================  ===============

* ``UPLOAD_SK`` = ``{uploaded_at}#{path}``
* ``CT_PK`` = ``CUSTOMER#{customer_id}#CT#{media type, lower case}``
* ``CLS_PK`` = ``CUSTOMER#{customer_id}#CLS#{classification}``
* ``DAY_PK`` = ``DAY#{yyyy-mm-dd}#{shard}`` with ``shard`` in
  ``0..DAY_SHARD_COUNT-1``, derived from a hash of the object key
* ``DAY_SK`` = ``{uploaded_at}#{customer_id}#{path}``

Only live object items carry these attributes, so tombstones and totals
items never appear in an index (sparse indexes). ``uploaded_at`` always has
the fixed-width form ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC), which makes string
order equal to time order. Sort keys longer than DynamoDB's 1024-byte limit
are cut at a character boundary; the base table key still identifies the item.

Tombstones carry ``expires_at`` (epoch seconds); enable DynamoDB TTL on that
attribute. The retention must stay longer than the longest time an event can
wait in the queues (SQS keeps a message at most 14 days).

Sequencers
----------
S3 sequencers are hexadecimal strings whose length varies. The S3 event
message documentation orders two of them (for the same key) by right-padding
the shorter with zeros and comparing the strings. The indexer stores every
sequencer right-padded with zeros to ``SEQUENCER_WIDTH`` digits (upper case),
so plain string comparison, also in a DynamoDB condition expression, gives
that order. A longer sequencer is not necessarily a later one.

Pagination tokens
-----------------
A token is ``base64url(JSON payload) "." base64url(HMAC-SHA256)``. The payload
holds a digest of the query it was issued for and the position to resume
from: the upload time and the S3 key of the last item returned (the key as
base64url of its UTF-8 bytes, so no character of a key can grow the token
through JSON escaping). Every DynamoDB key of that item (``PK``, ``SK``,
``UPLOAD_SK``, ``DAY_PK``, ``DAY_SK``) follows from those two values, so one
position serves every route, the by-day route included, and a token stays
under ``MAX_TOKEN_LENGTH`` for the longest key S3 allows (1,024 bytes).

The HMAC key is the query function's pagination key secret. A token
that was altered, signed with another key, or issued for another query is
rejected. Tokens are opaque but not encrypted: they contain the object key
the caller has already seen. Rotating the key invalidates all tokens
in circulation; callers then start again from the first page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

# --- Object key convention -------------------------------------------------

KEY_PREFIX = "customers/"
CUSTOMER_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_S3_KEY_BYTES = 1024

# --- Table definition --------------------------------------------------------

PARTITION_KEY = "PK"
SORT_KEY = "SK"
UPLOAD_SK = "UPLOAD_SK"
CT_PK = "CT_PK"
CLS_PK = "CLS_PK"
DAY_PK = "DAY_PK"
DAY_SK = "DAY_SK"
TTL_ATTRIBUTE = "expires_at"

INDEX_BY_UPLOAD_TIME = "by-upload-time"
INDEX_BY_CONTENT_TYPE = "by-content-type"
INDEX_BY_CLASSIFICATION = "by-classification"
INDEX_BY_DAY = "by-day"

#: Base table key schema: attribute name -> (key type, attribute type).
TABLE_KEY_SCHEMA: dict[str, tuple[str, str]] = {
    PARTITION_KEY: ("HASH", "S"),
    SORT_KEY: ("RANGE", "S"),
}

#: Global secondary indexes: name -> partition key, sort key, projection.
GSI_DEFINITIONS: dict[str, dict[str, str]] = {
    INDEX_BY_UPLOAD_TIME: {"partition_key": PARTITION_KEY, "sort_key": UPLOAD_SK, "projection": "ALL"},
    INDEX_BY_CONTENT_TYPE: {"partition_key": CT_PK, "sort_key": UPLOAD_SK, "projection": "ALL"},
    INDEX_BY_CLASSIFICATION: {"partition_key": CLS_PK, "sort_key": UPLOAD_SK, "projection": "ALL"},
    INDEX_BY_DAY: {"partition_key": DAY_PK, "sort_key": DAY_SK, "projection": "ALL"},
}

#: Number of partitions the all-customers-per-day index spreads one day over.
#: Changing it requires rewriting every object item, so treat it as fixed.
DAY_SHARD_COUNT = 4

#: Tombstones expire this long after the delete event (DynamoDB TTL).
TOMBSTONE_RETENTION_SECONDS = 30 * 24 * 3600

#: Sequencers are stored right-padded with zeros to this many hexadecimal digits.
SEQUENCER_WIDTH = 64

#: The user-defined metadata entry (``x-amz-meta-classification``) that is indexed.
CLASSIFICATION_METADATA_KEY = "classification"

#: Longest content type or classification value that is put into an index key.
MAX_ATTRIBUTE_VALUE_LENGTH = 256

ITEM_TYPE_OBJECT = "OBJECT"
ITEM_TYPE_TOMBSTONE = "TOMBSTONE"
ITEM_TYPE_TOTALS = "TOTALS"

TOTALS_SK = "TOTALS"
_OBJECT_SK_PREFIX = "OBJECT#"
_MAX_SORT_KEY_BYTES = 1024
_SEQUENCER_RE = re.compile(r"[0-9A-Fa-f]{1,64}")


class InvalidObjectKeyError(ValueError):
    """The S3 object key does not follow ``customers/{customer_id}/{path}``."""


class InvalidSequencerError(ValueError):
    """The S3 sequencer is not a hexadecimal string."""


class InvalidEventTimeError(ValueError):
    """The S3 event time is not an ISO-8601 timestamp."""


class InvalidPageTokenError(ValueError):
    """A pagination token failed validation; the message is safe to return to callers."""


@dataclass(frozen=True)
class ObjectKey:
    """An S3 object key split according to the key convention."""

    customer_id: str
    path: str

    @property
    def s3_key(self) -> str:
        return f"{KEY_PREFIX}{self.customer_id}/{self.path}"


def is_valid_customer_id(customer_id: str) -> bool:
    return CUSTOMER_ID_RE.fullmatch(customer_id) is not None


def parse_object_key(s3_key: str) -> ObjectKey:
    """Split a decoded S3 key into customer id and path, or raise InvalidObjectKeyError."""
    if len(s3_key.encode("utf-8")) > MAX_S3_KEY_BYTES:
        raise InvalidObjectKeyError(f"key is longer than {MAX_S3_KEY_BYTES} bytes")
    if not s3_key.startswith(KEY_PREFIX):
        raise InvalidObjectKeyError(f"key does not start with '{KEY_PREFIX}'")
    customer_id, separator, path = s3_key[len(KEY_PREFIX) :].partition("/")
    if not separator:
        raise InvalidObjectKeyError("key has no '/' after the customer id")
    if not is_valid_customer_id(customer_id):
        raise InvalidObjectKeyError("customer id must match ^[A-Za-z0-9_-]{1,64}$")
    if not path:
        raise InvalidObjectKeyError("key has an empty path after the customer id")
    return ObjectKey(customer_id=customer_id, path=path)


# --- Item keys ------------------------------------------------------------------


def customer_pk(customer_id: str) -> str:
    return f"CUSTOMER#{customer_id}"


def object_sk(path: str) -> str:
    return f"{_OBJECT_SK_PREFIX}{path}"


def path_from_object_sk(sort_key: str) -> str:
    if not sort_key.startswith(_OBJECT_SK_PREFIX):
        raise ValueError(f"not an object sort key: {sort_key!r}")
    return sort_key[len(_OBJECT_SK_PREFIX) :]


def _fit_sort_key(value: str) -> str:
    """Cut a sort key to DynamoDB's 1024-byte limit without splitting a character."""
    encoded = value.encode("utf-8")
    if len(encoded) <= _MAX_SORT_KEY_BYTES:
        return value
    return encoded[:_MAX_SORT_KEY_BYTES].decode("utf-8", errors="ignore")


def upload_sort_key(uploaded_at: str, path: str) -> str:
    return _fit_sort_key(f"{uploaded_at}#{path}")


def content_type_pk(customer_id: str, media_type: str) -> str:
    return f"CUSTOMER#{customer_id}#CT#{media_type}"


def classification_pk(customer_id: str, classification: str) -> str:
    return f"CUSTOMER#{customer_id}#CLS#{classification}"


def day_shard(customer_id: str, path: str) -> int:
    """Stable shard number of an object in the by-day index."""
    digest = hashlib.sha256(f"{customer_id}/{path}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % DAY_SHARD_COUNT


def day_pk(day: str, shard: int) -> str:
    return f"DAY#{day}#{shard}"


def day_sort_key(uploaded_at: str, customer_id: str, path: str) -> str:
    return _fit_sort_key(f"{uploaded_at}#{customer_id}#{path}")


def upload_time_bounds(start: date, end: date) -> tuple[str, str]:
    """Inclusive ``BETWEEN`` bounds on ``UPLOAD_SK`` covering whole days start..end.

    A bare date sorts before every timestamp of that day, and ``T~`` sorts
    after every ``THH:MM:SS.mmmZ`` of the end day because ``~`` is greater
    than every digit.
    """
    return start.isoformat(), f"{end.isoformat()}T~"


# --- Attribute normalisation ---------------------------------------------------


def normalize_media_type(content_type: str | None) -> str | None:
    """Media type used in the content-type index: lower case, parameters dropped.

    ``Text/Plain; charset=utf-8`` and ``text/plain`` both index as ``text/plain``.
    Returns None for an empty or oversized value (then the object is not in
    the content-type index).
    """
    if content_type is None:
        return None
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not media_type or len(media_type) > MAX_ATTRIBUTE_VALUE_LENGTH:
        return None
    return media_type


def normalize_classification(value: str | None) -> str | None:
    """Classification used in the classification index: surrounding spaces removed, case kept."""
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_ATTRIBUTE_VALUE_LENGTH:
        return None
    return value


def normalize_sequencer(sequencer: str) -> str:
    """Right-pad an S3 sequencer with zeros, so that string order is S3's event order."""
    if not isinstance(sequencer, str) or _SEQUENCER_RE.fullmatch(sequencer) is None:
        raise InvalidSequencerError("sequencer must be 1 to 64 hexadecimal digits")
    return sequencer.upper().ljust(SEQUENCER_WIDTH, "0")


def normalize_event_time(event_time: str) -> str:
    """Convert an ISO-8601 event time to ``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC."""
    if not isinstance(event_time, str):
        raise InvalidEventTimeError("eventTime must be a string")
    try:
        parsed = datetime.fromisoformat(event_time)
    except ValueError as error:
        raise InvalidEventTimeError(f"eventTime is not ISO-8601: {event_time!r}") from error
    if parsed.tzinfo is None:
        raise InvalidEventTimeError("eventTime has no time zone")
    parsed = parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


def epoch_seconds(timestamp: str) -> int:
    """Epoch seconds of a normalised ``uploaded_at``/event time value."""
    return int(datetime.fromisoformat(timestamp).timestamp())


# --- Pagination tokens ----------------------------------------------------------

#: The longest token the query function accepts; the longest one it can issue (a position
#: in a 1,024-byte key) is 2,000 characters, which a test checks.
MAX_TOKEN_LENGTH = 2048
_TOKEN_VERSION = 2
_BASE64URL_RE = re.compile(r"[A-Za-z0-9_-]+")
_UPLOADED_AT_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")


@dataclass(frozen=True)
class Position:
    """Where a page ended: the upload time and key of the last item it returned."""

    uploaded_at: str
    object_key: ObjectKey


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if _BASE64URL_RE.fullmatch(text) is None:
        raise InvalidPageTokenError("next_token is not a valid token")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise InvalidPageTokenError("next_token is not a valid token") from error


def _signature(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()


def _query_digest(query: Sequence[str]) -> str:
    """A fixed-size stand-in for the query parameters, so long values cannot grow a token."""
    return _b64encode(hashlib.sha256(json.dumps(list(query), ensure_ascii=False).encode("utf-8")).digest())


def encode_page_token(secret: bytes, query: Sequence[str], position: Position) -> str:
    """Sign a resume position for the query identified by ``query``.

    ``query`` names the route and every parameter that selects the result set
    (not the page size), so a token only resumes the query it came from.
    """
    payload = json.dumps(
        {
            "v": _TOKEN_VERSION,
            "q": _query_digest(query),
            "c": {"t": position.uploaded_at, "k": _b64encode(position.object_key.s3_key.encode("utf-8"))},
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode("ascii")
    return f"{_b64encode(payload)}.{_b64encode(_signature(secret, payload))}"


def decode_page_token(secret: bytes, query: Sequence[str], token: str) -> Position:
    """Verify a token and return its position, or raise InvalidPageTokenError."""
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise InvalidPageTokenError("next_token is not a valid token")
    payload_text, signature_text = token.split(".")
    payload = _b64decode(payload_text)
    signature = _b64decode(signature_text)
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        raise InvalidPageTokenError("next_token is invalid or has been modified")
    # Only a correctly signed payload gets here, so what follows guards against our own bugs.
    try:
        data = json.loads(payload.decode("utf-8"))
        if data["v"] != _TOKEN_VERSION:
            raise InvalidPageTokenError("next_token is not a valid token")
        if data["q"] != _query_digest(query):
            raise InvalidPageTokenError("next_token was issued for a different query; repeat the request without it")
        uploaded_at, key_text = data["c"]["t"], data["c"]["k"]
        if not isinstance(uploaded_at, str) or _UPLOADED_AT_RE.fullmatch(uploaded_at) is None:
            raise InvalidPageTokenError("next_token is not a valid token")
        object_key = parse_object_key(_b64decode(key_text).decode("utf-8"))
    except (ValueError, KeyError, TypeError) as error:
        if isinstance(error, InvalidPageTokenError):
            raise
        raise InvalidPageTokenError("next_token is not a valid token") from error
    return Position(uploaded_at=uploaded_at, object_key=object_key)
