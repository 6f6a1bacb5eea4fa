"""A matcher for the subset of the CloudWatch Logs JSON filter pattern syntax that the
organization trail's metric filters use, so tests can run each pattern against CloudTrail
events offline.

Supported (anything else raises :class:`FilterPatternError`)::

    pattern    := "{" expression "}"
    expression := term (("&&" | "||") term)*      one operator per level: mix them only
                                                  inside parentheses, as the patterns do
    term       := "(" expression ")" | comparison
    comparison := selector ("=" | "!=") value
                | selector "NOT" "EXISTS"
    selector   := "$" ("." name)+                 a path into the JSON event
    value      := a double-quoted string, or a bare word such as kms.amazonaws.com

Matching rules: ``=`` holds when the selected field is present, is not an object or a
list, and equals the value, where ``*`` in the value matches any run of characters (as in
``"*UnauthorizedOperation"``). ``!=`` holds when the field is present and does not equal
the value; a comparison on a missing field does not hold, whichever operator it uses, so a
pattern that must react to a missing field says so with ``NOT EXISTS``. Booleans compare as
``true``/``false`` and numbers as their JSON text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Comparison", "Expression", "FilterPatternError", "matches", "parse"]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<op>&&|\|\||!=|=|\(|\)|\{|\})
      | (?P<selector>\$(?:\.[A-Za-z_][A-Za-z0-9_]*)+)
      | (?P<word>[A-Za-z0-9_.:*/-]+)
    )""",
    re.VERBOSE,
)


class FilterPatternError(ValueError):
    """A pattern outside the supported subset, or not well formed."""


@dataclass(frozen=True)
class Comparison:
    path: tuple[str, ...]
    operator: str  # "=", "!=" or "NOT EXISTS"
    value: str | None

    def holds(self, event: Mapping[str, Any]) -> bool:
        found, field = _select(event, self.path)
        if self.operator == "NOT EXISTS":
            return not found
        if not found or isinstance(field, (dict, list)):
            return False
        text = _as_text(field)
        assert self.value is not None
        equal = _wildcard(self.value).fullmatch(text) is not None
        return equal if self.operator == "=" else not equal


@dataclass(frozen=True)
class Expression:
    operator: str  # "&&" or "||"
    terms: tuple[Expression | Comparison, ...]

    def holds(self, event: Mapping[str, Any]) -> bool:
        results = (term.holds(event) for term in self.terms)
        return all(results) if self.operator == "&&" else any(results)


def _select(event: Mapping[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    node: Any = event
    for name in path:
        if not isinstance(node, Mapping) or name not in node:
            return False, None
        node = node[name]
    return True, node


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _wildcard(value: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in value.split("*")), re.DOTALL)


def _tokens(pattern: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = pattern.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterPatternError(f"unexpected text at character {position}: {text[position : position + 20]!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.tokens = _tokens(pattern)
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, what: str, *, exactly: bool = True) -> tuple[str, str]:
        """The next token; with ``exactly``, it must be the text ``what`` (else ``what``
        only describes the expected token for the error message)."""
        token = self.peek()
        if token is None:
            raise FilterPatternError(f"pattern ends early (expected {what})")
        if exactly and token[1] != what:
            raise FilterPatternError(f"expected {what!r}, found {token[1]!r}")
        self.index += 1
        return token

    def pattern(self) -> Expression | Comparison:
        self.take("{")
        expression = self.expression()
        self.take("}")
        if self.peek() is not None:
            raise FilterPatternError(f"unexpected {self.peek()!r} after the closing brace")
        return expression

    def expression(self) -> Expression | Comparison:
        terms = [self.term()]
        operator: str | None = None
        while (token := self.peek()) is not None and token[1] in ("&&", "||"):
            if operator is not None and token[1] != operator:
                raise FilterPatternError("&& and || mixed at one level: add parentheses")
            operator = self.take(token[1])[1]
            terms.append(self.term())
        if operator is None:
            return terms[0]
        return Expression(operator, tuple(terms))

    def term(self) -> Expression | Comparison:
        token = self.peek()
        if token is not None and token[1] == "(":
            self.take("(")
            inner = self.expression()
            self.take(")")
            return inner
        kind, selector = self.take("a $.selector", exactly=False)
        if kind != "selector":
            raise FilterPatternError(f"expected a $.selector, found {selector!r}")
        path = tuple(selector.split(".")[1:])
        kind, operator = self.take("=, != or NOT EXISTS", exactly=False)
        if operator == "NOT":
            self.take("EXISTS")
            return Comparison(path, "NOT EXISTS", None)
        if operator not in ("=", "!="):
            raise FilterPatternError(f"unsupported operator {operator!r} after {selector}")
        kind, value = self.take("a value", exactly=False)
        if kind == "string":
            value = json.loads(value)
        elif kind != "word":
            raise FilterPatternError(f"expected a value after {selector} {operator}, found {value!r}")
        return Comparison(path, operator, value)


def parse(pattern: str) -> Expression | Comparison:
    """Parse ``pattern``; raise :class:`FilterPatternError` outside the supported subset."""
    return _Parser(pattern).pattern()


def matches(pattern: str, event: Mapping[str, Any]) -> bool:
    """Whether the JSON log event ``event`` matches ``pattern``."""
    return parse(pattern).holds(event)
