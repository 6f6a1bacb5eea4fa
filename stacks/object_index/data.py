"""The object index's stateful half: everything that holds data or keys.

    uploaders ─► data bucket, customers/… ─(S3 event notifications)─► event queue ─► indexer
                      │                                                  │ (api stack)
                      └─► server access logs ─► access-log bucket        └─ 5th receive ─► dead-letter queue

    index table (4 GSIs, on-demand, PITR, deletion protection) ◄─ indexer writes, query API reads
    pagination secret (Secrets Manager, HMAC key) ◄─ query API reads, to sign its page tokens
    data key (KMS, rotating): bucket, table, queues, alarm topic, pagination secret, log groups
    alarm topic ─► email (optional)

Nothing here changes when the functions or the API change, so a stateless change can never
replace the table or the bucket; both are retained if the stack is deleted. The pagination
secret lives here too, not beside the query function: a secret encrypted with the data key
adds a Secrets Manager statement to the key's policy, from whichever stack holds the secret.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from cdk_constructs.hardened_bucket import HardenedBucket, Lifecycle
from cdk_constructs.object_index.storage import (
    AlarmTopic,
    DataBucket,
    DataKey,
    EventDeadLetterQueue,
    EventQueue,
    IndexTable,
    PaginationKey,
)
from org_config.model import OrgConfig
from org_config.names import object_index_bucket_name
from stacks.object_index import object_index_section


class ObjectIndexDataStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = object_index_section(config)
        self.bucket_name = object_index_bucket_name(config)
        # Built from the name, not referenced: the queue and key policies must exist before
        # the bucket, whose notification configuration S3 checks against them.
        self.bucket_arn = f"arn:{self.partition}:s3:::{self.bucket_name}"
        self.operator_role_arn = f"arn:{self.partition}:iam::{self.account}:role/{settings.operator_role_name}"

        self.data_key = DataKey(
            self, "DataKey", alias=f"alias/{config.organization.name_prefix}/object-index", bucket_arn=self.bucket_arn
        )
        key = self.data_key.key

        # S3 event notifications wait in the event queue for the indexer.
        self.dead_letters = EventDeadLetterQueue(self, "EventDeadLetters", key=key)
        self.events = EventQueue(
            self,
            "Events",
            key=key,
            dead_letters=self.dead_letters,
            retention_days=settings.event_retention_days,
            bucket_arn=self.bucket_arn,
            operator_role_arn=self.operator_role_arn,
        )

        # S3 delivers server access logs only to an SSE-S3 bucket in the same account and
        # region; they are kept as long as the organization keeps its logs.
        logs = config.log_archive
        self.access_logs = HardenedBucket(
            self,
            "AccessLogs",
            encryption_key=None,
            access_logs_bucket=None,
            lifecycle=Lifecycle(
                infrequent_access_after_days=logs.transition_to_infrequent_access_days,
                glacier_after_days=logs.transition_to_glacier_days,
                expire_after_days=logs.expire_after_days,
                noncurrent_expire_after_days=logs.noncurrent_versions_expire_after_days,
            ),
        )
        self.objects = DataBucket(
            self,
            "Objects",
            bucket_name=self.bucket_name,
            key=key,
            access_logs=self.access_logs.bucket,
            lifecycle=Lifecycle(
                infrequent_access_after_days=settings.transition_to_infrequent_access_days,
                glacier_after_days=settings.transition_to_glacier_days,
                expire_after_days=settings.expire_after_days,
                noncurrent_expire_after_days=settings.noncurrent_versions_expire_after_days,
            ),
            events=self.events,
        )

        self.table = IndexTable(
            self, "Index", key=key, backup_tag=(config.backup_policy.tag_key, config.backup_policy.tag_value)
        )
        # Subscriptions outlive any change to the alarms, which live in the API stack.
        self.alarm_topic = AlarmTopic(self, "Alarms", key=key, email=settings.alarm_email)
        # Here, not in the API stack: the secret adds a Secrets Manager statement to the key policy.
        self.pagination_key = PaginationKey(self, "PaginationKey", key=key)
