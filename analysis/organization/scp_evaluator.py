"""Offline evaluator for AWS Organizations service control policies (SCPs).

The evaluator answers one question without calling AWS: would the SCPs of an
organization let this principal, in this account, perform this action on this
resource? It is meant for tests that feed it the SCPs found in synthesized
CloudFormation templates, and for generating documentation about guardrails.
SCPs never grant permissions; an ``allowed`` decision only means the SCPs do not
block the request (identity and resource policies still have to allow it).

Evaluation follows the documented AWS rules:

1. The management account is never restricted by SCPs, and neither are
   service-linked roles (principal ARNs containing ``:role/aws-service-role/``).
2. The policies that apply to an account are those attached to the root, to every
   OU on the path from the root to the account, and to the account itself. Each of
   these targets is a *level*.
3. An explicit ``Deny`` in any applicable statement, at any level, wins.
4. Otherwise every level must have at least one ``Allow`` statement that matches
   the request. A level without a matching ``Allow`` (including a level with no
   policy attached at all) is an implicit deny. This is why ``FullAWSAccess`` is
   normally attached to every target.

A statement matches when its action, resource and condition parts all match:

* ``Action``/``NotAction`` entries are ``service:name`` patterns compared
  case-insensitively; ``*`` matches any run of characters and ``?`` exactly one.
  ``NotAction`` matches a request whose action matches none of its entries.
* ``Resource``/``NotResource`` entries are ``*`` or ARN patterns matched segment by
  segment, as :func:`_resource_regex` describes; a statement must have exactly one
  of the two elements. A request whose resource is ``"*"`` (an action without a
  resource type) is covered only by the pattern ``*``.
* ``Condition``: every operator block must hold, every key inside a block must
  hold, and several policy values for one key are alternatives (any may match).
  Condition keys are case-insensitive; values are case-sensitive except for the
  ``...IgnoreCase`` operators and ``Bool``.

Supported condition operators are the ``String*``, ``Arn*``, ``Numeric*``,
``Bool`` and ``Null`` families, each (except ``Null``) with an optional
``IfExists`` suffix and an optional ``ForAnyValue:``/``ForAllValues:`` prefix.
``ArnEquals`` and ``ArnLike`` behave alike: the six colon-separated parts of the
ARN are compared one by one, each part with wildcards (the last part, the
resource, may itself contain colons), as the IAM User Guide's condition operator
page describes them; unlike in the ``Resource`` element, no ``*`` there reaches
past its part. Date, IP address and binary operators are not supported and are
reported as errors.

When a condition key is missing from the request (absent, or an empty list):

* ``Null: {key: "true"}`` holds, ``Null: {key: "false"}`` does not;
* an operator with the ``IfExists`` suffix holds;
* ``ForAllValues:`` holds and ``ForAnyValue:`` does not;
* a negated operator (``StringNotEquals``, ``StringNotEqualsIgnoreCase``,
  ``StringNotLike``, ``ArnNotEquals``, ``ArnNotLike``, ``NumericNotEquals``)
  holds: AWS evaluates a negated operator on an absent key as true;
* any other operator does not hold.

A request value that is not a number never satisfies a ``Numeric*`` operator
(negated or not), and a value that is not ``true``/``false`` never satisfies
``Bool``. A multivalued key needs a set operator (``ForAnyValue:`` or
``ForAllValues:``), as the IAM User Guide says in "Single-valued vs. multivalued
context keys" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html):
a plain operator on ``aws:TagKeys`` or ``aws:PrincipalServiceNamesList`` (the
multivalued global keys that page names) is a load error, and a plain operator on
any key the request gives as a list raises :class:`PolicyError` when evaluated.

The request context holds ``aws:PrincipalArn``, ``aws:RequestedRegion`` and
``aws:PrincipalAccount`` (the request's account id), plus any key given in
``Request.context``, which takes precedence over those three.

A malformed or unsupported policy never yields an allow: :func:`load_policy`
raises :class:`PolicyError` for an unknown top-level or statement element, a
``Principal``/``NotPrincipal`` element (not allowed in SCPs), a missing or
invalid ``Effect``, both or neither of ``Action``/``NotAction``, both or neither
of ``Resource``/``NotResource``, a resource pattern the IAM documentation rules out
(see :func:`_resource_pattern_problem`), an unknown operator, a value of the wrong JSON
type, a non-numeric ``Numeric*`` value, a duplicate ``Sid`` and any policy
variable (``${...}``), which this evaluator does not resolve.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "SCP_MAX_CHARACTERS",
    "Condition",
    "ContextValue",
    "Decision",
    "OrgNode",
    "Organization",
    "Policy",
    "PolicyError",
    "Request",
    "Statement",
    "evaluate",
    "load_policy",
    "minified_size",
]

SCP_MAX_CHARACTERS = 5120
"""Largest SCP AWS Organizations accepts, counted on the minified document."""

ContextValue = str | bool | int | float | Sequence[str]
"""A request context value: a scalar, or a list of strings for a multivalued key."""

Effect = Literal["Allow", "Deny"]
TargetKind = Literal["root", "ou", "account"]
SetQualifier = Literal["", "ForAnyValue", "ForAllValues"]

_POLICY_VERSIONS = frozenset({"2012-10-17", "2008-10-17"})
_POLICY_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset({"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"})
_ACTION_PATTERN = re.compile(r"\*|[A-Za-z0-9-]+:[A-Za-z0-9_*?-]+")
_NUMBER_PATTERN = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_ACCOUNT_ID_PATTERN = re.compile(r"[0-9]{12}")
_SERVICE_PATTERN = re.compile(r"[a-z0-9-]+")
_REQUEST_ARN_PATTERN = re.compile(r"arn:[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]*:[^:]*:.+", re.DOTALL)
_MULTIVALUED_GLOBAL_KEYS = frozenset({"aws:tagkeys", "aws:principalservicenameslist"})
"""Global keys the IAM User Guide names as multivalued (lower-cased)."""
_SERVICE_LINKED_ROLE_MARKER = ":role/aws-service-role/"
_IF_EXISTS = "IfExists"

_Fail = Callable[[str], "PolicyError"]
"""Builds the error for a problem found in the statement being loaded."""


class PolicyError(ValueError):
    """A policy document is malformed or uses something this evaluator does not support."""

    def __init__(self, policy: str, problem: str, statement: str | None = None) -> None:
        where = f"policy {policy}" if statement is None else f"policy {policy}, statement {statement}"
        super().__init__(f"{where}: {problem}")
        self.policy = policy
        self.statement = statement
        self.problem = problem


# --------------------------------------------------------------------------- operators


@dataclass(frozen=True)
class _Operator:
    family: Literal["string", "string_ignore_case", "like", "arn", "numeric", "bool", "null"]
    negated: bool = False
    compare: Literal["eq", "lt", "le", "gt", "ge"] = "eq"


_OPERATORS: Mapping[str, _Operator] = MappingProxyType(
    {
        "StringEquals": _Operator("string"),
        "StringNotEquals": _Operator("string", negated=True),
        "StringEqualsIgnoreCase": _Operator("string_ignore_case"),
        "StringNotEqualsIgnoreCase": _Operator("string_ignore_case", negated=True),
        "StringLike": _Operator("like"),
        "StringNotLike": _Operator("like", negated=True),
        "ArnEquals": _Operator("arn"),
        "ArnNotEquals": _Operator("arn", negated=True),
        "ArnLike": _Operator("arn"),
        "ArnNotLike": _Operator("arn", negated=True),
        "NumericEquals": _Operator("numeric"),
        "NumericNotEquals": _Operator("numeric", negated=True),
        "NumericLessThan": _Operator("numeric", compare="lt"),
        "NumericLessThanEquals": _Operator("numeric", compare="le"),
        "NumericGreaterThan": _Operator("numeric", compare="gt"),
        "NumericGreaterThanEquals": _Operator("numeric", compare="ge"),
        "Bool": _Operator("bool"),
        "Null": _Operator("null"),
    }
)


# --------------------------------------------------------------------------- policy model


@dataclass(frozen=True)
class Condition:
    """One key under one operator of a statement's ``Condition`` block."""

    operator: str
    """The operator as written, e.g. ``ForAnyValue:StringLikeIfExists``."""
    base_operator: str
    """The operator without set prefix and ``IfExists`` suffix, e.g. ``StringLike``."""
    qualifier: SetQualifier
    if_exists: bool
    key: str
    """The condition key as written; it is compared case-insensitively."""
    values: tuple[str, ...]
    """The policy values as strings (JSON booleans and numbers are converted)."""

    def holds(self, request_values: Sequence[str] | None) -> bool:
        """Whether the condition holds for the request's values of this key.

        ``None`` or an empty sequence means the key is missing from the request.
        Several values need a set qualifier; under a plain operator they raise
        ``ValueError`` (:meth:`Statement.matches` reports it as a :class:`PolicyError`).
        """
        operator = _OPERATORS[self.base_operator]
        present = bool(request_values)
        if operator.family == "null":
            return any((value == "true") != present for value in self.values)
        if not request_values:
            if self.if_exists or self.qualifier == "ForAllValues":
                return True
            if self.qualifier == "ForAnyValue":
                return False
            return operator.negated
        results = [_value_satisfies(operator, value, self.values) for value in request_values]
        if self.qualifier == "ForAllValues":
            return all(results)
        if self.qualifier == "ForAnyValue":
            return any(results)
        if len(results) > 1:
            raise ValueError(f"{self.operator} {self.key}: several request values need ForAnyValue: or ForAllValues:")
        return results[0]


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

    @property
    def label(self) -> str:
        """The Sid, or ``#<index>`` for a statement without one."""
        return self.sid if self.sid is not None else f"#{self.index}"

    def matches(self, request: Request) -> bool:
        """Whether action, resource and every condition of this statement match."""
        action_listed = any(_wildcard_match(p, request.action, True) for p in self.actions)
        if action_listed == self.not_action:
            return False
        resource_listed = any(_resource_regex(p).fullmatch(request.resource) for p in self.resources)
        if resource_listed == self.not_resource:
            return False
        context = request.condition_context()
        for condition in self.conditions:
            if not condition.qualifier and condition.base_operator != "Null" and request.is_multivalued(condition.key):
                raise PolicyError(
                    self.policy,
                    f"{condition.operator} {condition.key}: the request gives this key as a list; "
                    "a multivalued key needs ForAnyValue: or ForAllValues:",
                    self.label,
                )
        return all(c.holds(context.get(c.key.lower())) for c in self.conditions)


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
    if version is not None and version not in _POLICY_VERSIONS:
        raise PolicyError(name, f"unsupported Version {version!r}")
    if "Id" in parsed and not isinstance(parsed["Id"], str):
        raise PolicyError(name, "Id must be a string")
    raw_statements = parsed.get("Statement")
    if isinstance(raw_statements, Mapping):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list) or not raw_statements:
        raise PolicyError(name, "Statement must be an object or a non-empty list of objects")
    statements = tuple(_load_statement(name, index, raw) for index, raw in enumerate(raw_statements))
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


def _load_statement(policy: str, index: int, raw: Any) -> Statement:
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

    if ("Action" in raw) == ("NotAction" in raw):
        raise fail("exactly one of Action and NotAction is required")
    not_action = "NotAction" in raw
    action_element = "NotAction" if not_action else "Action"
    actions = _string_list(raw[action_element], action_element, fail)
    for action in actions:
        if not _ACTION_PATTERN.fullmatch(action):
            raise fail(f"{action_element} entry {action!r} is not '*' or 'service:action'")

    if ("Resource" in raw) == ("NotResource" in raw):
        raise fail("exactly one of Resource and NotResource is required")
    not_resource = "NotResource" in raw
    resource_element = "NotResource" if not_resource else "Resource"
    resources = _string_list(raw[resource_element], resource_element, fail)
    for resource in resources:
        if "${" in resource:
            raise fail(f"policy variables are not supported (resource {resource!r})")
        problem = _resource_pattern_problem(resource)
        if problem:
            raise fail(f"{resource_element} entry {resource!r}: {problem}")

    conditions = _load_conditions(raw.get("Condition", {}), fail)
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
    )


def _string_list(value: Any, element: str, fail: _Fail) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise fail(f"{element} must be a string or a non-empty list of strings")
    for item in items:
        if not isinstance(item, str) or not item:
            raise fail(f"{element} must contain only non-empty strings, got {item!r}")
    return tuple(items)


def _load_conditions(block: Any, fail: _Fail) -> tuple[Condition, ...]:
    if not isinstance(block, Mapping):
        raise fail("Condition must be an object")
    conditions: list[Condition] = []
    for operator, keys in block.items():
        qualifier, base, if_exists = _parse_operator(operator, fail)
        if not isinstance(keys, Mapping) or not keys:
            raise fail(f"{operator} must map condition keys to values")
        for key, raw_values in keys.items():
            if not isinstance(key, str) or not key:
                raise fail(f"{operator} has an empty or non-string condition key")
            if "${" in key:
                raise fail(f"policy variables are not supported (key {key!r})")
            if not qualifier and base != "Null" and key.lower() in _MULTIVALUED_GLOBAL_KEYS:
                raise fail(f"{operator} {key}: a multivalued key needs ForAnyValue: or ForAllValues:")
            values = _condition_values(operator, key, raw_values, fail)
            _check_values(base, operator, key, values, fail)
            conditions.append(
                Condition(
                    operator=operator,
                    base_operator=base,
                    qualifier=qualifier,
                    if_exists=if_exists,
                    key=key,
                    values=values,
                )
            )
    return tuple(conditions)


def _parse_operator(operator: Any, fail: _Fail) -> tuple[SetQualifier, str, bool]:
    if not isinstance(operator, str):
        raise fail(f"condition operator {operator!r} is not a string")
    qualifier: SetQualifier = ""
    base = operator
    for prefix in ("ForAnyValue", "ForAllValues"):
        if base.startswith(prefix + ":"):
            qualifier = "ForAnyValue" if prefix == "ForAnyValue" else "ForAllValues"
            base = base[len(prefix) + 1 :]
            break
    if_exists = base.endswith(_IF_EXISTS) and base != _IF_EXISTS
    if if_exists:
        base = base[: -len(_IF_EXISTS)]
    if base not in _OPERATORS:
        raise fail(f"unknown or unsupported condition operator {operator!r}")
    if base == "Null" and (if_exists or qualifier):
        raise fail(f"{operator}: Null takes neither IfExists nor a set prefix")
    return qualifier, base, if_exists


def _condition_values(operator: str, key: str, raw: Any, fail: _Fail) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise fail(f"{operator} {key}: the value list is empty")
    values: list[str] = []
    for item in items:
        if isinstance(item, bool):
            values.append("true" if item else "false")
        elif isinstance(item, (int, float)):
            values.append(str(item))
        elif isinstance(item, str):
            if "${" in item:
                raise fail(f"policy variables are not supported ({operator} {key} {item!r})")
            values.append(item)
        else:
            raise fail(f"{operator} {key}: values must be strings, numbers or booleans, got {item!r}")
    return tuple(values)


def _check_values(base: str, operator: str, key: str, values: tuple[str, ...], fail: _Fail) -> None:
    family = _OPERATORS[base].family
    for value in values:
        if family == "numeric" and _parse_number(value) is None:
            raise fail(f"{operator} {key}: {value!r} is not a number")
        if family == "bool" and value.lower() not in ("true", "false"):
            raise fail(f"{operator} {key}: {value!r} is not true or false")
        if family == "null" and value not in ("true", "false"):
            raise fail(f"{operator} {key}: {value!r} is not 'true' or 'false'")
        if family == "arn" and value.count(":") < 5:
            raise fail(f"{operator} {key}: {value!r} does not have the six parts of an ARN")


# --------------------------------------------------------------------------- matching


@lru_cache(maxsize=4096)
def _wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else re.NOFLAG))


def _wildcard_match(pattern: str, value: str, ignore_case: bool) -> bool:
    """Whole-string match where ``*`` is any run of characters and ``?`` one character."""
    return _wildcard_regex(pattern, ignore_case).fullmatch(value) is not None


def _resource_pattern_problem(pattern: str) -> str | None:
    """Why a ``Resource``/``NotResource`` entry cannot be evaluated, or ``None``.

    Besides ``*``, an entry is an ARN pattern: the literal ``arn``, a partition and a
    concrete service, then region, account and resource. The service segment may not
    hold a wildcard (IAM User Guide, "IAM JSON policy elements: Resource"). Partition,
    service and region are lower case in every ARN AWS builds, so a pattern with an
    upper-case letter there could never match and is reported instead. A pattern with
    fewer than six segments must end in ``*``, which may expand over the rest.
    """
    if pattern == "*":
        return None
    segments = pattern.split(":")
    if len(segments) < 3 or segments[0] != "arn":
        return "not '*' and not an ARN ('arn:partition:service:region:account:resource')"
    partition, service, region = segments[1], segments[2], segments[3] if len(segments) > 3 else ""
    if "*" in service or "?" in service:
        return "a wildcard may not be used in the service segment"
    if not _SERVICE_PATTERN.fullmatch(service):
        return f"the service segment {service!r} is not a lower-case service namespace"
    if partition != partition.lower() or region != region.lower():
        return "partition and region are lower case in every ARN; this pattern could never match"
    if len(segments) < 6 and not pattern.endswith("*"):
        return "an ARN has six colon-separated segments; a shorter pattern must end in '*'"
    return None


@lru_cache(maxsize=4096)
def _resource_regex(pattern: str) -> re.Pattern[str]:
    """The compiled matcher for one ``Resource``/``NotResource`` entry.

    Follows the IAM User Guide, "IAM JSON policy elements: Resource", section "Using
    wildcards in resource ARNs"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html):
    ``*`` (any run of characters) and ``?`` (one character) work within the segments
    of an ARN, the parts separated by colons, so neither matches a colon; only a ``*``
    that is the last character of a segment may expand past the colon boundaries.
    ``arn:aws:s3*k`` is therefore refused at load time (wildcard in the service
    segment) rather than matched across colons, and ``arn:aws:sqs:eu-*-1:...`` does
    not reach into the account segment. Every segment compares case-sensitively: the
    page says the resource part is case sensitive, and partition, service and region
    are lower case in both the request and (checked at load) the pattern. The pattern
    ``*`` matches everything, including the request resource ``*``.
    """
    if pattern == "*":
        return re.compile(".*", re.DOTALL)
    parts: list[str] = []
    for segment in pattern.split(":"):
        converted = []
        for position, ch in enumerate(segment):
            if ch == "*":
                converted.append(".*" if position == len(segment) - 1 else "[^:]*")
            elif ch == "?":
                converted.append("[^:]")
            else:
                converted.append(re.escape(ch))
        parts.append("".join(converted))
    return re.compile(":".join(parts), re.DOTALL)


def _arn_match(pattern: str, value: str) -> bool:
    """Compare two ARNs part by part; each of the six parts may use wildcards."""
    value_parts = value.split(":", 5)
    if len(value_parts) != 6:
        return False
    pattern_parts = pattern.split(":", 5)
    return all(_wildcard_match(p, v, False) for p, v in zip(pattern_parts, value_parts, strict=True))


def _parse_number(text: str) -> Decimal | None:
    return Decimal(text) if _NUMBER_PATTERN.fullmatch(text.strip()) else None


def _value_satisfies(operator: _Operator, value: str, policy_values: tuple[str, ...]) -> bool:
    """Whether one request value satisfies the operator against the policy values."""
    if operator.family == "numeric":
        number = _parse_number(value)
        if number is None:
            return False
        matched = any(_compare(number, operator.compare, Decimal(p)) for p in policy_values)
    elif operator.family == "bool":
        lowered = value.lower()
        if lowered not in ("true", "false"):
            return False
        matched = any(lowered == p.lower() for p in policy_values)
    elif operator.family == "string":
        matched = value in policy_values
    elif operator.family == "string_ignore_case":
        matched = value.casefold() in {p.casefold() for p in policy_values}
    elif operator.family == "like":
        matched = any(_wildcard_match(p, value, False) for p in policy_values)
    else:
        matched = any(_arn_match(p, value) for p in policy_values)
    return matched != operator.negated


def _compare(left: Decimal, how: str, right: Decimal) -> bool:
    if how == "lt":
        return left < right
    if how == "le":
        return left <= right
    if how == "gt":
        return left > right
    if how == "ge":
        return left >= right
    return left == right


# --------------------------------------------------------------------------- request


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
        if not _ACCOUNT_ID_PATTERN.fullmatch(self.account_id):
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


# --------------------------------------------------------------------------- organization


@dataclass(frozen=True)
class OrgNode:
    """A target SCPs can be attached to: the root, an OU or an account."""

    target_id: str
    """The root id, the OU name or id, or the 12-digit account id."""
    kind: TargetKind
    parent_id: str | None
    """The parent root or OU; ``None`` for the root."""

    @property
    def label(self) -> str:
        """``<kind> <id>``, as used in decision reasons."""
        return f"{self.kind} {self.target_id}"


class Organization:
    """An organization tree with the SCPs attached to each target.

    Build it with :meth:`add_ou`, :meth:`add_account` and :meth:`attach`. The
    management account need not be placed in the tree; it is exempt anyway.
    """

    def __init__(self, management_account_id: str, root_id: str = "Root") -> None:
        if not _ACCOUNT_ID_PATTERN.fullmatch(management_account_id):
            raise ValueError(f"account id must be 12 digits, got {management_account_id!r}")
        self.management_account_id = management_account_id
        self.root_id = root_id
        self._nodes: dict[str, OrgNode] = {root_id: OrgNode(root_id, "root", None)}
        self._policies: dict[str, list[Policy]] = {root_id: []}

    def add_ou(self, ou_id: str, parent_id: str | None = None) -> OrgNode:
        """Add an OU under ``parent_id`` (the root when omitted)."""
        return self._add(OrgNode(ou_id, "ou", parent_id or self.root_id))

    def add_account(self, account_id: str, parent_id: str | None = None) -> OrgNode:
        """Add an account under the OU ``parent_id`` (the root when omitted)."""
        if not _ACCOUNT_ID_PATTERN.fullmatch(account_id):
            raise ValueError(f"account id must be 12 digits, got {account_id!r}")
        return self._add(OrgNode(account_id, "account", parent_id or self.root_id))

    def _add(self, node: OrgNode) -> OrgNode:
        if not node.target_id:
            raise ValueError("a target id cannot be empty")
        if node.target_id in self._nodes:
            raise ValueError(f"target {node.target_id!r} already exists")
        parent = self._nodes.get(node.parent_id or "")
        if parent is None or parent.kind == "account":
            raise ValueError(f"parent of {node.label} must be the root or an existing OU")
        self._nodes[node.target_id] = node
        self._policies[node.target_id] = []
        return node

    def attach(
        self,
        target_id: str,
        policy: Policy | Mapping[str, Any] | str,
        name: str | None = None,
    ) -> Policy:
        """Attach a policy (validated with :func:`load_policy` unless already a Policy)."""
        if not isinstance(policy, Policy):
            policy = load_policy(policy, name or "policy")
        attached = self._policies[self.node(target_id).target_id]
        if any(existing.name == policy.name for existing in attached):
            raise ValueError(f"policy {policy.name} is already attached to {target_id}")
        attached.append(policy)
        return policy

    def node(self, target_id: str) -> OrgNode:
        """The node with this id; ``KeyError`` if there is none."""
        try:
            return self._nodes[target_id]
        except KeyError:
            raise KeyError(f"no root, OU or account {target_id!r} in the organization") from None

    def nodes(self) -> tuple[OrgNode, ...]:
        """Every node, in the order added (the root first)."""
        return tuple(self._nodes.values())

    def policies(self, target_id: str) -> tuple[Policy, ...]:
        """The policies attached directly to a target, in attachment order."""
        return tuple(self._policies[self.node(target_id).target_id])

    def path_to(self, account_id: str) -> list[str]:
        """Target ids from the root down to the account, both included."""
        node = self.node(account_id)
        if node.kind != "account":
            raise KeyError(f"{node.label} is not an account")
        path = [node.target_id]
        while node.parent_id is not None:
            node = self.node(node.parent_id)
            path.append(node.target_id)
        return path[::-1]


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Decision:
    """The outcome of :func:`evaluate`.

    For a deny, ``level`` is the target id whose policies decided (the level of the
    explicit Deny, or the first level without a matching Allow), and
    ``deciding_policy``/``deciding_statement`` name the Deny statement (``None``
    for an implicit deny). For an allow they are all ``None``.
    """

    allowed: bool
    reason: str
    deciding_policy: str | None = None
    deciding_statement: str | None = None
    level: str | None = None


def evaluate(org: Organization, request: Request) -> Decision:
    """Decide whether the organization's SCPs permit the request."""
    if request.account_id == org.management_account_id:
        return Decision(
            True,
            f"allowed: account {request.account_id} is the management account, which SCPs do not restrict",
        )
    if _SERVICE_LINKED_ROLE_MARKER in request.principal_arn:
        return Decision(True, "allowed: service-linked roles are not restricted by SCPs")

    path = [org.node(target_id) for target_id in org.path_to(request.account_id)]
    for node in path:
        for policy in org.policies(node.target_id):
            for statement in policy.statements:
                if statement.effect == "Deny" and statement.matches(request):
                    return Decision(
                        False,
                        f"explicit deny by statement {statement.label} in policy "
                        f"{policy.name} attached to {node.label}",
                        deciding_policy=policy.name,
                        deciding_statement=statement.label,
                        level=node.target_id,
                    )

    allowed_by: list[str] = []
    for node in path:
        policies = org.policies(node.target_id)
        if not policies:
            return Decision(
                False,
                f"implicit deny: no policy attached at {node.label}",
                level=node.target_id,
            )
        allow = next(
            (
                (policy, statement)
                for policy in policies
                for statement in policy.statements
                if statement.effect == "Allow" and statement.matches(request)
            ),
            None,
        )
        if allow is None:
            return Decision(False, f"implicit deny: no Allow at {node.label}", level=node.target_id)
        allowed_by.append(f"{node.label} by {allow[0].name}/{allow[1].label}")
    return Decision(True, "allowed: an Allow matches at " + ", ".join(allowed_by))
