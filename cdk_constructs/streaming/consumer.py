"""The Lambda consumer: the function that applies stream records to the events table and
the event source mapping that feeds it."""

from __future__ import annotations

from pathlib import Path

import jsii
from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs.gates import exempt_control, skip_checkov
from cdk_constructs.hardened_function import HardenedFunction
from cdk_constructs.lambda_runtime import ARCHITECTURE, RUNTIME, powertools_layer_arn
from cdk_constructs.streaming.names import EVENT_TTL_DAYS
from cdk_constructs.streaming.shared import READ_STREAM_ACTIONS, cfn, fan_out_consumer
from org_config.streaming import Streaming

HANDLER_CODE = str(Path(__file__).resolve().parents[2] / "lambdas" / "streaming")


class StreamConsumer:
    """The consumer function (``Consumer``) and its event source mapping (``ConsumerEventSource``).

    Secure defaults:

    * a :class:`HardenedFunction` whose role may only put items into the events table
      (conditional ``PutItem``: never update, delete or read), send to the on-failure
      queue, use the data key and read the stream (through its own enhanced fan-out
      consumer when ``settings.lambda_consumer`` asks for one);
    * ``parallelization_factor`` batches per shard, and reserved concurrency
      ``reserved_concurrency``: the most batches the event source ever runs at once, so the
      function is never throttled and never starves other functions;
    * the event source starts at the trim horizon (nothing the stream holds is skipped),
      bisects a failed batch, retries a bounded number of times, gives records up below the
      stream's retention and reports single failed records; what it gives up on goes to
      the on-failure queue.

    ``function`` (the :class:`HardenedFunction`), ``fan_out`` (None for a classic reader)
    and ``event_source`` are the constructs.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        settings: Streaming,
        stream: kinesis.IStream,
        events_table: dynamodb.ITable,
        on_failure: sqs.IQueue,
        key: kms.IKey,
        parallelization_factor: int,
        reserved_concurrency: int,
    ) -> None:
        stack = Stack.of(scope)
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            scope, "Powertools", powertools_layer_arn(stack.partition, stack.region)
        )
        self.function = HardenedFunction(
            scope,
            "Consumer",
            code_path=HANDLER_CODE,
            handler="consumer.handler",
            description="Streaming pipeline: applies stream records to the events table, once each",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            layers=[powertools],
            environment={
                "EVENTS_TABLE_NAME": events_table.table_name,
                "ON_FAILURE_QUEUE_URL": on_failure.queue_url,
                "MAXIMUM_RECORD_AGE_SECONDS": str(settings.maximum_record_age_seconds),
                "EVENT_TTL_DAYS": str(EVENT_TTL_DAYS),
                "POWERTOOLS_SERVICE_NAME": "stream-consumer",
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
            key=key,
            log_retention_days=settings.log_retention_days,
            reserved_concurrency=reserved_concurrency,
            timeout=Duration.seconds(settings.consumer_timeout_seconds),
        )
        role = self.function.role
        _grant_rights(role, events_table=events_table, on_failure=on_failure, key=key, stream=stream)
        source_arn = stream.stream_arn
        self.fan_out: kinesis.CfnStreamConsumer | None = None
        if settings.lambda_consumer == "enhanced-fan-out":
            self.fan_out = fan_out_consumer(scope, "lambda-consumer", stream_arn=stream.stream_arn)
            source_arn = self.fan_out.attr_consumer_arn
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="ReadThroughFanOut",
                    actions=["kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer"],
                    resources=[self.fan_out.attr_consumer_arn],
                )
            )
        self.event_source = lambda_.EventSourceMapping(
            scope,
            "ConsumerEventSource",
            target=self.function.function,
            event_source_arn=source_arn,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,  # nothing the stream holds is skipped
            batch_size=settings.batch_size,
            max_batching_window=Duration.seconds(settings.batching_window_seconds),
            parallelization_factor=parallelization_factor,  # derived by the sizing from the write latency
            bisect_batch_on_error=True,  # a failed invocation is split until the bad record is alone
            retry_attempts=settings.maximum_retry_attempts,
            # Below the retention (the config checks it): records are given up, not lost unseen.
            max_record_age=Duration.seconds(settings.maximum_record_age_seconds),
            report_batch_item_failures=True,
            on_failure=_OnFailureQueue(on_failure.queue_arn),
        )
        # The mapping must wait for the role's policy: Lambda checks the rights when it is created.
        self.event_source.node.add_dependency(role)
        self._record_gate_decisions()

    def _record_gate_decisions(self) -> None:
        """The checks a stream consumer cannot meet, with the reasons."""
        function = cfn(self.function.function)
        skip_checkov(
            function,
            "CKV_AWS_116",
            "Invoked synchronously by the Kinesis event source, which has its own on-failure "
            "destination (the on-failure queue); a function dead-letter queue only receives "
            "failed asynchronous invocations.",
        )
        exempt_control(
            self.function.function,
            "CT.LAMBDA.PR.3",
            "Calls only AWS regional APIs (Kinesis, DynamoDB, SQS, KMS) and reaches nothing inside a "
            "VPC; a VPC would add endpoints to pay for and no isolation.",
        )
        skip_checkov(
            function,
            "CKV_AWS_117",
            "The function reaches only Kinesis, DynamoDB and SQS through their public endpoints "
            "with IAM; it has no network resource to reach in a VPC.",
        )


def _grant_rights(
    role: iam.Role, *, events_table: dynamodb.ITable, on_failure: sqs.IQueue, key: kms.IKey, stream: kinesis.IStream
) -> None:
    """What the handler and its event source use, nothing more."""
    role.add_to_policy(
        iam.PolicyStatement(
            sid="WriteEventsOnce",  # conditional PutItem only: never update, delete or read
            actions=["dynamodb:PutItem"],
            resources=[events_table.table_arn],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="ParkRecords",  # over-age records; the event source sends its own with this right too
            actions=["sqs:SendMessage"],
            resources=[on_failure.queue_arn],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="UseDataKey",  # read the stream, write the table and the queue
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[key.key_arn],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(sid="ReadStream", actions=READ_STREAM_ACTIONS, resources=[stream.stream_arn])
    )


@jsii.implements(lambda_.IEventSourceDlq)
class _OnFailureQueue:
    """The on-failure destination of the event source, without the grant CDK's ``SqsDlq``
    adds (it allows ``kms:GenerateDataKey*`` and ``kms:ReEncrypt*``); the function's role
    already has ``sqs:SendMessage`` on the queue and the two KMS actions the queue needs."""

    def __init__(self, queue_arn: str) -> None:
        self.queue_arn = queue_arn

    def bind(
        self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction
    ) -> lambda_.DlqDestinationConfig:
        return lambda_.DlqDestinationConfig(destination=self.queue_arn)
