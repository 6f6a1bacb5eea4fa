"""A customer-managed KMS key with secure defaults."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class HardenedKey(Construct):
    """A symmetric KMS key for one purpose.

    Secure defaults:

    * automatic yearly rotation of the key material;
    * RETAIN on delete and replace (data encrypted under a deleted key is lost), and a
      30-day deletion window if someone schedules deletion by hand;
    * the default key policy: the owning account administers the key through IAM; no other
      principal can use it until :meth:`allow_service` grants a service principal narrow
      actions under conditions that tie the request to this organization;
    * nobody may create a grant on the key unless an AWS service creates it for one of its
      resources (``kms:GrantIsForAWSResource``: DynamoDB, Secrets Manager, Lambda...) or is
      itself the caller (``aws:PrincipalIsAWSService``): an administrator cannot hand the
      key to another principal with a grant, which no key policy would show.

    ``key`` is the underlying ``aws_kms.Key`` for anything this construct does not cover.
    """

    def __init__(self, scope: Construct, construct_id: str, *, alias: str, description: str) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            alias=alias,
            description=description,
            enable_key_rotation=True,
            pending_window=Duration.days(30),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.key.add_to_resource_policy(deny_grants_except_for_aws_resources())

    def allow_service(
        self,
        *,
        sid: str,
        service_principal: str,
        actions: Sequence[str],
        conditions: Mapping[str, Mapping[str, Any]],
    ) -> None:
        """Let an AWS service use the key, only under ``conditions`` (which must not be empty:
        a service principal without a source condition is a confused-deputy risk)."""
        if not conditions:
            raise ValueError(f"{sid}: a service grant on a key needs source conditions")
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.ServicePrincipal(service_principal)],
                actions=list(actions),
                resources=["*"],  # in a key policy "*" means this key
                conditions={op: dict(values) for op, values in conditions.items()},
            )
        )


DENY_GRANTS_SID = "DenyGrantsExceptForAwsResources"


def deny_grants_except_for_aws_resources() -> iam.PolicyStatement:
    """The key policy statement that limits kms:CreateGrant to AWS services.

    ``BoolIfExists`` with both keys ``false``: the deny applies to a direct call by any
    principal, and to neither an integrated service acting for a principal nor a service
    principal calling itself (the form AWS Control Tower's CT.KMS.PR.3 checks for).
    """
    return iam.PolicyStatement(
        sid=DENY_GRANTS_SID,
        effect=iam.Effect.DENY,
        principals=[iam.AnyPrincipal()],
        actions=["kms:CreateGrant"],
        resources=["*"],
        conditions={"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
    )
