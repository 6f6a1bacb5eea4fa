"""The workload's function: in the shared subnets, reading the user files and its database."""

from __future__ import annotations

import typing
from pathlib import Path

from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk_constructs.disaster_recovery.database import WorkloadDatabase
from cdk_constructs.disaster_recovery.plan import DATABASE_PORT, FUNCTION_TIMEOUT_SECONDS, RegionPlan
from cdk_constructs.disaster_recovery.subnets import SharedSubnets
from cdk_constructs.gates import acknowledge_nag, exempt_control, skip_checkov
from cdk_constructs.hardened_function import HardenedFunction
from cdk_constructs.lambda_runtime import RUNTIME

HANDLER_CODE = str(Path(__file__).resolve().parents[2] / "lambdas" / "disaster_recovery")


class ServiceFunction:
    """Part (see the package docstring): the function behind the API, its security group
    and its ``live`` alias.

    Secure defaults: in the shared subnets with a security group that allows HTTPS out and
    PostgreSQL to the database's group only (and the database's group PostgreSQL in from
    this one only); reads only ``files/*`` of the files bucket and decrypts only with the
    key that carries the files key's alias; environment and logs encrypted with ``key``.
    ``reserved`` concurrency 0 keeps it defined but switched off (pilot light);
    provisioned concurrency keeps execution environments warm on the alias.
    ``security_group`` (L1), ``function`` (the hardened function), ``alias`` (L2).
    """

    def __init__(
        self,
        scope: Construct,
        *,
        plan: RegionPlan,
        subnets: SharedSubnets,
        database: WorkloadDatabase | None,
        key: kms.IKey,
        files_bucket_name: str,
        files_key_alias: str,
        memory_mb: int,
        log_retention_days: int,
    ) -> None:
        self.security_group = ec2.CfnSecurityGroup(
            scope,
            "FunctionSecurityGroup",
            vpc_id=subnets.vpc_id,
            group_description="DR workload function: HTTPS to AWS APIs and PostgreSQL to its database",
            security_group_egress=[
                ec2.CfnSecurityGroup.EgressProperty(
                    ip_protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_ip="0.0.0.0/0",
                    description="AWS APIs: S3 through the gateway endpoint, others through the Transit Gateway",
                )
            ],
        )
        environment = {"FILES_BUCKET": files_bucket_name, "DATABASE_PORT": str(DATABASE_PORT)}
        if database is not None:
            self._connect(scope, database)
            environment["DATABASE_HOST"] = database.endpoint
        self.function = HardenedFunction(
            scope,
            "Function",
            code_path=HANDLER_CODE,
            handler="service.handler",
            description="DR sample workload: health endpoint and user files",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            layers=[],
            environment=environment,
            key=key,
            log_retention_days=log_retention_days,
            reserved_concurrency=plan.reserved_concurrency,
            timeout=Duration.seconds(FUNCTION_TIMEOUT_SECONDS),
            memory_size=memory_mb,
        )
        function = self.function.function
        cfn_function = typing.cast(lambda_.CfnFunction, function.node.default_child)
        cfn_function.vpc_config = lambda_.CfnFunction.VpcConfigProperty(
            subnet_ids=subnets.subnet_ids, security_group_ids=[self.security_group.attr_group_id]
        )
        allow_network_interfaces(self.function.role)
        self._allow_user_files(files_bucket_name, files_key_alias)
        skip_checkov(
            cfn_function,
            "CKV_AWS_116",
            "Invoked synchronously by API Gateway; a dead-letter queue only receives failed asynchronous invocations.",
        )
        exempt_control(
            function,
            "CT.LAMBDA.PR.3",
            "The function is in the shared prod subnets; their ids come from the deploy-time subnet lookup "
            "(the network account owns them), which the rule cannot follow to a subnet of this template.",
        )
        self.alias = lambda_.Alias(
            scope,
            "Live",
            alias_name="live",
            version=function.current_version,
            provisioned_concurrent_executions=plan.provisioned_concurrency or None,
        )

    def _connect(self, scope: Construct, database: WorkloadDatabase) -> None:
        ec2.CfnSecurityGroupEgress(
            scope,
            "ToDatabase",
            group_id=self.security_group.attr_group_id,
            ip_protocol="tcp",
            from_port=DATABASE_PORT,
            to_port=DATABASE_PORT,
            destination_security_group_id=database.security_group.attr_group_id,
            description="PostgreSQL to the workload database",
        )
        ec2.CfnSecurityGroupIngress(
            database,
            "FromFunction",
            group_id=database.security_group.attr_group_id,
            ip_protocol="tcp",
            from_port=DATABASE_PORT,
            to_port=DATABASE_PORT,
            source_security_group_id=self.security_group.attr_group_id,
            description="PostgreSQL from the workload function",
        )

    def _allow_user_files(self, files_bucket_name: str, files_key_alias: str) -> None:
        role = self.function.role
        stack = Stack.of(role)
        user_files = f"arn:{stack.partition}:s3:::{files_bucket_name}/files/*"
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadUserFiles",
                actions=["s3:GetObject", "s3:ListBucket"],
                resources=[f"arn:{stack.partition}:s3:::{files_bucket_name}", user_files],
            )
        )
        region_keys = f"arn:{stack.partition}:kms:{stack.region}:{stack.account}:key/*"
        role.add_to_policy(
            iam.PolicyStatement(
                sid="DecryptUserFiles",
                actions=["kms:Decrypt"],
                resources=[region_keys],
                # The files key is named by its alias (from the config) in both regions.
                conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": files_key_alias}},
            )
        )
        acknowledge_nag(
            role,
            f"AwsSolutions-IAM5[Resource::{region_keys}]",
            "Limited by a condition to the one key with the files key's alias; the DR stack cannot know its id.",
        )
        acknowledge_nag(
            role,
            f"AwsSolutions-IAM5[Resource::{user_files}]",
            "The function reads any user file under files/; object names are not known in advance.",
        )


def allow_network_interfaces(role: iam.Role) -> None:
    """What Lambda needs, with the function's role, to run a function in the shared subnets."""
    stack = Stack.of(role)
    # Lambda manages the function's network interfaces with the function's role.
    ec2_arn = f"arn:{stack.partition}:ec2:{stack.region}"
    interface_resources = [
        f"{ec2_arn}:{stack.account}:network-interface/*",
        f"{ec2_arn}:*:subnet/*",  # the subnets belong to the network account
        f"{ec2_arn}:{stack.account}:security-group/*",
    ]
    role.add_to_policy(
        iam.PolicyStatement(
            sid="NetworkInterfaces",
            actions=[
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            resources=interface_resources,
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(sid="DescribeNetworkInterfaces", actions=["ec2:DescribeNetworkInterfaces"], resources=["*"])
    )
    for resource in interface_resources:
        acknowledge_nag(
            role,
            f"AwsSolutions-IAM5[Resource::{resource}]",
            "Lambda creates and deletes the function's network interfaces, whose ids no one knows in advance.",
        )
