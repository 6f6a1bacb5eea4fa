"""The request the SCP evaluator decides: who calls which action on which resource, in
which account and region, with which condition keys."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

ContextValue = str | bool | int | float | Sequence[str]
"""A request context value: a scalar, or a list of strings for a multivalued key."""

ACCOUNT_ID_PATTERN = re.compile(r"[0-9]{12}")
_REQUEST_ARN_PATTERN = re.compile(r"arn:[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]*:[^:]*:.+", re.DOTALL)


@dataclass(frozen=True)
class Request:
    """One API call to evaluate.

    ``aws:PrincipalArn``, ``aws:RequestedRegion`` and ``aws:PrincipalAccount`` are
    derived from the fields; ``context`` adds other condition keys or overrides
    those three. An empty list in ``context`` stands for a missing key; a list (even
    of one value or none) marks the key as multivalued. ``resource`` is ``*`` for an
    action without a resource type, otherwise a concrete ARN.
    """

    principal_arn: str
    account_id: str
    action: str
    resource: str = "*"
    region: str = "us-east-1"
    context: Mapping[str, ContextValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not ACCOUNT_ID_PATTERN.fullmatch(self.account_id):
            raise ValueError(f"account id must be 12 digits, got {self.account_id!r}")
        if self.action.count(":") != 1 or "*" in self.action or "?" in self.action:
            raise ValueError(f"action must be a concrete 'service:Action', got {self.action!r}")
        if self.resource != "*" and not _REQUEST_ARN_PATTERN.fullmatch(self.resource):
            raise ValueError(
                f"resource must be '*' or an ARN 'arn:partition:service:region:account:resource', got {self.resource!r}"
            )
        lowered = [key.lower() for key in self.context]
        if len(set(lowered)) != len(lowered):
            raise ValueError("context keys must be unique ignoring case")
        for key, value in self.context.items():
            _context_values(key, value)
        object.__setattr__(self, "context", MappingProxyType(dict(self.context)))

    def is_multivalued(self, key: str) -> bool:
        """Whether the request gives ``key`` (compared ignoring case) as a list."""
        lowered = key.lower()
        return any(k.lower() == lowered and _is_list(v) for k, v in self.context.items())

    def condition_context(self) -> dict[str, tuple[str, ...]]:
        """All condition keys of the request, lower-cased, each with its values."""
        context: dict[str, tuple[str, ...]] = {
            "aws:principalarn": (self.principal_arn,),
            "aws:requestedregion": (self.region,),
            "aws:principalaccount": (self.account_id,),
        }
        for key, value in self.context.items():
            context[key.lower()] = _context_values(key, value)
        return context

    def variables(self) -> dict[str, str]:
        """The keys a policy variable can take its value from: every single-valued key,
        lower-cased. A key given as a list is multivalued and cannot be a variable."""
        return {
            key: values[0]
            for key, values in self.condition_context().items()
            if len(values) == 1 and not self.is_multivalued(key)
        }


def _is_list(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _context_values(key: str, value: object) -> tuple[str, ...]:
    if isinstance(value, bool):
        return ("true" if value else "false",)
    if isinstance(value, (str, int, float)):
        return (str(value),)
    if isinstance(value, Sequence) and all(isinstance(item, str) for item in value):
        return tuple(str(item) for item in value)
    raise ValueError(f"context value for {key!r} must be a scalar or a list of strings")
