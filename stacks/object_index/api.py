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

import typing
from pathlib import Path
from typing import Any

from aws_cdk import CfnResource, Duration, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_constructs.api_gateway_logging import api_gateway_account_logging
from cdk_constructs.gates import acknowledge_nag, exempt_control, skip_checkov
from cdk_constructs.hardened_function import HardenedFunction
from cdk_constructs.lambda_runtime import ARCHITECTURE, RUNTIME, powertools_layer_arn
from org_config.model import OrgConfig
from stacks.object_index import (
    DRAIN_TIME_FRACTION,
    EXPIRY_WARNING_FRACTION,
    FOREIGN_BUCKET_METRIC,
    GLOBAL_SECONDARY_INDEXES,
    INDEXER_BATCH_SIZE,
    INDEXER_MAX_BATCHING_WINDOW_SECONDS,
    INDEXER_TIMEOUT_SECONDS,
    METRICS_NAMESPACE,
    METRICS_SERVICE,
    OBJECT_PREFIX,
    UNINDEXABLE_KEY_METRIC,
)
from stacks.object_index.data import ObjectIndexDataStack

HANDLER_CODE = str(Path(__file__).resolve().parents[2] / "lambdas" / "object_index")
QUERY_TIMEOUT_SECONDS = 10  # well inside API Gateway's 29-second integration timeout
STAGE_NAME = "v1"


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
        settings = config.object_index
        key = data.data_key.key
        table = data.table
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self, "Powertools", powertools_layer_arn(self.partition, self.region)
        )

        def function(construct_id: str, **props: Any) -> HardenedFunction:
            return HardenedFunction(
                self,
                construct_id,
                code_path=HANDLER_CODE,
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                layers=[powertools],
                key=key,
                log_retention_days=settings.log_retention_days,
                **props,
            )

        # --- Indexer: S3 events from the queue into the table --------------------------------
        self.indexer = function(
            "Indexer",
            handler="indexer.handler",
            description="S3 object index: applies S3 event notifications to the index table",
            environment={
                "INDEX_TABLE_NAME": table.table_name,
                "OBJECT_BUCKET_NAME": data.bucket_name,  # records naming another bucket are refused
                "POWERTOOLS_SERVICE_NAME": METRICS_SERVICE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
            # As many as the event source may run at once, so the event source is never throttled;
            # derived from the configured target rate (see the pattern's page, "Throughput").
            reserved_concurrency=settings.indexer_concurrency,
            timeout=Duration.seconds(INDEXER_TIMEOUT_SECONDS),
        )
        indexer_role = self.indexer.role
        # Puts and updates inside TransactWriteItems are authorized as PutItem and UpdateItem;
        # the indexer never deletes (deletes write tombstones) and never queries.
        indexer_role.add_to_policy(
            iam.PolicyStatement(
                sid="IndexTableReadWriteItems",
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                resources=[table.table_arn],
            )
        )
        customer_objects = f"{data.bucket_arn}/{OBJECT_PREFIX}*"
        indexer_role.add_to_policy(
            iam.PolicyStatement(
                sid="HeadCustomerObjects",  # HeadObject is authorized as GetObject
                actions=["s3:GetObject"],
                resources=[customer_objects],
            )
        )
        indexer_role.add_to_policy(
            iam.PolicyStatement(
                sid="TellDeletedFromForbidden",  # without it, HeadObject of a deleted key is 403, not 404
                actions=["s3:ListBucket"],
                resources=[data.bucket_arn],
            )
        )
        acknowledge_nag(
            indexer_role,
            f"AwsSolutions-IAM5[Resource::{customer_objects}]",
            "The indexer reads the metadata of any object under the customers/ prefix; object "
            "ARNs cannot be listed in advance, and the prefix is the narrowest scope there is.",
        )
        # The event source grants what consuming the queue takes (receive, delete, change
        # visibility, and kms:Decrypt on the queue's key).
        self.indexer.function.add_event_source(
            event_sources.SqsEventSource(
                data.events,
                batch_size=INDEXER_BATCH_SIZE,
                max_batching_window=Duration.seconds(INDEXER_MAX_BATCHING_WINDOW_SECONDS),
                report_batch_item_failures=True,
                max_concurrency=settings.indexer_concurrency,
            )
        )

        # --- Reconcile function: repairs the index from a listing, after lost events ------------
        self.reconcile = function(
            "Reconcile",
            handler="reconcile.handler",
            description="S3 object index: repairs one customer's index entries from a listing of the bucket",
            environment={
                "INDEX_TABLE_NAME": table.table_name,
                "OBJECT_BUCKET_NAME": data.bucket_name,
                "POWERTOOLS_SERVICE_NAME": "object-index-reconcile",
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
            reserved_concurrency=settings.reconcile_reserved_concurrency,  # a customer or two at a time
            timeout=Duration.minutes(15),  # Lambda's longest; a walk that needs more hands back where to go on
        )
        reconcile_role = self.reconcile.role
        reconcile_role.add_to_policy(
            iam.PolicyStatement(
                sid="IndexTableRepairItems",  # the same writes as the indexer's, never a delete
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
                resources=[table.table_arn],  # the base table, queried by key; no index
            )
        )
        reconcile_role.add_to_policy(
            iam.PolicyStatement(
                sid="HeadCustomerObjects",
                actions=["s3:GetObject"],
                resources=[customer_objects],
            )
        )
        reconcile_role.add_to_policy(
            iam.PolicyStatement(
                sid="ListCustomerObjects",
                actions=["s3:ListBucket"],
                resources=[data.bucket_arn],
                conditions={"StringLike": {"s3:prefix": f"{OBJECT_PREFIX}*"}},
            )
        )
        acknowledge_nag(
            reconcile_role,
            f"AwsSolutions-IAM5[Resource::{customer_objects}]",
            "The reconcile function reads the metadata of any object under the customers/ prefix; "
            "object ARNs cannot be listed in advance, and the prefix is the narrowest scope there is.",
        )

        # --- Query function: the five access patterns ----------------------------------------
        pagination_key = data.pagination_key  # the HMAC key that signs page tokens
        self.query = function(
            "Query",
            handler="query_api.handler",
            description="S3 object index: answers the query API from the index table",
            environment={
                "INDEX_TABLE_NAME": table.table_name,
                "PAGINATION_KEY_SECRET_ID": pagination_key.secret_arn,
                "OPERATOR_ROLE_NAME": settings.operator_role_name,
                "CUSTOMER_ROLE_PREFIX": settings.customer_role_prefix,
                "POWERTOOLS_SERVICE_NAME": "object-index-query",
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
            reserved_concurrency=settings.query_reserved_concurrency,
            timeout=Duration.seconds(QUERY_TIMEOUT_SECONDS),
        )
        query_role = self.query.role
        query_role.add_to_policy(
            iam.PolicyStatement(
                sid="QueryIndexes",
                actions=["dynamodb:Query"],
                resources=[f"{table.table_arn}/index/{name}" for name in GLOBAL_SECONDARY_INDEXES],
            )
        )
        query_role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadTotals",
                actions=["dynamodb:GetItem"],
                resources=[table.table_arn],
            )
        )
        query_role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadPaginationKey",  # that one secret; kms:Decrypt comes with the function's key
                actions=["secretsmanager:GetSecretValue"],
                resources=[pagination_key.secret_arn],
            )
        )

        # --- REST API --------------------------------------------------------------------------
        account_logging = api_gateway_account_logging(self)
        self.access_logs = logs.LogGroup(self, "ApiAccessLogs", encryption_key=key)
        typing.cast(logs.CfnLogGroup, _cfn(self.access_logs)).retention_in_days = settings.log_retention_days
        exempt_control(
            self.access_logs,
            "CT.CLOUDWATCH.PR.3",
            "Encrypted with the data stack's customer-managed key; the rule does not resolve the "
            "Fn::GetStackOutput that carries that key's ARN and sees no key.",
        )
        rate = settings.api_rate_limit_per_second
        burst = settings.api_burst_limit
        self.api = apigateway.RestApi(
            self,
            "QueryApi",
            # The API's 5XX metric is per API name: a name of its own keeps other APIs out of the alarm.
            rest_api_name=f"{self.stack_name}-query",
            description="S3 object index: objects by customer, date, attribute and day; totals per customer",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            policy=self._caller_policy(
                operator_role_arn=data.operator_role_arn,
                customer_roles_arn=f"arn:{self.partition}:iam::{self.account}:role/{settings.customer_role_prefix}*",
            ),
            cloud_watch_role=False,  # the account's API Gateway logging role is set below, explicitly
            default_method_options=apigateway.MethodOptions(authorization_type=apigateway.AuthorizationType.IAM),
            deploy_options=apigateway.StageOptions(
                stage_name=STAGE_NAME,
                access_log_destination=apigateway.LogGroupLogDestination(self.access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # full request and response logging would log customer data
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=rate,
                throttling_burst_limit=burst,
                method_options={
                    # Four queries per page (one per day shard): a quarter of the rate and burst.
                    # Settings of one method replace the stage's, so logging and metrics repeat.
                    "/uploads/by-day/GET": apigateway.MethodDeploymentOptions(
                        throttling_rate_limit=rate / 4,
                        throttling_burst_limit=burst // 4,
                        logging_level=apigateway.MethodLoggingLevel.ERROR,
                        data_trace_enabled=False,
                        metrics_enabled=True,
                    )
                },
            ),
        )
        self.api.deployment_stage.node.add_dependency(account_logging)
        validator = self.api.add_request_validator(
            "Parameters",
            validate_request_parameters=True,
            validate_request_body=True,  # no method takes a body; a body without a model is not checked
        )
        integration = apigateway.LambdaIntegration(self.query.function, allow_test_invoke=False)

        def get(resource: apigateway.IResource, *, required: tuple[str, ...] = (), paged: bool = True) -> None:
            parameters = {f"method.request.querystring.{name}": True for name in required}
            if paged:
                parameters.update({f"method.request.querystring.{name}": False for name in ("limit", "next_token")})
            if "{customer_id}" in resource.path:
                parameters["method.request.path.customer_id"] = True
            method = resource.add_method(
                "GET",
                integration,
                authorization_type=apigateway.AuthorizationType.IAM,
                request_validator=validator,
                request_parameters=parameters,
            )
            acknowledge_nag(
                method,
                "AwsSolutions-COG4",
                "Callers are AWS principals authorized with IAM (SigV4), not end users of a "
                "Cognito user pool; this method requires IAM authorization.",
            )

        customer = self.api.root.add_resource("customers").add_resource("{customer_id}")
        objects = customer.add_resource("objects")
        get(objects)
        get(customer.add_resource("object"), required=("path",), paged=False)
        get(customer.add_resource("totals"), paged=False)
        get(objects.add_resource("by-attribute"), required=("name", "value"))
        get(objects.add_resource("by-date"), required=("start", "end"))
        get(self.api.root.add_resource("uploads").add_resource("by-day"), required=("date",))

        stage = _cfn(self.api.deployment_stage)
        acknowledge_nag(
            stage,
            "AwsSolutions-APIG3",
            "Every method requires SigV4-signed requests (IAM authorization), which API Gateway "
            "checks before any integration runs, and the stage is throttled; a web ACL would add "
            "per-request cost without a threat it stops for such an API.",
        )
        skip_checkov(
            stage,
            "CKV_AWS_120",
            "Pages change as objects are indexed and every response is specific to its caller's "
            "query; a stage cache would serve stale pages and bill an always-on cache cluster.",
        )
        for handler_function in (self.indexer, self.query, self.reconcile):
            cfn_function = _cfn(handler_function.function)
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

        # --- Alarms ----------------------------------------------------------------------------
        alarm_action = cloudwatch_actions.SnsAction(data.alarm_topic)

        def alarm(construct_id: str, description: str, metric: cloudwatch.Metric, threshold: float) -> None:
            created = cloudwatch.Alarm(
                self,
                construct_id,
                alarm_description=description,
                metric=metric,
                threshold=threshold,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            created.add_alarm_action(alarm_action)
            created.add_ok_action(alarm_action)

        one_minute = Duration.minutes(1)
        five_minutes = Duration.minutes(5)
        alarm(
            "DeadLettersAlarm",
            "S3 events the indexer could not apply after 5 attempts are in the dead-letter queue",
            data.dead_letters.metric_approximate_number_of_messages_visible(period=one_minute, statistic="Maximum"),
            0,
        )
        alarm(
            "OldestEventAlarm",
            f"An S3 event has waited more than {settings.oldest_event_alarm_minutes} minutes for the indexer",
            data.events.metric_approximate_age_of_oldest_message(period=one_minute, statistic="Maximum"),
            settings.oldest_event_alarm_minutes * 60,
        )
        retention_seconds = settings.event_retention_days * 86_400
        alarm(
            "EventsNearExpiryAlarm",
            f"An S3 event has used {EXPIRY_WARNING_FRACTION:.0%} of the {settings.event_retention_days}-day queue "
            "retention; add indexer capacity or fix the cause before events expire and index updates are lost",
            data.events.metric_approximate_age_of_oldest_message(period=one_minute, statistic="Maximum"),
            int(retention_seconds * EXPIRY_WARNING_FRACTION),
        )
        drain_seconds = int(retention_seconds * DRAIN_TIME_FRACTION)
        alarm(
            "BacklogDrainTimeAlarm",
            f"The event backlog needs more than {drain_seconds // 3600} hours to drain at the indexer's sustained "
            f"{settings.indexer_sustained_events_per_second} events/s",
            data.events.metric_approximate_number_of_messages_visible(period=five_minutes, statistic="Maximum"),
            settings.indexer_sustained_events_per_second * drain_seconds,
        )
        alarm(
            "UnindexableKeysAlarm",
            "S3 events for keys under customers/ outside the customers/{customer_id}/{path} layout were skipped",
            self._indexer_metric(UNINDEXABLE_KEY_METRIC, data.bucket_name, five_minutes),
            0,
        )
        alarm(
            "ForeignBucketAlarm",
            "The event queue received S3 event messages naming another bucket; none was applied",
            self._indexer_metric(FOREIGN_BUCKET_METRIC, data.bucket_name, five_minutes),
            0,
        )
        alarm(
            "IndexerErrorsAlarm",
            "The indexer failed whole invocations (timeouts, configuration), not single messages",
            self.indexer.function.metric_errors(period=five_minutes, statistic="Sum"),
            0,
        )
        alarm(
            "ReconcileErrorsAlarm",
            "A reconcile invocation failed; the customer's index may still hold what lost events left",
            self.reconcile.function.metric_errors(period=five_minutes, statistic="Sum"),
            0,
        )
        alarm(
            "QueryErrorsAlarm",
            "The query function failed invocations (timeouts, configuration)",
            self.query.function.metric_errors(period=five_minutes, statistic="Sum"),
            0,
        )
        alarm(
            "Api5xxAlarm",
            "The query API answered with server errors",
            self.api.metric_server_error(period=five_minutes, statistic="Sum"),
            0,
        )

        # API Gateway may invoke the query function only for this account's API: SourceAccount
        # next to the SourceArn the CDK writes (confused-deputy protection, and what AWS
        # Control Tower's CT.LAMBDA.PR.2 looks for).
        for construct in self.node.find_all():
            if isinstance(construct, lambda_.CfnPermission):
                construct.source_account = self.account
        for handler in (self.indexer, self.query, self.reconcile):
            exempt_control(
                handler.function,
                "CT.LAMBDA.PR.3",
                "Calls only AWS regional APIs (DynamoDB, SQS, S3, KMS, Secrets Manager) and reaches nothing "
                "inside a VPC; a VPC would add endpoints to pay for and no isolation.",
            )

    @staticmethod
    def _indexer_metric(name: str, bucket_name: str, period: Duration) -> cloudwatch.Metric:
        """A count the indexer publishes in the embedded metric format."""
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=name,
            dimensions_map={"service": METRICS_SERVICE, "bucket": bucket_name},
            statistic="Sum",
            period=period,
        )

    @staticmethod
    def _caller_policy(*, operator_role_arn: str, customer_roles_arn: str) -> iam.PolicyDocument:
        """The API's resource policy: a second fence around what the query function checks.

        Callers still need ``execute-api:Invoke`` in their own policies; this only denies. Every
        caller but the operator role and the customer roles is refused before the function
        runs, and the cross-customer route is the operator's alone. Which customer a customer
        role may read is checked by the function (the route's customer against the role name).
        """
        return iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="OnlyOperatorAndCustomerRoles",
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=["execute-api:Invoke"],
                    resources=["execute-api:/*"],
                    conditions={"ArnNotLike": {"aws:PrincipalArn": [operator_role_arn, customer_roles_arn]}},
                ),
                iam.PolicyStatement(
                    sid="AllCustomersForOperatorOnly",
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=["execute-api:Invoke"],
                    resources=["execute-api:/*/GET/uploads/*"],
                    conditions={"ArnNotEquals": {"aws:PrincipalArn": operator_role_arn}},
                ),
            ]
        )


def _cfn(construct: Construct) -> CfnResource:
    """The CloudFormation resource behind an L2 construct."""
    return typing.cast(CfnResource, construct.node.default_child)
