"""What every stack that makes AWS SDK calls through the CDK's AwsCustomResource shares."""

from __future__ import annotations

import typing

from aws_cdk import CfnResource, Stack

from cdk_constructs.gates import acknowledge_nag, exempt_control, skip_checkov

# Construct id of the singleton function that aws-cdk-lib creates for AwsCustomResource.
PROVIDER_ID = "AWS679f53fac002430cb0da5b7982bd2287"


def harden_custom_resource_provider(stack: Stack) -> None:
    """Accept, with reasons, what the CDK's shared AwsCustomResource function cannot change.

    Call once, after the stack's last AwsCustomResource."""
    provider = stack.node.find_child(PROVIDER_ID)
    function = provider.node.find_child("Resource")
    # The function's GetAtt on its role already orders them; the explicit DependsOn the
    # CDK adds on its only dependency, the role, is redundant (cfn-lint W3005).
    typing.cast(CfnResource, function).add_deletion_override("DependsOn")
    reasons = {
        "CKV_AWS_115": "Runs only during deployments, once per custom resource; a concurrency cap adds nothing.",
        "CKV_AWS_116": "A failed call fails the CloudFormation deployment; a DLQ would hold nothing to act on.",
        "CKV_AWS_117": "Calls only public AWS service APIs; there is nothing in a VPC to reach.",
        "CKV_AWS_173": "The function has no environment variables with secrets; the CDK sets none.",
    }
    for check, reason in reasons.items():
        skip_checkov(typing.cast(CfnResource, function), check, reason)
    exempt_control(function, "CT.LAMBDA.PR.3", reasons["CKV_AWS_117"])
    acknowledge_nag(
        provider,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "The CDK's AwsCustomResource provider writes only its own logs with this AWS-managed policy.",
    )
    log_group = provider.node.try_find_child("LogGroup")
    if log_group is not None:
        reason = "Holds only the provider's API call logs, no customer data; CloudWatch Logs encrypts it at rest."
        skip_checkov(typing.cast(CfnResource, log_group.node.default_child), "CKV_AWS_158", reason)
        exempt_control(log_group, "CT.CLOUDWATCH.PR.3", reason)
