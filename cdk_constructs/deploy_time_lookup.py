"""Deploy-time values from AWS API calls, for what CloudFormation cannot express.

Two uses in the network pattern, both through the CDK's ``AwsCustomResource``
(template type ``Custom::AWS``):

* **Lookups**: an id created by another template (the DR region's Transit Gateway, the
  peering attachment) or hidden inside a resource (a firewall endpoint per AZ, the
  Transit Gateway attachment a VPN connection creates). The call is a ``describe*``
  whose parameters are literals (a ``tag:Name`` filter with a name from
  ``org_config/names.py``) wherever the target can carry a tag, so its ``Create``
  property is a plain JSON string a reader, or an offline analysis, can follow to the
  tagged resource of the assembly. Nothing crosses templates through
  ``Fn::ImportValue``.
* **Actions** with no CloudFormation resource: accepting a Transit Gateway peering
  attachment, removing the default security group's rules.

Every such resource of a stack runs on one provider function with one role
(:func:`custom_resource_role`), so a lookup adds one resource to the template, not two.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk_constructs.custom_resource_provider import harden_custom_resource_provider
from cdk_constructs.gates import acknowledge_nag

_ROLE_ID = "DeployTimeCallsRole"
# Attribute of the role that holds the wildcard findings acknowledged on it already (per
# role object: two apps in one process have roles at the same construct path).
_ACKNOWLEDGED = "_network_acknowledged_findings"


def custom_resource_role(stack: Stack) -> iam.Role:
    """The one role of the stack's ``AwsCustomResource`` function (created on first use).

    Statements are added by each call that needs them, so the role holds exactly the
    actions the stack's custom resources make.
    """
    existing = stack.node.try_find_child(_ROLE_ID)
    if existing is not None:
        return typing.cast(iam.Role, existing)
    role = iam.Role(
        stack,
        _ROLE_ID,
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description="Deploy-time lookups and calls of this stack's custom resources",
        managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaBasicExecutionRole")],
    )
    acknowledge_nag(
        role,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "The provider function writes only its own logs; the CDK names its log group at deploy time.",
    )
    return role


def allow(stack: Stack, actions: Sequence[str], resources: Sequence[str], reason_for_wildcard: str) -> None:
    """Add a statement to the stack's custom-resource role. ``describe*`` calls support no
    resource-level permissions, so they need ``"*"``; a resource pattern ending in ``*``
    (any security group of the account) needs a reason too."""
    role = custom_resource_role(stack)
    role.add_to_principal_policy(iam.PolicyStatement(actions=list(actions), resources=list(resources)))
    for resource in resources:
        if "*" not in resource:
            continue
        finding = "AwsSolutions-IAM5[Resource::*]" if resource == "*" else f"AwsSolutions-IAM5[Resource::{resource}]"
        acknowledged: set[str] = getattr(role, _ACKNOWLEDGED, set())
        if finding not in acknowledged:
            setattr(role, _ACKNOWLEDGED, acknowledged | {finding})
            acknowledge_nag(role, finding, reason_for_wildcard)


def harden_provider(stack: Stack, *, calls: str = "EC2") -> None:
    """Accept, with reasons, what the CDK's shared provider function cannot change;
    ``calls`` names the APIs the stack's lookups use. Call once, after the stack's last
    custom resource."""
    provider = harden_custom_resource_provider(stack, calls=calls)
    if provider is not None:
        acknowledge_nag(
            provider,
            "AwsSolutions-L1",
            "The CDK pins the provider's Node.js runtime with each aws-cdk-lib release; upgrading the library "
            "updates it.",
        )


class DeployTimeCall(Construct):
    """One SDK call made when the stack is created (and repeated on update).

    ``value(path)`` is a field of the response; only ``output_paths`` are returned, which
    keeps the response under the 4 KB custom-resource limit. The call runs in ``region``
    (default: the stack's). ``delete`` is an optional call made when the resource is
    deleted; ``repeat_on_update=False`` for an action that must happen once (accepting an
    attachment twice fails).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service: str,
        action: str,
        parameters: Mapping[str, Any],
        physical_id: str,
        output_paths: Sequence[str] = (),
        region: str | None = None,
        ignore_errors: str | None = None,
        delete: cr.AwsSdkCall | None = None,
        repeat_on_update: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        call = cr.AwsSdkCall(
            service=service,
            action=action,
            parameters=dict(parameters),
            physical_resource_id=cr.PhysicalResourceId.of(physical_id),
            output_paths=list(output_paths) or None,
            region=region or stack.region,
            ignore_error_codes_matching=ignore_errors,
        )
        self.resource = cr.AwsCustomResource(
            self,
            "Call",
            on_create=call,
            on_update=call if repeat_on_update else None,
            on_delete=delete,
            role=custom_resource_role(stack),
            install_latest_aws_sdk=False,  # offline synth; the Lambda runtime's SDK has these calls
        )
        # The role must hold its permissions before the call runs. A dependency on the role
        # construct covers its default policy, which allow() may create only after this call
        # (CDK resolves construct dependencies at synth, over the construct's whole subtree).
        self.resource.node.add_dependency(custom_resource_role(stack))

    def value(self, path: str) -> str:
        return self.resource.get_response_field(path)


class TaggedLookup(DeployTimeCall):
    """The id of an EC2 resource found by its ``Name`` tag in ``region``.

    ``describe`` is the EC2 action (e.g. ``describeTransitGateways``), ``id_path`` the
    response field that holds the id (e.g. ``TransitGateways.0.TransitGatewayId``). The
    parameters are literals only, so the template's ``Create`` property is plain JSON.
    Extra literal ``filters`` narrow the search (e.g. ``state``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        describe: str,
        name: str,
        id_path: str,
        region: str,
        filters: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        all_filters = [{"Name": "tag:Name", "Values": [name]}] + [
            {"Name": key, "Values": list(values)} for key, values in (filters or {}).items()
        ]
        super().__init__(
            scope,
            construct_id,
            service="EC2",
            action=describe,
            parameters={"Filters": all_filters},
            physical_id=f"{describe}-{name}-{region}",
            output_paths=[id_path],
            region=region,
        )
        self.id = self.value(id_path)
        allow(
            Stack.of(self),
            [f"ec2:{describe[0].upper()}{describe[1:]}"],
            ["*"],
            "EC2 describe calls support no resource-level permissions; the calls only read.",
        )
