"""The event record the streaming pipeline carries: one JSON object per Kinesis record.

This is the schema of the Glue table that Firehose converts records to Parquet with, and
the contract producers write to. The consumer function keeps its own copy of the required
fields (Lambda code is not a library of the app) and a test compares the two.

Columns are (name, Glue type). Partition columns are not table columns: Firehose writes
them into the S3 key (``event_date=2026-11-27/event_type=click/``), and Athena reads them
from there.
"""

from __future__ import annotations

EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_id", "string"),  # producer-assigned, unique per event: makes duplicates detectable
    ("event_type", "string"),
    ("event_time", "timestamp"),  # ISO 8601, UTC
    ("source", "string"),
    ("customer_id", "string"),
    ("amount", "double"),
    ("attributes", "map<string,string>"),
)

# The field the date partition is cut from (its first 10 characters: YYYY-MM-DD).
TIME_FIELD = "event_time"
DATE_PARTITION = "event_date"

# Fields a record must carry to be processed; anything else is optional.
REQUIRED_FIELDS: tuple[str, ...] = ("event_id", "event_type", "event_time")


def column_type(name: str) -> str | None:
    """The Glue type of column ``name``, or None if the schema has no such column."""
    return dict(EVENT_COLUMNS).get(name)


# --- What an event must be to be stored the same way by every reader ---------------------
# The ingestion API's request model refuses what breaks any of these; the consumer keeps
# its own copy of each rule (a test compares them), and Firehose's conversion reads the
# times they admit.

STRING_FIELDS: tuple[str, ...] = ("event_id", "event_type", "source", "customer_id")
MAX_STRING_LENGTH = 256  # keeps an events-table item far below DynamoDB's 400 KB
# The Glue table's date projection starts on this year's first day, and the time pattern
# admits years up to 2099: an event outside would be stored where no query finds it.
EARLIEST_YEAR = 2000
LATEST_YEAR = 2099
# DynamoDB numbers: magnitude below 1E+126 and, unless zero, at least 1E-130 (DynamoDB
# developer guide, "Supported data types and naming rules", Number).
AMOUNT_BELOW = 1e126
AMOUNT_SMALLEST = 1e-130

# An event time is UTC ("Z" or "+00:00"), so that the date partition (the first ten
# characters) is the UTC date, in whole seconds or milliseconds (what the delivery stream's
# timestamp formats below read), and a real calendar time: months of 28 to 31 days,
# 29 February in leap years only (every fourth year between 2000 and 2099), hours 00-23,
# minutes and seconds 00-59. The pattern ends with a lookahead for "no character at all"
# instead of "$", which in Java (and Python) also matches before a final line break.
_DAY = (
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])"  # any month, days 1-28
    r"|(?:0[13-9]|1[0-2])-(?:29|30)"  # every month but February, days 29 and 30
    r"|(?:0[13578]|1[02])-31)"  # the months of 31 days
)
EVENT_TIME_PATTERN = (
    rf"^(?:20\d\d-{_DAY}|20(?:[02468][048]|[13579][26])-02-29)"
    r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{3})?(?:Z|\+00:00)(?![\s\S])"
)
# Joda-Time patterns for Firehose's JSON deserializer (HiveJsonSerDe TimestampFormats);
# "ZZ" reads "Z" or an offset with a colon ("+00:00").
FIREHOSE_TIMESTAMP_FORMATS: tuple[str, ...] = ("yyyy-MM-dd'T'HH:mm:ssZZ", "yyyy-MM-dd'T'HH:mm:ss.SSSZZ")
