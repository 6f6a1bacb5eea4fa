"""What every stack that makes AWS SDK calls through the CDK's ``AwsCustomResource`` shares:
the singleton provider function the CDK adds, and the findings it cannot fix."""

from __future__ import annotations

import typing

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

from cdk_constructs.gates import exempt_control, skip_checkov

# Construct id of the singleton function that aws-cdk-lib creates for AwsCustomResource.
PROVIDER_ID = "AWS679f53fac002430cb0da5b7982bd2287"


def harden_custom_resource_provider(stack: Stack, *, calls: str) -> IConstruct | None:
    """Accept, with reasons, what the CDK's provider function in ``stack`` cannot change;
    ``calls`` names the public APIs it calls (for the reasons). Returns the provider, for
    findings particular to the stack, or ``None`` when the stack has no SDK call.

    Call once, after the stack's last custom resource."""
    provider = stack.node.try_find_child(PROVIDER_ID)
    if provider is None:
        return None
    function = typing.cast(CfnResource, provider.node.find_child("Resource"))
    # The function's GetAtt on its role already orders the role, so a DependsOn on it is
    # redundant (cfn-lint W3005); the role's default policy is not referenced and keeps its
    # DependsOn, so the function never runs without its permissions.
    role = typing.cast(lambda_.Function, provider).role
    policy = role.node.try_find_child("DefaultPolicy") if role is not None else None
    if policy is None:
        function.add_deletion_override("DependsOn")
    else:
        policy_resource = typing.cast(CfnResource, policy.node.default_child)
        function.add_override("DependsOn", [stack.get_logical_id(policy_resource)])
    outside_vpc = f"Calls only public AWS APIs ({calls}) during deployments; there is nothing in a VPC to reach."
    reasons = {
        "CKV_AWS_115": "Runs only during deployments, once per custom resource; a concurrency cap adds nothing.",
        "CKV_AWS_116": "A failed call fails the CloudFormation deployment; a DLQ would hold nothing to act on.",
        "CKV_AWS_117": outside_vpc,
        "CKV_AWS_173": "The function has no environment variables with secrets; the CDK sets none.",
    }
    for check, reason in reasons.items():
        skip_checkov(function, check, reason)
    exempt_control(function, "CT.LAMBDA.PR.3", outside_vpc)
    log_group = provider.node.try_find_child("LogGroup")
    if log_group is not None:
        reason = "Holds only the provider's API call logs, no customer data; CloudWatch Logs encrypts it at rest."
        log_resource = typing.cast(CfnResource, log_group.node.default_child)
        skip_checkov(log_resource, "CKV_AWS_158", reason)
        exempt_control(log_resource, "CT.CLOUDWATCH.PR.3", reason)
    return provider
