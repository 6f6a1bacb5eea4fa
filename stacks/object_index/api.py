"""The object index's stateless half: the three functions, the REST API and the alarms.

    event queue ─► indexer (SQS event source, partial batch failures) ─► index table
                                                                       └─► HeadObject on the data bucket
    caller (SigV4) ─► REST API (IAM auth, resource policy, validated, throttled) ─► query function ─► index table
                       operator role: every route; customer role: its customer only        │
                                                                  pagination secret (data stack) ◄─┘
    operator ─► reconcile function ─► ListObjectsV2 + HeadObject on the bucket, Query + writes on the table
    alarms: dead letters, event age and backlog, skipped keys, foreign buckets, function errors,
            API 5XX ─► alarm topic (data stack)

Everything here can be deleted and recreated without losing an object or an index entry, or
invalidating a page token: the pagination secret lives in the data stack. Nothing here adds
to the data key's policy; the functions' roles are granted the key in their own policies.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk_constructs.api_gateway_logging import api_gateway_account_logging
from cdk_constructs.lambda_runtime import powertools_layer_arn
from cdk_constructs.object_index.alarms import AlarmThresholds, ObjectIndexAlarms
from cdk_constructs.object_index.functions import FunctionSettings, IndexerFunction, QueryFunction, ReconcileFunction
from cdk_constructs.object_index.query_api import ApiAccessLogs, QueryApi
from org_config.model import OrgConfig
from stacks.object_index import object_index_section
from stacks.object_index.data import ObjectIndexDataStack


class ObjectIndexApiStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: OrgConfig,
        data: ObjectIndexDataStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = object_index_section(config)
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self, "Powertools", powertools_layer_arn(self.partition, self.region)
        )
        functions = FunctionSettings(
            key=data.data_key.key, powertools=powertools, log_retention_days=settings.log_retention_days
        )

        self.indexer = IndexerFunction(
            self,
            "Indexer",
            table=data.table,
            events=data.events,
            concurrency=settings.indexer_concurrency,
            bucket_name=data.bucket_name,
            bucket_arn=data.bucket_arn,
            settings=functions,
        )
        self.reconcile = ReconcileFunction(
            self,
            "Reconcile",
            table=data.table,
            reserved_concurrency=settings.reconcile_reserved_concurrency,
            bucket_name=data.bucket_name,
            bucket_arn=data.bucket_arn,
            settings=functions,
        )
        self.query = QueryFunction(
            self,
            "Query",
            table=data.table,
            pagination_key=data.pagination_key,
            operator_role_name=settings.operator_role_name,
            customer_role_prefix=settings.customer_role_prefix,
            reserved_concurrency=settings.query_reserved_concurrency,
            settings=functions,
        )

        account_logging = api_gateway_account_logging(self)  # one per account and region
        self.access_logs = ApiAccessLogs(
            self, "ApiAccessLogs", key=data.data_key.key, retention_days=settings.log_retention_days
        )
        self.api = QueryApi(
            self,
            "QueryApi",
            handler=self.query.function,
            access_logs=self.access_logs,
            account_logging=account_logging,
            operator_role_arn=data.operator_role_arn,
            customer_roles_arn=f"arn:{self.partition}:iam::{self.account}:role/{settings.customer_role_prefix}*",
            rate_limit=settings.api_rate_limit_per_second,
            burst_limit=settings.api_burst_limit,
        )

        self.alarms = ObjectIndexAlarms(
            self,
            topic=data.alarm_topic,
            events=data.events,
            dead_letters=data.dead_letters,
            bucket_name=data.bucket_name,
            indexer=self.indexer.function,
            reconcile=self.reconcile.function,
            query=self.query.function,
            api=self.api,
            thresholds=AlarmThresholds(
                oldest_event_minutes=settings.oldest_event_alarm_minutes,
                event_retention_days=settings.event_retention_days,
                indexer_sustained_events_per_second=settings.indexer_sustained_events_per_second,
            ),
        )
