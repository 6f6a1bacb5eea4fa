"""The deep half of a region's health: a scheduled probe of the database and the files,
and the CloudWatch alarm that Route 53 watches.

    EventBridge (every minute) ─► probe function (reserved concurrency of its own, no API route)
        ─► TCP connect to this region's database endpoint, HeadBucket on the files bucket
        ─► metric DrWorkload/RegionHealthy (1 or 0) ─► alarm ─► Route 53 health check
"""

from __future__ import annotations

import typing

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk_constructs.disaster_recovery.database import WorkloadDatabase
from cdk_constructs.disaster_recovery.plan import DATABASE_PORT, HEALTH_PROBE_RESERVED_CONCURRENCY
from cdk_constructs.disaster_recovery.service_function import HANDLER_CODE, allow_network_interfaces
from cdk_constructs.disaster_recovery.subnets import SharedSubnets
from cdk_constructs.gates import acknowledge_nag, exempt_control, skip_checkov
from cdk_constructs.hardened_function import HardenedFunction
from cdk_constructs.lambda_runtime import RUNTIME

# The probe's metric (lambdas/disaster_recovery/probe.py publishes it).
PROBE_NAMESPACE = "DrWorkload"
PROBE_METRIC = "RegionHealthy"
PROBE_PERIOD = Duration.minutes(1)  # EventBridge's finest rate, and a standard-resolution period


class HealthProbe:
    """Part (see the package docstring): the probe function, its schedule and its alarm.

    Secure defaults: the probe has no API route and no resource policy but EventBridge's for
    its own rule, so no caller can invoke it; it reserves concurrency of its own
    (``HEALTH_PROBE_RESERVED_CONCURRENCY``), so it neither starves nor is starved by the
    service function; it runs in the shared subnets with the service's security group
    (HTTPS out, PostgreSQL to the database); it may only list the files bucket and put
    metric data in its own namespace. The alarm goes off after ``failure_threshold``
    unhealthy minutes, and a missing data point (a run that failed) counts as unhealthy.
    ``function`` (the hardened function), ``schedule`` and ``alarm`` (L2s).
    """

    def __init__(
        self,
        scope: Construct,
        *,
        subnets: SharedSubnets,
        security_group: typing.Any,
        database: WorkloadDatabase | None,
        key: kms.IKey,
        files_bucket_name: str,
        log_retention_days: int,
        failure_threshold: int,
    ) -> None:
        stack = Stack.of(scope)
        environment = {
            "FILES_BUCKET": files_bucket_name,
            "DATABASE_PORT": str(DATABASE_PORT),
            "SERVICE_NAME": stack.stack_name,
        }
        if database is not None:
            environment["DATABASE_HOST"] = database.endpoint
        self.function = HardenedFunction(
            scope,
            "Probe",
            code_path=HANDLER_CODE,
            handler="probe.handler",
            description="DR sample workload: scheduled health probe of the database and the files",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            layers=[],
            environment=environment,
            key=key,
            log_retention_days=log_retention_days,
            reserved_concurrency=HEALTH_PROBE_RESERVED_CONCURRENCY,
            timeout=Duration.seconds(10),
            memory_size=128,
        )
        function = self.function.function
        cfn_function = typing.cast(lambda_.CfnFunction, function.node.default_child)
        cfn_function.vpc_config = lambda_.CfnFunction.VpcConfigProperty(
            subnet_ids=subnets.subnet_ids, security_group_ids=[security_group.attr_group_id]
        )
        self._grant(files_bucket_name)
        skip_checkov(
            cfn_function,
            "CKV_AWS_116",
            "Each run only publishes one data point; a failed run is a missing point, which the alarm counts "
            "as unhealthy, and the next run a minute later replaces it: a dead-letter queue would hold nothing "
            "worth replaying.",
        )
        exempt_control(
            function,
            "CT.LAMBDA.PR.3",
            "The probe is in the shared prod subnets; their ids come from the deploy-time subnet lookup "
            "(the network account owns them), which the rule cannot follow to a subnet of this template.",
        )
        self.schedule = events.Rule(
            scope,
            "ProbeSchedule",
            description="Runs the DR workload's health probe every minute",
            schedule=events.Schedule.rate(PROBE_PERIOD),
            targets=[targets.LambdaFunction(function, retry_attempts=0)],  # a late probe is a wrong probe
        )
        self.alarm = cloudwatch.Alarm(
            scope,
            "ProbeAlarm",
            alarm_description="The DR workload cannot reach its database or its files in this region",
            metric=cloudwatch.Metric(
                namespace=PROBE_NAMESPACE,
                metric_name=PROBE_METRIC,
                dimensions_map={"Service": stack.stack_name},
                statistic="Minimum",
                period=PROBE_PERIOD,
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=failure_threshold,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        exempt_control(
            self.alarm,
            "CT.CLOUDWATCH.PR.1",
            "The alarm's one reader is the Route 53 health check that watches its state and fails the region "
            "over; an action would not change the failover, and the runbook has operators watch the health checks.",
        )

    def _grant(self, files_bucket_name: str) -> None:
        """The shared subnets, HeadBucket on the files bucket, metric data in its namespace."""
        stack = Stack.of(self.function)
        role = self.function.role
        allow_network_interfaces(role)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="HeadFilesBucket",  # HeadBucket is authorized by s3:ListBucket
                actions=["s3:ListBucket"],
                resources=[f"arn:{stack.partition}:s3:::{files_bucket_name}"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PublishHealth",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": PROBE_NAMESPACE}},
            )
        )
        acknowledge_nag(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "CloudWatch PutMetricData supports no resource-level permissions; a condition limits it to the "
            "probe's own namespace. X-Ray's write actions likewise have no resource.",
        )
