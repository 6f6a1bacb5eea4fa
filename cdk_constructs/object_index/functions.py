"""The object index's three functions, each granted exactly the calls its handler makes.

Puts and updates inside ``TransactWriteItems`` are authorized as ``PutItem`` and ``UpdateItem``;
no function deletes an item (deletes write tombstones), and ``HeadObject`` is authorized as
``s3:GetObject``.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import CfnResource, Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag, exempt_control, skip_checkov
from cdk_constructs.hardened_function import HardenedFunction
from cdk_constructs.lambda_runtime import ARCHITECTURE, RUNTIME
from cdk_constructs.object_index.contract import (
    GLOBAL_SECONDARY_INDEXES,
    HANDLER_CODE,
    INDEXER_BATCH_SIZE,
    INDEXER_MAX_BATCHING_WINDOW_SECONDS,
    INDEXER_TIMEOUT_SECONDS,
    METRICS_SERVICE,
    OBJECT_PREFIX,
    QUERY_TIMEOUT_SECONDS,
    RECONCILE_TIMEOUT_MINUTES,
)


@dataclass(frozen=True, kw_only=True)
class FunctionSettings:
    """What the pattern's three functions share: the data key (log groups, environment), the
    Powertools layer and the log retention."""

    key: kms.IKey
    powertools: lambda_.ILayerVersion
    log_retention_days: int


class ObjectIndexFunction(HardenedFunction):
    """A handler of ``lambdas/object_index`` on the project's runtime with the Powertools layer.

    :class:`HardenedFunction`'s defaults (own role, own encrypted log group, reserved
    concurrency, tracing), plus ``POWERTOOLS_SERVICE_NAME`` and INFO logging. No function
    dead-letter queue and no VPC, each with its reason in the template.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        description: str,
        service_name: str,
        environment: Mapping[str, str],
        settings: FunctionSettings,
        reserved_concurrency: int,
        timeout: Duration,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            code_path=HANDLER_CODE,
            handler=handler,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            layers=[settings.powertools],
            environment={**environment, "POWERTOOLS_SERVICE_NAME": service_name, "POWERTOOLS_LOG_LEVEL": "INFO"},
            key=settings.key,
            log_retention_days=settings.log_retention_days,
            reserved_concurrency=reserved_concurrency,
            timeout=timeout,
        )
        cfn_function = typing.cast(CfnResource, self.function.node.default_child)
        skip_checkov(
            cfn_function,
            "CKV_AWS_116",
            "Invoked synchronously (SQS event source, API Gateway proxy, an operator's "
            "RequestResponse invoke); a function dead-letter queue only receives failed "
            "asynchronous invocations. Failed S3 events go to the event queue's own "
            "dead-letter queue.",
        )
        skip_checkov(
            cfn_function,
            "CKV_AWS_117",
            "The function reaches only DynamoDB, S3, Secrets Manager and SQS through their "
            "public endpoints with IAM; it has no network resource to reach in a VPC.",
        )
        exempt_control(
            self.function,
            "CT.LAMBDA.PR.3",
            "Calls only AWS regional APIs (DynamoDB, SQS, S3, KMS, Secrets Manager) and reaches nothing "
            "inside a VPC; a VPC would add endpoints to pay for and no isolation.",
        )

    def _read_customer_objects(self, bucket_arn: str, *, who: str) -> None:
        """``HeadObject`` on any key under ``customers/``: the narrowest scope there is."""
        customer_objects = f"{bucket_arn}/{OBJECT_PREFIX}*"
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="HeadCustomerObjects",  # HeadObject is authorized as GetObject
                actions=["s3:GetObject"],
                resources=[customer_objects],
            )
        )
        acknowledge_nag(
            self.role,
            f"AwsSolutions-IAM5[Resource::{customer_objects}]",
            f"{who} reads the metadata of any object under the customers/ prefix; object ARNs cannot "
            "be listed in advance, and the prefix is the narrowest scope there is.",
        )


class IndexerFunction(ObjectIndexFunction):
    """Applies S3 event notifications from ``events`` to ``table``.

    Consumes the queue in batches with partial batch failures, at most ``concurrency``
    invocations at once, which is also its reserved concurrency, so the event source is never
    throttled. May read and write single items (never delete, never query), ``HeadObject``
    under ``customers/`` and list the bucket (without which ``HeadObject`` of a deleted key is
    403, not 404).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        bucket_name: str,
        bucket_arn: str,
        events: sqs.IQueue,
        concurrency: int,
        settings: FunctionSettings,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            handler="indexer.handler",
            description="S3 object index: applies S3 event notifications to the index table",
            service_name=METRICS_SERVICE,
            environment={
                "INDEX_TABLE_NAME": table.table_name,
                "OBJECT_BUCKET_NAME": bucket_name,  # records naming another bucket are refused
            },
            settings=settings,
            # As many as the event source may run at once, so the event source is never throttled;
            # derived from the configured target rate (see the pattern's page, "Throughput").
            reserved_concurrency=concurrency,
            timeout=Duration.seconds(INDEXER_TIMEOUT_SECONDS),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="IndexTableReadWriteItems",
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                resources=[table.table_arn],
            )
        )
        self._read_customer_objects(bucket_arn, who="The indexer")
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="TellDeletedFromForbidden",  # without it, HeadObject of a deleted key is 403, not 404
                actions=["s3:ListBucket"],
                resources=[bucket_arn],
            )
        )
        # The event source grants what consuming the queue takes (receive, delete, change
        # visibility, and kms:Decrypt on the queue's key).
        self.function.add_event_source(
            event_sources.SqsEventSource(
                events,
                batch_size=INDEXER_BATCH_SIZE,
                max_batching_window=Duration.seconds(INDEXER_MAX_BATCHING_WINDOW_SECONDS),
                report_batch_item_failures=True,
                max_concurrency=concurrency,
            )
        )


class ReconcileFunction(ObjectIndexFunction):
    """Repairs one customer's index entries from a listing of the bucket, invoked by an operator.

    Runs up to Lambda's 15 minutes and hands back where to go on. May make the indexer's
    single-item reads and writes plus ``Query`` on the base table (never an index), list the
    bucket under ``customers/`` only, and ``HeadObject`` there.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        bucket_name: str,
        bucket_arn: str,
        reserved_concurrency: int,
        settings: FunctionSettings,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            handler="reconcile.handler",
            description="S3 object index: repairs one customer's index entries from a listing of the bucket",
            service_name="object-index-reconcile",
            environment={"INDEX_TABLE_NAME": table.table_name, "OBJECT_BUCKET_NAME": bucket_name},
            settings=settings,
            reserved_concurrency=reserved_concurrency,  # a customer or two at a time
            timeout=Duration.minutes(RECONCILE_TIMEOUT_MINUTES),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="IndexTableRepairItems",  # the same writes as the indexer's, never a delete
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
                resources=[table.table_arn],  # the base table, queried by key; no index
            )
        )
        self._read_customer_objects(bucket_arn, who="The reconcile function")
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ListCustomerObjects",
                actions=["s3:ListBucket"],
                resources=[bucket_arn],
                conditions={"StringLike": {"s3:prefix": f"{OBJECT_PREFIX}*"}},
            )
        )


class QueryFunction(ObjectIndexFunction):
    """Answers the query API from the index table.

    May ``Query`` the four indexes, ``GetItem`` on the table (one object, a customer's totals)
    and read the ``pagination_key`` secret that signs page tokens. Who may read which customer
    is checked from the caller's role: ``operator_role_name`` reads every route, a role named
    ``customer_role_prefix`` + a customer id reads that customer's.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        pagination_key: secretsmanager.ISecret,
        operator_role_name: str,
        customer_role_prefix: str,
        reserved_concurrency: int,
        settings: FunctionSettings,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            handler="query_api.handler",
            description="S3 object index: answers the query API from the index table",
            service_name="object-index-query",
            environment={
                "INDEX_TABLE_NAME": table.table_name,
                "PAGINATION_KEY_SECRET_ID": pagination_key.secret_arn,
                "OPERATOR_ROLE_NAME": operator_role_name,
                "CUSTOMER_ROLE_PREFIX": customer_role_prefix,
            },
            settings=settings,
            reserved_concurrency=reserved_concurrency,
            timeout=Duration.seconds(QUERY_TIMEOUT_SECONDS),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="QueryIndexes",
                actions=["dynamodb:Query"],
                resources=[f"{table.table_arn}/index/{name}" for name in GLOBAL_SECONDARY_INDEXES],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(sid="ReadTotals", actions=["dynamodb:GetItem"], resources=[table.table_arn])
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadPaginationKey",  # that one secret; kms:Decrypt comes with the function's key
                actions=["secretsmanager:GetSecretValue"],
                resources=[pagination_key.secret_arn],
            )
        )
