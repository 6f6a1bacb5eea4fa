"""Small templates that reproduce one wire each, the way the CDK writes it: a
``Custom::AWS`` call made by the provider function with its role and policy, a tagged
resource, a share, a trail."""

from __future__ import annotations

import json
from typing import Any

MANAGEMENT, NETWORK, AUDIT, WORKLOAD = "111111111111", "444444444444", "333333333333", "666666666666"
HOME, DR = "eu-west-1", "eu-central-1"
ORGANIZATION_ARN = f"arn:aws:organizations::{MANAGEMENT}:organization/o-exampleorg1"


def provider(statements: list[dict[str, Any]]) -> dict[str, Any]:
    """The provider function, its role and the role's default policy holding ``statements``."""
    return {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "RolePolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {"PolicyDocument": {"Statement": statements}, "Roles": [{"Ref": "Role"}]},
        },
        "Provider": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}},
            "DependsOn": ["RolePolicy"],
        },
    }


def allow(actions: list[str], resource: Any = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def call(
    service: str, action: str, parameters: dict[str, Any], *, region: str = HOME, depends_on: list[str] | None = None
) -> dict[str, Any]:
    body = json.dumps({"service": service, "action": action, "parameters": parameters, "region": region})
    resource: dict[str, Any] = {
        "Type": "Custom::AWS",
        "Properties": {"ServiceToken": {"Fn::GetAtt": ["Provider", "Arn"]}, "Create": body, "Update": body},
    }
    if depends_on is not None:
        resource["DependsOn"] = depends_on
    return resource


def template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


def tagged(resource_type: str, name: str, **properties: Any) -> dict[str, Any]:
    return {"Type": resource_type, "Properties": {**properties, "Tags": [{"Key": "Name", "Value": name}]}}


def organization_call(action: str, parameters: dict[str, str]) -> dict[str, Any]:
    return call("Organizations", action, parameters, region="us-east-1", depends_on=["RolePolicy"])
