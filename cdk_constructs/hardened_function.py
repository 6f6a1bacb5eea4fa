"""A Python Lambda function with secure defaults and nothing granted that it does not use."""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence

from aws_cdk import CfnResource, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag, exempt_control

# Files of a handler folder that are not part of the deployed code: the bytecode caches
# that running the tests leaves behind would otherwise change the asset between two synths.
_NOT_CODE = ["__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache"]


class HardenedFunction(Construct):
    """A Python Lambda function, its own IAM role and its own log group.

    Secure defaults:

    * a role of its own that may write only to the function's log group; no AWS managed
      policy (``AWSLambdaBasicExecutionRole`` would let it write to every log group in the
      account); anything else the function needs is added explicitly to ``role``;
    * a log group created with the function, with explicit retention, encrypted with
      ``key``, so logs neither live forever nor outlive their retention unencrypted;
    * environment variables encrypted with ``key`` (they must still never hold a secret:
      read secrets at run time);
    * reserved concurrency, so the function can neither exhaust the account's concurrency
      nor be starved by another function;
    * X-Ray active tracing; the X-Ray write actions support no resource-level permissions,
      which is the only wildcard resource the role gets (acknowledged here).

    ``function``, ``role`` and ``log_group`` are the underlying constructs.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code_path: str,
        handler: str,
        description: str,
        runtime: lambda_.Runtime,
        architecture: lambda_.Architecture,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        key: kms.IKey,
        log_retention_days: int,
        reserved_concurrency: int,
        timeout: Duration,
        memory_size: int = 256,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(self, "Logs", encryption_key=key)
        # The config gives days and validates them against what CloudWatch Logs accepts.
        typing.cast(logs.CfnLogGroup, self.log_group.node.default_child).retention_in_days = log_retention_days
        if Stack.of(key) is not Stack.of(self):
            exempt_control(
                self.log_group,
                "CT.CLOUDWATCH.PR.3",
                "Encrypted with the customer-managed key of another stack; the rule does not resolve the "
                "Fn::GetStackOutput that carries that key's ARN and sees no key.",
            )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of: {description}",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="OwnLogGroup",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.role.add_to_policy(
            # Lambda decrypts the environment with the role's rights. (No Sid: the statement
            # merges with other grants of the same action on the same key.)
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[key.key_arn],
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=runtime,
            architecture=architecture,
            handler=handler,
            code=lambda_.Code.from_asset(code_path, exclude=_NOT_CODE),
            layers=list(layers),
            environment=dict(environment),
            environment_encryption=key,
            role=self.role,
            log_group=self.log_group,
            reserved_concurrent_executions=reserved_concurrency,
            timeout=timeout,
            memory_size=memory_size,
            tracing=lambda_.Tracing.ACTIVE,
        )
        # The function must wait for the role's policy, not only for the role, which its GetAtt
        # already waits for: CDK's DependsOn lists both, and cfn-lint reports the role (W3005).
        policy = typing.cast(CfnResource, self.role.node.find_child("DefaultPolicy").node.default_child)
        typing.cast(CfnResource, self.function.node.default_child).add_override(
            "DependsOn", [Stack.of(self).get_logical_id(policy)]
        )
        acknowledge_nag(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level "
            "permissions; every other statement of this role names its resources.",
        )
