"""The deployability gate: would a first deploy of the assembly succeed, in the order the
manifest gives?

For every stack it traces four kinds of wire and reports each one that is broken, naming
the stack, the logical id and what is missing:

- **order**: the manifest's stack dependencies have no cycle;
- **values needed at deploy time**: a deploy-time lookup (by Name tag, CIDR block or DNS
  name), an ``Fn::GetStackOutput``, or a name another stack creates (bucket, KMS alias,
  role, log group, event bus) is produced by exactly one stack, in the account and region
  queried, that the manifest orders first (or by a resource of the same stack that
  CloudFormation creates first);
- **permissions**: every deploy-time SDK call (``Custom::AWS``) is allowed by a policy of
  the calling role that CloudFormation attaches before the call, judged against the IAM
  action database (:mod:`analysis.deployment.permissions`);
- **organization prerequisites**: trusted access, RAM sharing with the organization,
  delegated administrators and policy types are done by a resource ordered before the one
  that needs them; the steps that stay manual (the Identity Center instance, the CDK
  bootstrap) are listed with their command on ``docs/deployment.md``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from analysis.assembly import StackTemplate
from analysis.deployment.manifest import direct_dependencies, ordered_before
from analysis.deployment.permissions import needed_actions as actions_needed
from analysis.deployment.permissions import resource_arn_formats, role_grants
from analysis.deployment.plan import CycleError, waves
from analysis.deployment.prerequisites import BOOTSTRAP, MANUAL, resource_needs, resource_provides
from analysis.deployment.template_graph import (
    DEPLOY_TIME,
    SdkCall,
    references,
    render,
    sdk_calls,
    tag_value,
    waits_for,
)

DEPLOYMENT_PAGE = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"

# Deploy-time lookups: the describe call, the resource type it finds, and how each filter
# reads on that resource's template properties.
LOOKUPS: dict[str, str] = {
    "ec2:DescribeTransitGateways": "AWS::EC2::TransitGateway",
    "ec2:DescribeTransitGatewayRouteTables": "AWS::EC2::TransitGatewayRouteTable",
    "ec2:DescribeTransitGatewayPeeringAttachments": "AWS::EC2::TransitGatewayPeeringAttachment",
    "ec2:DescribeVpcs": "AWS::EC2::VPC",
    "ec2:DescribeSubnets": "AWS::EC2::Subnet",
    "ec2:DescribeRouteTables": "AWS::EC2::RouteTable",
    "route53:ListHostedZonesByName": "AWS::Route53::HostedZone",
}
GLOBAL_TYPES = {"AWS::Route53::HostedZone", "AWS::IAM::Role", "AWS::S3::Bucket"}
# Named resources another stack may refer to by a name derived from the config.
NAMED: dict[str, str] = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Events::EventBus": "Name",
    "AWS::Backup::BackupVault": "BackupVaultName",
}
# The name in an ARN of each of those types (account and region in their usual places).
ARN_NAMES: dict[str, re.Pattern[str]] = {
    "AWS::S3::Bucket": re.compile(r"^arn:aws:s3:::([^/]+)"),
    "AWS::KMS::Alias": re.compile(r"^arn:aws:kms:[^:]*:\d{12}:(alias/.+)$"),
    "AWS::IAM::Role": re.compile(r"^arn:aws:iam::\d{12}:role/(?:.*/)?([^/]+)$"),
    "AWS::Logs::LogGroup": re.compile(r"^arn:aws:logs:[^:]*:\d{12}:log-group:([^:*]+)"),
    "AWS::Events::EventBus": re.compile(r"^arn:aws:events:[^:]*:\d{12}:event-bus/(.+)$"),
    "AWS::Backup::BackupVault": re.compile(r"^arn:aws:backup:[^:]*:\d{12}:backup-vault:(.+)$"),
}
# Where a name is only written down (a policy may name what does not exist yet).
_NOT_NEEDED_AT_DEPLOY_TIME = {"PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument", "Policies", "Statement"}

Broken = tuple[str, str]  # (stack, message)


class _Assembly:
    def __init__(self, stacks: Sequence[StackTemplate]) -> None:
        self.stacks = [s for s in stacks if not s.environment_agnostic]
        self.by_name = {s.name: s for s in self.stacks}
        self.dependencies = direct_dependencies(self.stacks)
        self.before = ordered_before(self.dependencies)

    def reached(self, consumer: StackTemplate, consumer_id: str, producer: StackTemplate, producer_id: str) -> bool:
        """Is ``producer_id`` of ``producer`` created before ``consumer_id`` needs it?"""
        if producer.name == consumer.name:
            return producer_id in waits_for(consumer.template, consumer_id)
        return producer.name in self.before.get(consumer.name, frozenset())


def check(stacks: Sequence[StackTemplate], *, page: Path = DEPLOYMENT_PAGE) -> list[Broken]:
    """Every broken wire of the assembly, as (stack, message)."""
    assembly = _Assembly(stacks)
    broken: list[Broken] = []
    try:
        waves(assembly.dependencies)
    except CycleError as cycle:
        broken += [(name, f"in a stack dependency cycle with {', '.join(cycle.stacks)}") for name in cycle.stacks]
    page_text = page.read_text(encoding="utf-8") if page.exists() else ""
    for stack in assembly.stacks:
        broken += [(stack.name, m) for m in _lookups(assembly, stack)]
        broken += [(stack.name, m) for m in _stack_outputs(assembly, stack)]
        broken += [(stack.name, m) for m in _names(assembly, stack)]
        broken += [(stack.name, m) for m in _prerequisites(assembly, stack, page_text)]
        broken += [(stack.name, m) for m in _certificates(assembly, stack)]
    for stack in stacks:  # the StackSet body's calls too
        broken += [(stack.name, m) for m in _permissions(stack)]
    return broken


# --- values needed at deploy time -------------------------------------------------------


def _filters(call: SdkCall) -> dict[str, list[str]]:
    if call.iam_action == "route53:ListHostedZonesByName":
        return {"dns-name": [str(call.parameters.get("DNSName", "")).rstrip(".")]}
    return {str(f.get("Name")): [str(v) for v in f.get("Values", [])] for f in call.parameters.get("Filters", [])}


def _matches(resource: dict[str, Any], criterion: str, value: str) -> bool:
    props = resource.get("Properties", {})
    if criterion.startswith("tag:"):
        return tag_value(resource, criterion.removeprefix("tag:")) == value
    if criterion == "cidr-block":
        return bool(props.get("CidrBlock") == value)
    if criterion == "dns-name":
        return str(props.get("Name", "")).rstrip(".") == value
    return True


def _lookups(assembly: _Assembly, stack: StackTemplate) -> list[str]:
    messages: list[str] = []
    for call in sdk_calls(stack.template, stack.region):
        resource_type = LOOKUPS.get(call.iam_action)
        if call.phase != "Create" or resource_type is None:
            continue
        filters = _filters(call)
        criteria = {k: v for k, v in filters.items() if k.startswith("tag:") or k in ("cidr-block", "dns-name")}
        if not criteria or any(DEPLOY_TIME in v for values in criteria.values() for v in values):
            continue  # found by an id this stack creates: a Ref orders it already
        account = filters.get("owner-id", [stack.account])[0]
        for criterion, values in criteria.items():
            for value in values:
                where = "" if resource_type in GLOBAL_TYPES else f"/{call.region}"
                wanted = f"{resource_type} with {criterion} {value!r} in {account}{where}"
                producers = [
                    (producer, logical_id)
                    for producer in assembly.stacks
                    if producer.account == account and (resource_type in GLOBAL_TYPES or producer.region == call.region)
                    for logical_id, resource in producer.template.get("Resources", {}).items()
                    if resource.get("Type") == resource_type and _matches(resource, criterion, value)
                ]
                messages += _one_producer(assembly, stack, call.logical_id, wanted, producers, "looks up")
    return messages


def _one_producer(
    assembly: _Assembly,
    stack: StackTemplate,
    logical_id: str,
    wanted: str,
    producers: list[tuple[StackTemplate, str]],
    verb: str,
) -> list[str]:
    if not producers:
        return [f"{logical_id} {verb} {wanted}, which no stack creates"]
    if len(producers) > 1:
        where = ", ".join(f"{p.name}/{lid}" for p, lid in producers)
        return [f"{logical_id} {verb} {wanted}, which {len(producers)} resources create: {where}"]
    producer, producer_id = producers[0]
    if assembly.reached(stack, logical_id, producer, producer_id):
        return []
    wire = "a DependsOn on it" if producer.name == stack.name else f"a stack dependency on {producer.name}"
    return [f"{logical_id} {verb} {wanted} ({producer.name}/{producer_id}) without {wire}"]


def _walk(value: Any, found: list[Any], key: str = "") -> None:
    if key in _NOT_NEEDED_AT_DEPLOY_TIME:
        return
    if isinstance(value, dict):
        if "Fn::GetStackOutput" in value:
            found.append(value["Fn::GetStackOutput"])
            return
        for inner_key, inner in value.items():
            _walk(inner, found, inner_key)
    elif isinstance(value, list):
        for inner in value:
            _walk(inner, found, key)
    else:
        found.append(value)


def _leaves(stack: StackTemplate) -> list[tuple[str, Any]]:
    leaves: list[tuple[str, Any]] = []
    for logical_id, resource in stack.template.get("Resources", {}).items():
        found: list[Any] = []
        _walk(resource.get("Properties", {}), found)
        leaves += [(logical_id, leaf) for leaf in found]
    return leaves


def _stack_outputs(assembly: _Assembly, stack: StackTemplate) -> list[str]:
    messages: list[str] = []
    for logical_id, leaf in _leaves(stack):
        if not isinstance(leaf, dict):
            continue
        name, output = str(leaf.get("StackName")), str(leaf.get("OutputName"))
        region = str(leaf.get("Region", stack.region))
        role = str(leaf.get("RoleArn", ""))
        account = role.split(":")[4] if role.count(":") >= 5 else stack.account
        wanted = f"output {output} of stack {name} in {account}/{region}"
        producer = assembly.by_name.get(name)
        if producer is None or (producer.account, producer.region) != (account, region):
            messages.append(f"{logical_id} reads {wanted}, which no stack of the assembly deploys there")
        elif output not in producer.template.get("Outputs", {}):
            messages.append(f"{logical_id} reads {wanted}, which that stack does not export")
        else:
            messages += _one_producer(assembly, stack, logical_id, wanted, [(producer, output)], "reads")
    return messages


def _arn_scope(text: str) -> tuple[str | None, str | None]:
    """(account, region) named by an ARN, ``None`` where the ARN leaves them empty."""
    if not text.startswith("arn:"):
        return None, None
    parts = text.split(":")
    if len(parts) < 6:
        return None, None
    return parts[4] or None, parts[3] or None


def _project(stack: StackTemplate) -> str | None:
    """The project's name prefix, from the ``Project`` tag every stack carries."""
    for resource in stack.template.get("Resources", {}).values():
        value = tag_value(resource, "Project")
        if value:
            return value
    return None


def _names(assembly: _Assembly, stack: StackTemplate) -> list[str]:
    """A name derived from the config that a resource needs at deploy time (in an ARN, or a
    bucket name) is created by exactly one stack ordered first (or, in the same stack, by a
    resource CloudFormation creates first); one of the project's names that no stack
    creates is a broken wire too. (Within a stack a name is often only passed on, to a
    function's environment, say, which needs nothing created: the same stack's resources
    count as producers but are not held to an order.)"""
    produced: list[tuple[str, StackTemplate, str, str]] = []  # (name, stack, logical id, type)
    for producer in assembly.stacks:
        for logical_id, resource in producer.template.get("Resources", {}).items():
            name = resource.get("Properties", {}).get(NAMED.get(resource.get("Type", ""), ""), None)
            if isinstance(name, str) and len(name) >= 8:
                produced.append((name, producer, logical_id, resource["Type"]))
    prefix = _project(stack)
    messages: list[str] = []
    seen: set[str] = set()
    for logical_id, leaf in _leaves(stack):
        text = render(leaf)
        if not isinstance(text, str) or f"{logical_id} {text}" in seen:
            continue
        seen.add(f"{logical_id} {text}")
        account, region = _arn_scope(text)
        matches = [
            (producer, producer_id, name, kind)
            for name, producer, producer_id, kind in produced
            if re.search(rf"(^|[:/]){re.escape(name)}($|[:/*])", text)
            and (account is None or account == producer.account)
            and (region is None or kind in GLOBAL_TYPES or region == producer.region)
            and (text.startswith("arn:") or kind == "AWS::S3::Bucket")
        ]
        if any(producer.name == stack.name for producer, _, _, _ in matches):
            continue
        if matches:
            kind = matches[0][3]
            wanted = f"{kind} {matches[0][2]!r}"
            found = [(p, pid) for p, pid, _, _ in matches]
            messages += _one_producer(assembly, stack, logical_id, wanted, found, "uses")
            continue
        for kind, pattern in ARN_NAMES.items():
            named = pattern.match(text)
            name = named.group(1) if named else ""
            owned = prefix is not None and name.removeprefix("alias/").startswith((f"{prefix}-", f"{prefix}/"))
            if owned and DEPLOY_TIME not in text and "*" not in name:
                where = f"{account}" + ("" if kind in GLOBAL_TYPES or region is None else f"/{region}")
                messages.append(f"{logical_id} uses {kind} {name!r} in {where}, which no stack creates")
    return messages


def _certificates(assembly: _Assembly, stack: StackTemplate) -> list[str]:
    """A DNS-validated certificate completes only when its validation records resolve: in
    a hosted zone created in the same deployment, that needs the parent zone to delegate
    to it (an NS record set of the zone's name), or CloudFormation waits until it times out."""
    resources: dict[str, Any] = stack.template.get("Resources", {})
    delegated = {
        str(resource.get("Properties", {}).get("Name", "")).rstrip(".")
        for other in assembly.stacks
        for resource in other.template.get("Resources", {}).values()
        if resource.get("Type") == "AWS::Route53::RecordSet" and resource.get("Properties", {}).get("Type") == "NS"
    }
    messages: list[str] = []
    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        if resource.get("Type") != "AWS::CertificateManager::Certificate" or props.get("ValidationMethod") != "DNS":
            continue
        for option in props.get("DomainValidationOptions", []):
            for zone_id in references(option.get("HostedZoneId")):
                zone = resources.get(zone_id, {})
                name = str(zone.get("Properties", {}).get("Name", "")).rstrip(".")
                if zone.get("Type") == "AWS::Route53::HostedZone" and name not in delegated:
                    messages.append(
                        f"{logical_id} is validated by DNS in hosted zone {zone_id} ({name}), created in the same "
                        "deployment, which no record delegates to: validation cannot complete"
                    )
    return messages


# --- permissions ------------------------------------------------------------------------


def _calling_role(template: dict[str, Any], logical_id: str) -> str | None:
    resources: dict[str, Any] = template.get("Resources", {})
    token = resources[logical_id].get("Properties", {}).get("ServiceToken", {})
    function = token.get("Fn::GetAtt", [None])[0] if isinstance(token, dict) else None
    role = resources.get(function or "", {}).get("Properties", {}).get("Role", {})
    return role.get("Fn::GetAtt", [None])[0] if isinstance(role, dict) else None


def _permissions(stack: StackTemplate) -> list[str]:
    messages: list[str] = []
    checked: set[tuple[str, str]] = set()
    for call in sdk_calls(stack.template, stack.region):
        if (call.logical_id, call.iam_action) in checked:
            continue  # the update repeats the create
        checked.add((call.logical_id, call.iam_action))
        role = _calling_role(stack.template, call.logical_id)
        if role is None:
            messages.append(f"{call.logical_id} makes {call.iam_action} with a role the template does not hold")
            continue
        grants = role_grants(stack.template, role)
        before = waits_for(stack.template, call.logical_id) | {role}
        for action in actions_needed(call.iam_action):
            if resource_arn_formats(action) is None:
                messages.append(f"{call.logical_id} makes {action}, unknown to the IAM action database")
                continue
            allowing = [grant for grant in grants if grant.allows(action)]
            if not allowing:
                messages.append(f"{call.logical_id} needs {action}, which no policy of {role} allows")
            elif not any(grant.policy in before for grant in allowing):
                policies = ", ".join(sorted({grant.policy for grant in allowing}))
                messages.append(f"{call.logical_id} may run before {policies} allows {action}")
    return messages


# --- organization prerequisites ---------------------------------------------------------


def _prerequisites(assembly: _Assembly, stack: StackTemplate, page: str) -> list[str]:
    messages: list[str] = []
    if MANUAL[BOOTSTRAP].command not in page:
        messages.append(f"needs the CDK bootstrap of {stack.account}/{stack.region}; the deployment page lacks it")
    providers = {s.name: resource_provides(s) for s in assembly.stacks}
    for need in resource_needs(stack):
        if need.kind in MANUAL:
            if MANUAL[need.kind].command not in page:
                messages.append(
                    f"{need.logical_id} needs {need.kind} ({need.why}); the deployment page does not list its "
                    f"command `{MANUAL[need.kind].command}`"
                )
            continue
        found = [(assembly.by_name[name], by[need.key]) for name, by in providers.items() if need.key in by]
        if not found:
            messages.append(f"{need.logical_id} needs {need.kind} {need.subject} ({need.why}), which no stack does")
        elif not any(assembly.reached(stack, need.logical_id, p, pid) for p, pid in found):
            done_by = ", ".join(f"{p.name}/{pid}" for p, pid in found)
            messages.append(
                f"{need.logical_id} needs {need.kind} {need.subject} ({need.why}), done by {done_by}, "
                "without being ordered after it"
            )
    return messages
