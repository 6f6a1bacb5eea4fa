"""API Gateway's logging role: one setting per account and region, shared by every REST API."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam

from cdk_constructs.gates import acknowledge_nag


def api_gateway_account_logging(stack: Stack) -> apigateway.CfnAccount:
    """API Gateway writes access and execution logs with one role per account and region
    (``AWS::ApiGateway::Account``); this one may write only to this account's log groups
    in this region. (The feature flag ``disableCloudWatchRole`` stops the CDK from making
    its own, with an AWS managed policy.) Retained: other APIs of the account log through
    the same setting, so exactly one stack per account and region calls this."""
    log_groups = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
    role = iam.Role(
        stack,
        "ApiGatewayLoggingRole",
        assumed_by=iam.ServicePrincipal(
            "apigateway.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
        ),
        description="Lets API Gateway write execution and access logs in this account and region",
        inline_policies={
            "WriteLogs": iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(
                        actions=[
                            "logs:CreateLogGroup",
                            "logs:CreateLogStream",
                            "logs:DescribeLogGroups",
                            "logs:DescribeLogStreams",
                            "logs:PutLogEvents",
                            "logs:GetLogEvents",
                            "logs:FilterLogEvents",
                        ],
                        resources=[log_groups],
                    )
                ]
            )
        },
    )
    role.apply_removal_policy(RemovalPolicy.RETAIN)
    acknowledge_nag(
        role,
        f"AwsSolutions-IAM5[Resource::{log_groups}]",
        "API Gateway names its execution log groups itself and this role serves every REST API of "
        "the account in this region; it is limited to log groups of this account and region.",
    )
    account = apigateway.CfnAccount(stack, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
    account.apply_removal_policy(RemovalPolicy.RETAIN)
    return account
