"""The key of one region's service: its function's environment and its log groups."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from cdk_constructs.hardened_key import HardenedKey


def service_key(scope: Construct, *, alias: str) -> HardenedKey:
    """A hardened key (``ServiceKey``) that CloudWatch Logs may use only for log groups of
    this account and region (an encryption-context condition)."""
    stack = Stack.of(scope)
    key = HardenedKey(scope, "ServiceKey", alias=alias, description="Encrypts the DR workload's logs and settings")
    key.allow_service(
        sid="CloudWatchLogs",  # the function and API access log groups of this account and region
        service_principal=f"logs.{stack.region}.amazonaws.com",
        actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        conditions={
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": (
                    f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
                )
            }
        },
    )
    return key
