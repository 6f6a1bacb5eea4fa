"""Small pieces every part of the streaming pipeline uses: the rights to read the stream,
an encrypted log group, an enhanced fan-out consumer."""

from __future__ import annotations

import typing

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_constructs.gates import exempt_control

READ_STREAM_ACTIONS = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]


def cfn(construct: Construct) -> CfnResource:
    """The CloudFormation resource behind an L2 construct."""
    return typing.cast(CfnResource, construct.node.default_child)


def encrypted_log_group(scope: Construct, construct_id: str, *, key: kms.IKey, retention_days: int) -> logs.LogGroup:
    """A log group encrypted with the data stack's key, with the config's retention."""
    group = logs.LogGroup(scope, construct_id, encryption_key=key)
    typing.cast(logs.CfnLogGroup, cfn(group)).retention_in_days = retention_days
    if Stack.of(key) is not Stack.of(scope):
        exempt_control(
            group,
            "CT.CLOUDWATCH.PR.3",
            "Encrypted with the data stack's customer-managed key; the rule does not resolve the "
            "Fn::GetStackOutput that carries that key's ARN and sees no key.",
        )
    return group


def fan_out_consumer(scope: Construct, name: str, *, stream_arn: str) -> kinesis.CfnStreamConsumer:
    """An enhanced fan-out consumer registered on the stream (``<name>FanOut``): 2 MiB/s per
    shard of its own, pushed over HTTP/2."""
    return kinesis.CfnStreamConsumer(scope, f"{name}FanOut", consumer_name=name, stream_arn=stream_arn)
