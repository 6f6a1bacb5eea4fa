"""Values of the synthesized CloudFormation templates, resolved for the routing graph.

A property is resolved through ``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Select``/``Fn::Split``
and literals into text, a resource of the assembly (:class:`Key`) or a firewall endpoint.
An id created in another template arrives through a lookup custom resource
(``Custom::AWS``, an EC2 or Network Firewall ``describe*`` call filtered by ``tag:Name`` or
by name); it resolves to the one resource of the described type that carries that name in
the call's region, anywhere in the assembly. Anything else is a :class:`TemplateError`
naming the resource: the analysis never guesses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analysis.assembly import StackTemplate


class TemplateError(ValueError):
    """The templates use a shape the analysis does not model; the message names the resource."""


@dataclass(frozen=True, order=True)
class Key:
    """A resource of the assembly: its stack and logical id (``#vpn`` marks the implicit
    Transit Gateway attachment of a VPN connection)."""

    stack: str
    logical_id: str

    def __str__(self) -> str:
        return f"{self.stack}/{self.logical_id}"


@dataclass(frozen=True)
class Resource:
    key: Key
    type: str
    properties: Mapping[str, Any]
    region: str
    account: str

    @property
    def name(self) -> str:
        """The ``Name`` tag, or the logical id when there is none."""
        for tag in self.properties.get("Tags", ()):
            if isinstance(tag, Mapping) and tag.get("Key") == "Name" and isinstance(tag.get("Value"), str):
                return str(tag["Value"])
        return self.key.logical_id


_AZ = re.compile(r"\b([a-z]{2}(?:-[a-z]+)+-\d[a-z])\b")
_REF_MARK = "@ref@"
DX_ASSOCIATION = "AWS::DirectConnect::DirectConnectGatewayAssociation"
ENDPOINT_MARK = "@endpoint@"
# What a lookup custom resource's describe call returns, by action.
_DESCRIBED_TYPES: Mapping[str, tuple[str, ...]] = {
    "describeTransitGateways": ("AWS::EC2::TransitGateway",),
    "describeTransitGatewayPeeringAttachments": ("AWS::EC2::TransitGatewayPeeringAttachment",),
    "describeTransitGatewayAttachments": (
        "AWS::EC2::TransitGatewayPeeringAttachment",
        "AWS::EC2::TransitGatewayVpcAttachment",
        "AWS::EC2::TransitGatewayAttachment",
        "AWS::EC2::VPNConnection",
        "AWS::DirectConnect::DirectConnectGatewayAssociation",
    ),
    "describeTransitGatewayRouteTables": ("AWS::EC2::TransitGatewayRouteTable",),
    "describeVpcs": ("AWS::EC2::VPC",),
    "describeSubnets": ("AWS::EC2::Subnet",),
    "describeFirewall": ("AWS::NetworkFirewall::Firewall",),
}


@dataclass(frozen=True)
class Endpoint:
    """A resolved firewall endpoint id."""

    firewall: Key
    az: str


Resolved = str | Key | Endpoint | list["Resolved"]


class Resolver:
    def __init__(self, stacks: Sequence[StackTemplate]) -> None:
        self.resources: dict[Key, Resource] = {}
        for stack in stacks:
            for logical_id, resource in stack.template.get("Resources", {}).items():
                key = Key(stack.name, logical_id)
                self.resources[key] = Resource(
                    key, resource["Type"], resource.get("Properties", {}), stack.region, stack.account
                )

    def of_type(self, *types: str) -> list[Resource]:
        return sorted((r for r in self.resources.values() if r.type in types), key=lambda r: r.key)

    def resolve(self, value: Any, at: Resource) -> Resolved:
        """A property value as a literal string, a resource key, a firewall endpoint or a list."""
        if isinstance(value, str):
            return value
        if isinstance(value, int | float | bool):
            return str(value).lower() if isinstance(value, bool) else str(value)
        if isinstance(value, list):
            return [self.resolve(v, at) for v in value]
        if not isinstance(value, Mapping) or len(value) != 1:
            raise TemplateError(f"{at.key}: cannot resolve {value!r}")
        function, argument = next(iter(value.items()))
        if function == "Ref":
            return self._ref(str(argument), at)
        if function == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
            return self._get_att(Key(at.key.stack, logical_id), str(attribute), at)
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(self.text(p, at) for p in parts)
        if function == "Fn::Select":
            index, items = argument
            text = self.text(index, at)
            if not text.isdigit():
                raise TemplateError(f"{at.key}: Fn::Select index {text!r} is not a non-negative integer")
            return self._select(int(text), items, at)
        if function == "Fn::Split":
            separator, source = argument
            return list(self.text(source, at).split(str(separator)))
        if function == "Fn::ImportValue":
            raise TemplateError(f"{at.key}: Fn::ImportValue; cross-stack values must not travel through exports")
        raise TemplateError(f"{at.key}: unsupported intrinsic {function}")

    def text(self, value: Any, at: Resource) -> str:
        """A value rendered as text; a resource reference becomes a token a lookup can follow."""
        resolved = self.resolve(value, at)
        if isinstance(resolved, Key):
            return f"{_REF_MARK}{resolved.stack}/{resolved.logical_id}"
        if isinstance(resolved, Endpoint):
            return f"{ENDPOINT_MARK}{resolved.az}|{resolved.firewall.stack}/{resolved.firewall.logical_id}"
        if isinstance(resolved, str):
            return resolved
        raise TemplateError(f"{at.key}: expected text, got {resolved!r}")

    def key(self, value: Any, at: Resource, what: str) -> Key:
        resolved = self.resolve(value, at)
        if isinstance(resolved, str) and resolved.startswith(_REF_MARK):
            stack, logical_id = resolved.removeprefix(_REF_MARK).rsplit("/", 1)
            resolved = Key(stack, logical_id)
        if not isinstance(resolved, Key):
            raise TemplateError(f"{at.key}: {what} must reference a resource of the assembly (got {resolved!r})")
        return resolved

    def _ref(self, name: str, at: Resource) -> Resolved:
        pseudo = {
            "AWS::Region": at.region,
            "AWS::AccountId": at.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        key = Key(at.key.stack, name)
        if key not in self.resources:
            raise TemplateError(f"{at.key}: Ref to {name}, which is not a resource of {at.key.stack}")
        return key

    def _get_att(self, key: Key, attribute: str, at: Resource) -> Resolved:
        target = self.resources.get(key)
        if target is None:
            raise TemplateError(f"{at.key}: Fn::GetAtt on {key.logical_id}, which is not a resource of {key.stack}")
        if target.type == "Custom::AWS":
            return self._lookup(target, attribute)
        if attribute == "EndpointIds" and target.type == "AWS::NetworkFirewall::Firewall":
            # "az:vpce-id" per endpoint, taken in the order of the subnet mappings (AWS does
            # not promise an order: a lookup of the endpoint by AZ is the safer shape).
            return [f"{az}:{ENDPOINT_MARK}{az}|{key.stack}/{key.logical_id}" for az in self._firewall_azs(target)]
        if attribute in target.properties and isinstance(target.properties[attribute], str):
            return str(target.properties[attribute])  # e.g. a VPC's CidrBlock
        return key  # Id, TransitGatewayAttachmentId, ...: the resource itself

    def _select(self, index: int, items: Any, at: Resource) -> Resolved:
        resolved = self.resolve(items, at)
        if not isinstance(resolved, list) or not 0 <= index < len(resolved):
            raise TemplateError(f"{at.key}: Fn::Select index {index} out of range")
        return resolved[index]

    def _firewall_azs(self, firewall: Resource) -> list[str]:
        azs = []
        for mapping in firewall.properties.get("SubnetMappings", ()):
            subnet = self.resources[self.key(mapping["SubnetId"], firewall, "SubnetMappings.SubnetId")]
            azs.append(self.text(subnet.properties["AvailabilityZone"], subnet))
        return azs

    def _lookup(self, custom: Resource, attribute: str) -> Resolved:
        """Resolve ``Fn::GetAtt`` on an ``AwsCustomResource`` describe call: the one resource
        of the described type, in the call's region, that every filter of the call selects."""
        call = json.loads(self.text(custom.properties.get("Create") or custom.properties["Update"], custom))
        action = str(call.get("action", ""))
        region = str(call.get("region") or custom.region)
        types = _DESCRIBED_TYPES.get(action)
        if types is None:
            raise TemplateError(f"{custom.key}: lookup action {action!r} is not modelled")
        parameters: Mapping[str, Any] = call.get("parameters", {})
        filters = {str(f.get("Name")): [str(v) for v in f.get("Values", ())] for f in parameters.get("Filters", ())}
        if "FirewallName" in parameters:
            filters["firewall-name"] = [str(parameters["FirewallName"])]
        candidates = [r for r in self.of_type(*types) if region in _regions_seen_from(r)]
        found = [r for r in candidates if all(self._selects(r, name, values) for name, values in filters.items())]
        if len(found) != 1:
            raise TemplateError(
                f"{custom.key}: {action} with {filters} in {region} matches {len(found)} resources of the assembly"
            )
        target = found[0].key
        if found[0].type == "AWS::EC2::VPNConnection":
            return Key(target.stack, f"{target.logical_id}#vpn")
        if found[0].type == DX_ASSOCIATION:
            return Key(target.stack, f"{target.logical_id}#dx")
        if found[0].type == "AWS::NetworkFirewall::Firewall":
            text = f"{attribute} {json.dumps(call.get('physicalResourceId', ''))} {call.get('outputPaths', '')}"
            az = _AZ.search(text)
            if az is None:
                raise TemplateError(f"{custom.key}: firewall endpoint lookup names no Availability Zone")
            return Endpoint(target, az.group(1))
        return target

    def _selects(self, resource: Resource, name: str, values: Sequence[str]) -> bool:
        """Whether a describe filter ``name`` with ``values`` selects ``resource``."""
        mark = f"{_REF_MARK}{resource.key.stack}/{resource.key.logical_id}"
        properties = resource.properties
        if name == "tag:Name":
            return resource.name in values
        if name == "firewall-name":
            return properties.get("FirewallName") in values
        if name == "resource-id":
            literal = properties.get("DirectConnectGatewayId")
            return mark in values or (isinstance(literal, str) and literal in values)
        if name == "resource-type":
            kinds = {
                "AWS::EC2::VPNConnection": "vpn",
                DX_ASSOCIATION: "direct-connect-gateway",
                "AWS::EC2::TransitGatewayPeeringAttachment": "peering",
            }
            return kinds.get(resource.type, "vpc") in values
        if name == "transit-gateway-id":
            own = properties.get("TransitGatewayId", properties.get("AssociatedGatewayId"))
            return own is not None and self.text(own, resource) in values
        if name == "state":
            return True  # every resource of the assembly is taken as available
        raise TemplateError(f"{resource.key}: lookup filter {name!r} is not modelled")


def _regions_seen_from(resource: Resource) -> tuple[str, ...]:
    """Regions where a describe call finds the resource: a peering attachment is visible
    from both of its ends."""
    if resource.type == "AWS::EC2::TransitGatewayPeeringAttachment":
        return (resource.region, str(resource.properties.get("PeerRegion", resource.region)))
    return (resource.region,)
