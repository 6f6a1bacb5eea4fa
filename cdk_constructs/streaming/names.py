"""What the two streaming stacks and their parts must agree on: S3 prefixes, the events
table's key, the data lake's name (derived from the config, so that the pipeline's
policies can name the bucket's prefixes without a cross-stack reference)."""

from __future__ import annotations

from org_config.model import OrgConfig

EVENTS_PREFIX = "events/"  # Firehose's Parquet output; the Glue table's location
ERRORS_PREFIX = "errors/"  # records Firehose could not convert or partition
WINDOW_COUNTS_PREFIX = "window-counts/"  # the Flink application's output
EVENTS_TABLE_KEY = "event_id"  # the consumer's idempotency key (lambdas/streaming/consumer.py)
EVENTS_TABLE_TTL = "expires_at"
EVENT_TTL_DAYS = 30  # how long the consumer remembers an event id (duplicates arrive within minutes)
ON_FAILURE_RETENTION_DAYS = 14  # the longest SQS keeps a message: time to look and replay
FLINK_RUNTIME = "FLINK-1_20"
STAGE_NAME = "v1"  # the ingestion API's stage


def data_lake_bucket_name(config: OrgConfig) -> str:
    """Derived from the config (at most 60 characters)."""
    account = config.account_named(config.streaming.account).id
    return f"{config.organization.name_prefix}-stream-lake-{account}-{config.regions.home}"


def data_lake_bucket_arn(config: OrgConfig, partition: str) -> str:
    return f"arn:{partition}:s3:::{data_lake_bucket_name(config)}"
