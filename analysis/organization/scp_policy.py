"""Loading an SCP document into validated statements, and matching one statement against a
request. The rules of evaluation across an organization are in
:mod:`analysis.organization.scp_evaluator`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from analysis.organization import scp_variables
from analysis.organization.scp_conditions import Condition, Fail, load_conditions
from analysis.organization.scp_patterns import resource_pattern_problem, resource_regex, wildcard_match
from analysis.organization.scp_request import Request
from analysis.organization.scp_variables import Template, Variables

SCP_MAX_CHARACTERS = 5120
"""Largest SCP AWS Organizations accepts, counted on the minified document."""

Effect = Literal["Allow", "Deny"]

_POLICY_VERSIONS = frozenset({"2012-10-17", "2008-10-17"})
_VARIABLES_VERSION = "2012-10-17"
_POLICY_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset({"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"})
_ACTION_PATTERN = re.compile(r"\*|[A-Za-z0-9-]+:[A-Za-z0-9_*?-]+")
_RESOURCE_PART_COLONS = 5
"""A variable in a ``Resource`` ARN must come after the fifth colon (the resource part)."""


class PolicyError(ValueError):
    """A policy document is malformed or uses something this evaluator does not support."""

    def __init__(self, policy: str, problem: str, statement: str | None = None) -> None:
        where = f"policy {policy}" if statement is None else f"policy {policy}, statement {statement}"
        super().__init__(f"{where}: {problem}")
        self.policy = policy
        self.statement = statement
        self.problem = problem


@dataclass(frozen=True)
class Statement:
    """A validated SCP statement."""

    index: int
    """Zero-based position of the statement in the policy."""
    sid: str | None
    effect: Effect
    actions: tuple[str, ...]
    not_action: bool
    """True when ``actions`` came from ``NotAction``."""
    resources: tuple[str, ...]
    not_resource: bool
    """True when ``resources`` came from ``NotResource``."""
    conditions: tuple[Condition, ...] = ()
    policy: str = "policy"
    """Name of the policy the statement belongs to, for error messages."""
    resource_templates: tuple[Template, ...] = field(default=(), compare=False, repr=False)
    """``resources`` with their policy variables parsed; empty: read them as written."""

    @property
    def label(self) -> str:
        """The Sid, or ``#<index>`` for a statement without one."""
        return self.sid if self.sid is not None else f"#{self.index}"

    def matches(self, request: Request) -> bool:
        """Whether action, resource and every condition of this statement match. A policy
        variable that cannot be resolved makes the statement inapplicable: no match."""
        action_listed = any(wildcard_match(p, request.action, True) for p in self.actions)
        if action_listed == self.not_action:
            return False
        variables = request.variables()
        patterns = self._resource_patterns(variables)
        if patterns is None:
            return False
        resource_listed = any(resource_regex(p).fullmatch(request.resource) for p in patterns)
        if resource_listed == self.not_resource:
            return False
        context = request.condition_context()
        resolved = []
        for condition in self.conditions:
            if not condition.qualifier and condition.base_operator != "Null" and request.is_multivalued(condition.key):
                raise PolicyError(
                    self.policy,
                    f"{condition.operator} {condition.key}: the request gives this key as a list; "
                    "a multivalued key needs ForAnyValue: or ForAllValues:",
                    self.label,
                )
            values = condition.policy_values(variables)
            if values is None:
                return False
            resolved.append(values)
        return all(
            c.holds(context.get(c.key.lower()), values) for c, values in zip(self.conditions, resolved, strict=True)
        )

    def _resource_patterns(self, variables: Variables) -> list[str] | None:
        if not self.resource_templates:  # built directly, not loaded: the entries as written
            return [r.replace("\\", "\\\\") for r in self.resources]
        patterns = [template.pattern(variables) for template in self.resource_templates]
        return None if any(p is None for p in patterns) else [p for p in patterns if p is not None]


@dataclass(frozen=True)
class Policy:
    """A validated SCP: its name (as attached in the organization) and statements."""

    name: str
    statements: tuple[Statement, ...]
    document: Mapping[str, Any] = field(compare=False, repr=False)
    """The document as given, for size checks and reports."""


def load_policy(document: Mapping[str, Any] | str, name: str = "policy") -> Policy:
    """Validate an SCP document (a mapping or its JSON text) and return it as a Policy.

    Raises :class:`PolicyError` naming the policy and the statement at fault.
    """
    if isinstance(document, str):
        try:
            parsed: Any = json.loads(document)
        except json.JSONDecodeError as error:
            raise PolicyError(name, f"not valid JSON ({error})") from error
    else:
        parsed = document
    if not isinstance(parsed, Mapping):
        raise PolicyError(name, "the document must be a JSON object")
    unknown = sorted(str(key) for key in parsed if key not in _POLICY_KEYS)
    if unknown:
        raise PolicyError(name, f"unknown top-level element(s) {', '.join(unknown)}")
    version = parsed.get("Version")
    if version is not None and (not isinstance(version, str) or version not in _POLICY_VERSIONS):
        raise PolicyError(name, f"unsupported Version {version!r}")
    if "Id" in parsed and not isinstance(parsed["Id"], str):
        raise PolicyError(name, "Id must be a string")
    raw_statements = parsed.get("Statement")
    if isinstance(raw_statements, Mapping):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list) or not raw_statements:
        raise PolicyError(name, "Statement must be an object or a non-empty list of objects")
    variables_enabled = version == _VARIABLES_VERSION
    statements = tuple(_load_statement(name, index, raw, variables_enabled) for index, raw in enumerate(raw_statements))
    seen: set[str] = set()
    for statement in statements:
        if statement.sid is not None:
            if statement.sid in seen:
                raise PolicyError(name, "duplicate Sid", statement.sid)
            seen.add(statement.sid)
    return Policy(name=name, statements=statements, document=parsed)


def minified_size(document: Mapping[str, Any] | str) -> int:
    """Character count of the document minified, as AWS counts an SCP's size.

    JSON text is parsed first, so whitespace outside strings does not count.
    Compare the result with :data:`SCP_MAX_CHARACTERS`.
    """
    parsed: Any = json.loads(document) if isinstance(document, str) else document
    return len(json.dumps(parsed, separators=(",", ":"), ensure_ascii=False))


def _load_statement(policy: str, index: int, raw: Any, variables_enabled: bool) -> Statement:
    label = f"#{index}"
    if not isinstance(raw, Mapping):
        raise PolicyError(policy, "a statement must be a JSON object", label)
    sid = raw.get("Sid")
    if sid is not None:
        if not isinstance(sid, str) or not sid:
            raise PolicyError(policy, "Sid must be a non-empty string", label)
        label = sid

    def fail(problem: str) -> PolicyError:
        return PolicyError(policy, problem, label)

    for element in ("Principal", "NotPrincipal"):
        if element in raw:
            raise fail(f"{element} is not allowed in a service control policy")
    unknown = sorted(str(key) for key in raw if key not in _STATEMENT_KEYS)
    if unknown:
        raise fail(f"unknown element(s) {', '.join(unknown)}")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise fail(f"Effect must be 'Allow' or 'Deny', got {effect!r}")
    not_action, actions = _element(raw, "Action", fail)
    for action in actions:
        if not _ACTION_PATTERN.fullmatch(action):
            raise fail(f"{'NotAction' if not_action else 'Action'} entry {action!r} is not '*' or 'service:action'")
    not_resource, resources = _element(raw, "Resource", fail)
    templates = _resource_templates("NotResource" if not_resource else "Resource", resources, fail, variables_enabled)
    conditions = load_conditions(raw.get("Condition", {}), fail, variables_enabled=variables_enabled)
    return Statement(
        index=index,
        sid=sid,
        effect="Allow" if effect == "Allow" else "Deny",
        actions=actions,
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        conditions=conditions,
        policy=policy,
        resource_templates=templates,
    )


def _element(raw: Mapping[str, Any], name: str, fail: Fail) -> tuple[bool, tuple[str, ...]]:
    """``(negated, entries)`` of the ``name``/``Not<name>`` pair; exactly one is required."""
    if (name in raw) == (f"Not{name}" in raw):
        raise fail(f"exactly one of {name} and Not{name} is required")
    negated = f"Not{name}" in raw
    element = f"Not{name}" if negated else name
    value = raw[element]
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise fail(f"{element} must be a string or a non-empty list of strings")
    for item in items:
        if not isinstance(item, str) or not item:
            raise fail(f"{element} must contain only non-empty strings, got {item!r}")
    return negated, tuple(items)


def _resource_templates(
    element: str, resources: tuple[str, ...], fail: Fail, variables_enabled: bool
) -> tuple[Template, ...]:
    templates = []
    for resource in resources:
        try:
            template = scp_variables.parse(resource, variables_enabled=variables_enabled)
        except scp_variables.VariableError as error:
            raise fail(f"{element} entry {error}") from None
        if template.has_variables and resource[: resource.find("${")].count(":") < _RESOURCE_PART_COLONS:
            raise fail(
                f"{element} entry {resource!r}: a policy variable may stand only in the resource part "
                "of an ARN, after the fifth colon"
            )
        problem = resource_pattern_problem(template.skeleton())
        if problem:
            raise fail(f"{element} entry {resource!r}: {problem}")
        templates.append(template)
    return tuple(templates)
