"""What a template says about order and calls: the resources each resource waits for
(``DependsOn``, ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``), and the SDK calls its custom
resources make at deploy time (``Custom::AWS``, the CDK's ``AwsCustomResource``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# What an intrinsic the gate cannot resolve renders as inside a text: a value known only
# at deploy time.
DEPLOY_TIME = "${deploy-time}"
_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def references(value: Any) -> set[str]:
    """Logical ids ``value`` refers to through ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub``."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str) and not inner.startswith("AWS::"):
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".", 1)[0]
                found.add(str(target))
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found |= {name for name in _SUB_NAME.findall(str(text)) if not name.startswith("AWS")}
                if isinstance(inner, list) and len(inner) > 1:
                    found |= references(inner[1])
            else:
                found |= references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner)
    return found


def direct_waits(resource: dict[str, Any]) -> set[str]:
    depends = resource.get("DependsOn", [])
    return set([depends] if isinstance(depends, str) else depends) | references(resource.get("Properties", {}))


def waits_for(template: dict[str, Any], logical_id: str) -> set[str]:
    """Every resource CloudFormation creates before ``logical_id`` (transitively)."""
    resources: dict[str, Any] = template.get("Resources", {})
    seen: set[str] = set()
    pending = list(direct_waits(resources.get(logical_id, {})))
    while pending:
        current = pending.pop()
        if current in seen or current not in resources:
            continue
        seen.add(current)
        pending.extend(direct_waits(resources[current]))
    return seen


def render(value: Any) -> Any:
    """``value`` with ``Fn::Join`` of texts joined and any other intrinsic replaced by
    :data:`DEPLOY_TIME`, so a call's parameters read as plain JSON."""
    if isinstance(value, dict):
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return str(separator).join(str(render(part)) for part in parts)
        if len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
            return DEPLOY_TIME
        return {key: render(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [render(inner) for inner in value]
    return value


@dataclass(frozen=True)
class SdkCall:
    """One deploy-time SDK call of a ``Custom::AWS`` resource."""

    logical_id: str
    phase: str  # Create, Update or Delete
    service: str  # as the CDK writes it: EC2, Route53, Organizations, ...
    action: str  # camelCase, as the SDK names it
    parameters: dict[str, Any]
    region: str

    @property
    def iam_action(self) -> str:
        return f"{iam_prefix(self.service)}:{self.action[0].upper()}{self.action[1:]}"


# SDK service names whose IAM prefix is not the name in lower case.
_IAM_PREFIXES = {"networkfirewall": "network-firewall", "cloudwatchlogs": "logs", "ssoadmin": "sso"}


def iam_prefix(service: str) -> str:
    name = service.lower().removeprefix("@aws-sdk/client-").replace("-", "")
    return _IAM_PREFIXES.get(name, name)


def sdk_calls(template: dict[str, Any], default_region: str) -> list[SdkCall]:
    calls: list[SdkCall] = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "Custom::AWS":
            continue
        for phase in ("Create", "Update", "Delete"):
            body = resource.get("Properties", {}).get(phase)
            if body is None:
                continue
            text = render(body)
            call = json.loads(text) if isinstance(text, str) else text
            calls.append(
                SdkCall(
                    logical_id,
                    phase,
                    str(call["service"]),
                    str(call["action"]),
                    dict(call.get("parameters") or {}),
                    str(call.get("region") or default_region),
                )
            )
    return calls


def tag_value(resource: dict[str, Any], key: str) -> str | None:
    for tag in resource.get("Properties", {}).get("Tags", []) or []:
        if isinstance(tag, dict) and tag.get("Key") == key and isinstance(tag.get("Value"), str):
            return str(tag["Value"])
    return None
