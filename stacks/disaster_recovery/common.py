"""Pieces both workload stacks build the same way."""

from __future__ import annotations

from aws_cdk import Stack

from cdk_constructs.hardened_key import HardenedKey


def service_key(stack: Stack, *, alias: str) -> HardenedKey:
    """The key of the function's environment and of the log groups of this region's service."""
    key = HardenedKey(stack, "ServiceKey", alias=alias, description="Encrypts the DR workload's logs and settings")
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
