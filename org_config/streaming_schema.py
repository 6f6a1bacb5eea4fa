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
