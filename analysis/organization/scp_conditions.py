"""Condition operators of the SCP evaluator: the table of operators, how a request value is
compared with the policy values, and how a ``Condition`` block is loaded and checked.

Operator families follow the IAM User Guide's "IAM JSON policy elements: Condition
operators"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):

* ``Date*`` values are W3C ISO 8601 dates (``2030-01-01``, ``2030-01-01T12:00Z``,
  ``2030-01-01T12:00:00.5+02:00``; a time needs its zone) or epoch seconds (digits, an
  optional fraction); both sides may use either form. A bare year is read as epoch
  seconds, since it cannot be told from them.
* ``IpAddress``/``NotIpAddress`` values are IPv4 or IPv6 addresses or CIDR blocks (host
  bits allowed); the request value must be one address, and an IPv4 address is never in
  an IPv6 block or the other way round.
* ``BinaryEquals`` compares the bytes of base64 text byte for byte.

A request value that cannot be read in the operator's type (not a number, not a date, not
an address, not base64, not ``true``/``false``) satisfies no operator of that family,
negated or not.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

from analysis.organization import scp_variables
from analysis.organization.scp_patterns import arn_match, wildcard_match
from analysis.organization.scp_variables import Template, Variables

SetQualifier = Literal["", "ForAnyValue", "ForAllValues"]
Family = Literal["string", "string_ignore_case", "like", "arn", "numeric", "date", "ip", "binary", "bool", "null"]
Fail = Callable[[str], Exception]
"""Builds the error for a problem found in the statement being loaded."""

_IF_EXISTS = "IfExists"
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_EPOCH = re.compile(r"[0-9]+(\.[0-9]+)?")
_W3C_DATE = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}(-[0-9]{2})?)"
    r"(T(?P<time>[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)(?P<zone>Z|[+-][0-9]{2}:[0-9]{2}))?"
)
_MULTIVALUED_GLOBAL_KEYS = frozenset({"aws:tagkeys", "aws:principalservicenameslist", "aws:calledvia"})
"""Global keys the IAM User Guide names as multivalued (lower-cased)."""
_VARIABLE_FAMILIES = frozenset({"string", "string_ignore_case", "like", "arn"})
"""Families whose values may hold policy variables: the string and ARN operators."""


@dataclass(frozen=True)
class Operator:
    family: Family
    negated: bool = False
    compare: Literal["eq", "lt", "le", "gt", "ge"] = "eq"


def _ordered(family: Family, stem: str) -> dict[str, Operator]:
    return {
        f"{stem}Equals": Operator(family),
        f"{stem}NotEquals": Operator(family, negated=True),
        f"{stem}LessThan": Operator(family, compare="lt"),
        f"{stem}LessThanEquals": Operator(family, compare="le"),
        f"{stem}GreaterThan": Operator(family, compare="gt"),
        f"{stem}GreaterThanEquals": Operator(family, compare="ge"),
    }


OPERATORS: Mapping[str, Operator] = MappingProxyType(
    {
        "StringEquals": Operator("string"),
        "StringNotEquals": Operator("string", negated=True),
        "StringEqualsIgnoreCase": Operator("string_ignore_case"),
        "StringNotEqualsIgnoreCase": Operator("string_ignore_case", negated=True),
        "StringLike": Operator("like"),
        "StringNotLike": Operator("like", negated=True),
        "ArnEquals": Operator("arn"),
        "ArnNotEquals": Operator("arn", negated=True),
        "ArnLike": Operator("arn"),
        "ArnNotLike": Operator("arn", negated=True),
        **_ordered("numeric", "Numeric"),
        **_ordered("date", "Date"),
        "IpAddress": Operator("ip"),
        "NotIpAddress": Operator("ip", negated=True),
        "BinaryEquals": Operator("binary"),
        "Bool": Operator("bool"),
        "Null": Operator("null"),
    }
)


# --------------------------------------------------------------------------- typed values


def parse_number(text: str) -> Decimal | None:
    return Decimal(text) if _NUMBER.fullmatch(text.strip()) else None


def parse_date(text: str) -> Decimal | None:
    """Seconds since the epoch (UTC) of an ISO 8601 (W3C profile) or epoch value."""
    if _EPOCH.fullmatch(text):
        return Decimal(text)
    match = _W3C_DATE.fullmatch(text)
    if match is None:
        return None
    date = match["date"] + ("-01" if len(match["date"]) == 7 else "")
    time, zone = match["time"] or "00:00", match["zone"] or "+00:00"
    try:
        moment = datetime.fromisoformat(f"{date}T{time}{zone.replace('Z', '+00:00')}")
    except ValueError:
        return None  # a month 13 or a 30 February
    whole = moment.replace(microsecond=0).astimezone(UTC)
    fraction = Decimal(time.split(".")[1]).scaleb(-len(time.split(".")[1])) if "." in time else Decimal(0)
    return Decimal(int(whole.timestamp())) + fraction


def _parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _parse_binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


_PARSERS: Mapping[str, Callable[[str], object | None]] = MappingProxyType(
    {"numeric": parse_number, "date": parse_date, "ip": _parse_network, "binary": _parse_binary}
)
_LOAD_RULES = {
    "numeric": "is not a number",
    "date": "is not an ISO 8601 date or epoch seconds",
    "ip": "is not an IP address or CIDR block",
    "binary": "is not base64",
}


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


def _typed_match(operator: Operator, value: str, policy_values: Sequence[str]) -> bool | None:
    """Whether a request value matches any policy value, for the typed families; ``None``
    when the request value cannot be read in the operator's type."""
    if operator.family == "ip":
        address = _parse_address(value)
        if address is None:
            return None
        return any(address in network for p in policy_values if (network := _parse_network(p)) is not None)
    if operator.family == "binary":
        data = _parse_binary(value)
        return None if data is None else any(data == _parse_binary(p) for p in policy_values)
    reader = parse_number if operator.family == "numeric" else parse_date
    number = reader(value)
    if number is None:
        return None
    return any((right := reader(p)) is not None and _compare(number, operator.compare, right) for p in policy_values)


def value_satisfies(operator: Operator, value: str, policy_values: Sequence[str]) -> bool:
    """Whether one request value satisfies the operator against the policy values."""
    family = operator.family
    if family in _PARSERS:
        typed = _typed_match(operator, value, policy_values)
        if typed is None:
            return False
        matched = typed
    elif family == "bool":
        lowered = value.lower()
        if lowered not in ("true", "false"):
            return False
        matched = any(lowered == p.lower() for p in policy_values)
    elif family == "string":
        matched = value in policy_values
    elif family == "string_ignore_case":
        matched = value.casefold() in {p.casefold() for p in policy_values}
    elif family == "like":
        matched = any(wildcard_match(p, value) for p in policy_values)
    else:
        matched = any(arn_match(p, value) for p in policy_values)
    return matched != operator.negated


# --------------------------------------------------------------------------- conditions


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
    templates: tuple[Template, ...] = ()
    """The values with their policy variables parsed (string and ARN operators only)."""

    def policy_values(self, variables: Variables) -> tuple[str, ...] | None:
        """The values with variables substituted, as the operator compares them (pattern
        text for ``StringLike`` and the ARN operators); ``None`` when a variable cannot be
        resolved, which makes the statement inapplicable."""
        if not self.templates:
            return self.values
        family = OPERATORS[self.base_operator].family
        resolved = [t.pattern(variables) if family in ("like", "arn") else t.plain(variables) for t in self.templates]
        return None if any(value is None for value in resolved) else tuple(v for v in resolved if v is not None)

    def holds(self, request_values: Sequence[str] | None, policy_values: Sequence[str] | None = None) -> bool:
        """Whether the condition holds for the request's values of this key.

        ``None`` or an empty sequence means the key is missing from the request. A set
        qualifier decides a missing key before ``IfExists`` does: ``ForAllValues`` holds
        and ``ForAnyValue`` does not, with or without ``IfExists``. Several values need a
        set qualifier; under a plain operator they raise ``ValueError``
        (:meth:`Statement.matches` reports it as a :class:`PolicyError`).
        """
        operator = OPERATORS[self.base_operator]
        values = self.values if policy_values is None else tuple(policy_values)
        present = bool(request_values)
        if operator.family == "null":
            return any((value == "true") != present for value in values)
        if not request_values:
            if self.qualifier == "ForAllValues":
                return True
            if self.qualifier == "ForAnyValue":
                return False
            return self.if_exists or operator.negated
        results = [value_satisfies(operator, value, values) for value in request_values]
        if self.qualifier == "ForAllValues":
            return all(results)
        if self.qualifier == "ForAnyValue":
            return any(results)
        if len(results) > 1:
            raise ValueError(f"{self.operator} {self.key}: several request values need ForAnyValue: or ForAllValues:")
        return results[0]


def load_conditions(block: Any, fail: Fail, *, variables_enabled: bool) -> tuple[Condition, ...]:
    """The conditions of a ``Condition`` element; ``fail`` builds the error to raise."""
    if not isinstance(block, Mapping):
        raise fail("Condition must be an object")
    conditions: list[Condition] = []
    for operator, keys in block.items():
        qualifier, base, if_exists = _parse_operator(operator, fail)
        if not isinstance(keys, Mapping):
            raise fail(f"{operator} must map condition keys to values, got {type(keys).__name__}")
        # The policy grammar gives an operator block at least one key; an empty one states
        # no condition while reading like one, so it is refused (IAM User Guide, "IAM JSON
        # policy grammar", <condition_map>).
        if not keys:
            raise fail(f"{operator} has no condition keys; an empty operator block is not a condition")
        for key, raw_values in keys.items():
            conditions.append(
                _load_condition(operator, qualifier, base, if_exists, key, raw_values, fail, variables_enabled)
            )
    return tuple(conditions)


def _load_condition(
    operator: str,
    qualifier: SetQualifier,
    base: str,
    if_exists: bool,
    key: Any,
    raw_values: Any,
    fail: Fail,
    variables_enabled: bool,
) -> Condition:
    if not isinstance(key, str) or not key:
        raise fail(f"{operator} has an empty or non-string condition key")
    if "${" in key:
        raise fail(f"{operator} {key}: a condition key cannot be a policy variable")
    if not qualifier and base != "Null" and key.lower() in _MULTIVALUED_GLOBAL_KEYS:
        raise fail(f"{operator} {key}: a multivalued key needs ForAnyValue: or ForAllValues:")
    values = _condition_values(operator, key, raw_values, fail)
    family = OPERATORS[base].family
    templates: list[Template] = []
    for value in values:
        try:
            template = scp_variables.parse(value, variables_enabled=variables_enabled)
        except scp_variables.VariableError as error:
            raise fail(f"{operator} {key}: {error}") from None
        if template.has_variables and family not in _VARIABLE_FAMILIES:
            raise fail(f"{operator} {key} {value!r}: policy variables work only with the string and ARN operators")
        templates.append(template)
    _check_values(family, operator, key, values, fail)
    # String and ARN values always go through their templates: the pattern text escapes the
    # policy's own backslashes, and a variable is substituted per request.
    kept = tuple(templates) if family in _VARIABLE_FAMILIES else ()
    return Condition(operator, base, qualifier, if_exists, key, values, kept)


def _parse_operator(operator: Any, fail: Fail) -> tuple[SetQualifier, str, bool]:
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
    if base not in OPERATORS:
        raise fail(f"unknown or unsupported condition operator {operator!r}")
    if base == "Null" and (if_exists or qualifier):
        raise fail(f"{operator}: Null takes neither IfExists nor a set prefix")
    return qualifier, base, if_exists


def _condition_values(operator: str, key: str, raw: Any, fail: Fail) -> tuple[str, ...]:
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
            values.append(item)
        else:
            raise fail(f"{operator} {key}: values must be strings, numbers or booleans, got {item!r}")
    return tuple(values)


def _check_values(family: str, operator: str, key: str, values: tuple[str, ...], fail: Fail) -> None:
    for value in values:
        parser = _PARSERS.get(family)
        if parser is not None and parser(value) is None:
            raise fail(f"{operator} {key}: {value!r} {_LOAD_RULES[family]}")
        if family == "bool" and value.lower() not in ("true", "false"):
            raise fail(f"{operator} {key}: {value!r} is not true or false")
        if family == "null" and value not in ("true", "false"):
            raise fail(f"{operator} {key}: {value!r} is not 'true' or 'false'")
