"""What a gateway endpoint's policy lets through, read from its policy document.

A gateway endpoint (S3, DynamoDB) carries traffic straight from a spoke's route table to
the service, past the Transit Gateway and the firewall, so its policy is the only thing
that decides whose buckets and tables a spoke can reach that way. Without a policy AWS
allows everything through the endpoint ("full access").

Modelled shapes: ``Allow`` statements for every principal, with ``Resource: "*"`` and a
``StringEquals`` condition on ``aws:ResourceOrgID`` (the organization's own resources),
or with explicit resource ARNs and no condition (named AWS-owned buckets). Anything else
(a ``Deny``, ``NotAction``, another principal or condition) is an error: the analysis
reports a scope it has read, never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class PolicyShapeError(ValueError):
    """An endpoint policy whose shape the analysis does not model."""


@dataclass(frozen=True)
class EndpointScope:
    """Which resources an endpoint carries requests to."""

    unrestricted: bool = False
    organizations: tuple[str, ...] = ()  # resources owned by these organizations (every action)
    resources: tuple[str, ...] = ()  # these resource ARNs, for ``actions``
    actions: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        if self.unrestricted:
            return "any account's resources"
        parts = [f"only resources of {', '.join(self.organizations)}"] if self.organizations else []
        if self.resources:
            buckets = all(r.startswith("arn:aws:s3:::") for r in self.resources)
            kind = "named buckets" if buckets else "named resources"
            parts.append(f"{', '.join(self.actions)} in {len(self.resources)} {kind}")
        if parts and not self.organizations:
            parts[0] = f"only {parts[0]}"
        return " and ".join(parts) or "nothing"


def _strings(value: Any, what: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise PolicyShapeError(f"{what} must be text or a list of text (got {value!r})")
    return tuple(values)


def endpoint_scope(document: Mapping[str, Any] | None) -> EndpointScope:
    """The scope of an endpoint with policy ``document`` (``None``: no policy)."""
    if document is None:
        return EndpointScope(unrestricted=True)
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        raise PolicyShapeError(f"Statement must be a statement or a list of them (got {statements!r})")
    organizations: list[str] = []
    resources: list[str] = []
    actions: list[str] = []
    for index, statement in enumerate(statements):
        where = f"Statement[{index}]"
        if not isinstance(statement, Mapping):
            raise PolicyShapeError(f"{where} is not a statement")
        unknown = sorted(set(statement) - {"Sid", "Effect", "Principal", "Action", "Resource", "Condition"})
        if unknown or statement.get("Effect") != "Allow":
            raise PolicyShapeError(f"{where}: only Allow statements with Action and Resource are modelled")
        if statement.get("Principal") not in ("*", {"AWS": "*"}):
            raise PolicyShapeError(f"{where}: only statements for every principal are modelled")
        statement_actions = _strings(statement.get("Action"), f"{where}.Action")
        statement_resources = _strings(statement.get("Resource"), f"{where}.Resource")
        condition = statement.get("Condition")
        if condition is None:
            if "*" in statement_resources:
                return EndpointScope(unrestricted=True)
            resources += statement_resources
            actions += [a for a in statement_actions if a not in actions]
            continue
        if statement_resources != ("*",) or list(condition) != ["StringEquals"]:
            raise PolicyShapeError(
                f"{where}: only a StringEquals aws:ResourceOrgID condition on Resource * is modelled"
            )
        keys = condition["StringEquals"]
        if not isinstance(keys, Mapping) or list(keys) != ["aws:ResourceOrgID"]:
            raise PolicyShapeError(f"{where}: only the aws:ResourceOrgID condition key is modelled")
        organizations += _strings(keys["aws:ResourceOrgID"], f"{where}.Condition")
    return EndpointScope(
        organizations=tuple(dict.fromkeys(organizations)), resources=tuple(resources), actions=tuple(actions)
    )
