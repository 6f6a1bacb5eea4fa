"""Policy variables in SCP text: ``${aws:PrincipalAccount}``, ``${aws:PrincipalTag/team}``,
the default-value form ``${aws:PrincipalTag/team, 'platform'}`` and the escapes ``${*}``,
``${?}`` and ``${$}``.

As the IAM User Guide's "IAM policy elements: Variables and tags" describes
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html):

* a variable is replaced by the value of that key in the request context (key names are
  case-insensitive); a default value in single quotes, after a comma and a space, stands
  in when the key has no value;
* ``${*}``, ``${?}`` and ``${$}`` stand for a literal ``*``, ``?`` and ``$``, so a
  ``StringLike`` value can match an asterisk;
* variables work only in a policy whose ``Version`` is ``2012-10-17``; in an older or
  absent version the text is literal;
* they may appear in the resource part of a ``Resource`` ARN (after the fifth colon) and
  in values of the string and ARN condition operators, nowhere else;
* a key that is not present leaves the variable unresolved: "any attempt to match it fails
  and causes the statement to be invalid", so the statement does not apply to the request;
* multivalued keys cannot be used as variables ("Single-valued vs. multivalued context
  keys"): a key the request gives as a list leaves the variable unresolved too.

A :class:`Template` renders either plain text (for equality comparisons) or pattern text
for :mod:`analysis.organization.scp_patterns`, where everything a variable or an escape put
in is literal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_ESCAPES = {"*": "*", "?": "?", "$": "$"}
_VARIABLE = re.compile(r"(?P<key>[^\s{}$',]+)(?:, '(?P<default>[^']*)')?")
_PATTERN_SPECIALS = str.maketrans({"\\": "\\\\", "*": "\\*", "?": "\\?"})

Variables = Mapping[str, str]
"""The request's single-valued keys, lower-cased, each with its value."""


@dataclass(frozen=True)
class Piece:
    """A run of policy text (``wild``: its ``*`` and ``?`` are wildcards), an escaped
    character, or a variable (``key`` set)."""

    text: str = ""
    wild: bool = False
    key: str | None = None
    default: str | None = None


class VariableError(ValueError):
    """A ``${`` that does not start a well-formed policy variable."""


@dataclass(frozen=True)
class Template:
    """Policy text with its variables parsed out."""

    source: str
    pieces: tuple[Piece, ...]

    @property
    def has_variables(self) -> bool:
        """Whether the text holds a variable or an escape (``${...}`` of any kind)."""
        return any(not piece.wild for piece in self.pieces)

    def skeleton(self, stand_in: str = "v") -> str:
        """The text with each ``${...}`` replaced by ``stand_in``, for checks of its shape."""
        return "".join(piece.text if piece.wild else stand_in for piece in self.pieces)

    def plain(self, variables: Variables) -> str | None:
        """The text with variables substituted; ``None`` if one cannot be resolved."""
        parts = []
        for piece in self.pieces:
            value = _value(piece, variables)
            if value is None:
                return None
            parts.append(value)
        return "".join(parts)

    def pattern(self, variables: Variables) -> str | None:
        """Pattern text: the policy's wildcards stay, substituted text is literal."""
        parts = []
        for piece in self.pieces:
            value = _value(piece, variables)
            if value is None:
                return None
            parts.append(value.replace("\\", "\\\\") if piece.wild else value.translate(_PATTERN_SPECIALS))
        return "".join(parts)


def _value(piece: Piece, variables: Variables) -> str | None:
    if piece.key is None:
        return piece.text
    return variables.get(piece.key, piece.default)


def parse(text: str, *, variables_enabled: bool = True) -> Template:
    """Split policy text into literal runs and variables; raises :class:`VariableError`
    for a ``${`` without its ``}``, an empty or malformed variable."""
    if not variables_enabled or "${" not in text:
        return Template(text, (Piece(text, wild=True),))
    pieces: list[Piece] = []
    position = 0
    while (start := text.find("${", position)) != -1:
        if start > position:
            pieces.append(Piece(text[position:start], wild=True))
        end = text.find("}", start)
        if end == -1:
            raise VariableError(f"{text!r}: a policy variable '${{' has no closing '}}'")
        body = text[start + 2 : end]
        if body in _ESCAPES:
            pieces.append(Piece(_ESCAPES[body]))
        else:
            match = _VARIABLE.fullmatch(body)
            if match is None:
                raise VariableError(
                    f"{text!r}: '${{{body}}}' is not a policy variable (a key, optionally followed by , 'default')"
                )
            pieces.append(Piece(key=match["key"].lower(), default=match["default"]))
        position = end + 1
    if position < len(text):
        pieces.append(Piece(text[position:], wild=True))
    return Template(text, tuple(pieces))
