"""The organization stacks' SDK calls: the shared provider hardening plus what is particular to them."""

from __future__ import annotations

from aws_cdk import Stack

from cdk_constructs.custom_resource_provider import harden_custom_resource_provider as harden_provider_function
from cdk_constructs.gates import acknowledge_nag


def harden_custom_resource_provider(stack: Stack) -> None:
    """Accept, with reasons, what the CDK's shared AwsCustomResource function cannot change.

    Call once, after the stack's last AwsCustomResource."""
    provider = harden_provider_function(stack, calls="Organizations, GuardDuty, Security Hub")
    if provider is not None:
        acknowledge_nag(
            provider,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "The CDK's AwsCustomResource provider writes only its own logs with this AWS-managed policy.",
        )
