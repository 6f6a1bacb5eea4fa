"""Wildcard and ARN matching for the SCP evaluator: actions, ``Resource`` patterns and the
``Arn*`` condition operators.

Patterns here are in the evaluator's own pattern text: ``*`` and ``?`` are wildcards and a
backslash makes the next character literal. Policy text reaches this module through
:mod:`analysis.organization.scp_variables`, which escapes the policy's own backslashes and
every character a policy variable or the ``${*}``, ``${?}``, ``${$}`` escapes put in, so a
substituted ``*`` is never a wildcard.
"""

from __future__ import annotations

import re
from functools import lru_cache

_SERVICE_PATTERN = re.compile(r"[a-z0-9*?-]+")
_WILDCARDS = "*?"

Token = tuple[str, bool]
"""One character of a pattern and whether it is a wildcard."""


def tokens(pattern: str) -> list[Token]:
    """The pattern's characters, each marked wildcard or literal (``\\x`` is a literal x)."""
    out: list[Token] = []
    index = 0
    while index < len(pattern):
        ch = pattern[index]
        if ch == "\\" and index + 1 < len(pattern):
            out.append((pattern[index + 1], False))
            index += 2
            continue
        out.append((ch, ch in _WILDCARDS))
        index += 1
    return out


def _convert(part: list[Token], *, star: str = ".*", one: str = ".") -> str:
    return "".join((star if ch == "*" else one) if wild else re.escape(ch) for ch, wild in part)


@lru_cache(maxsize=4096)
def _wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else re.NOFLAG)
    return re.compile(_convert(tokens(pattern)), flags)


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """Whole-string match where ``*`` is any run of characters and ``?`` one character."""
    return _wildcard_regex(pattern, ignore_case).fullmatch(value) is not None


def _segments(pattern: str) -> list[list[Token]]:
    """The pattern split at its colons (a colon is never a wildcard, so never escaped)."""
    segments: list[list[Token]] = [[]]
    for token in tokens(pattern):
        if token == (":", False):
            segments.append([])
        else:
            segments[-1].append(token)
    return segments


def resource_pattern_problem(pattern: str) -> str | None:
    """Why a ``Resource``/``NotResource`` entry is invalid, or ``None``.

    Besides ``*``, an entry is an ARN pattern: the literal ``arn``, a partition, a service,
    then region, account and resource. AWS accepts a wildcard in the service segment
    (``arn:aws:*:*:*:*``, ``arn:aws:s3*``): the IAM User Guide's ``Resource`` page advises
    against it, IAM Access Analyzer reports it only as a suggestion, and Organizations does
    not refuse it, so it is evaluated as a wildcard. A pattern with fewer than six
    segments must end in ``*``, which may expand over the rest; otherwise an ARN field is
    missing (Access Analyzer's "Missing ARN field" error). Partition, service and region
    are lower case in every ARN AWS builds, so a pattern with an upper-case letter there
    could never match and is reported instead. IAM's resource type may not hold a
    wildcard: the IAM User Guide's "IAM identifiers" page says not to use one in the
    ``user/``, ``group/`` or ``policy`` part and gives ``arn:aws:iam::123456789012:u*`` as
    not allowed; ``arn:aws:iam::123456789012:*`` (every IAM resource) is allowed.
    """
    if pattern == "*":
        return None
    segments = ["".join(ch for ch, _ in segment) for segment in _segments(pattern)]
    if len(segments) < 3 or segments[0] != "arn":
        return "not '*' and not an ARN ('arn:partition:service:region:account:resource')"
    partition, service, region = segments[1], segments[2], segments[3] if len(segments) > 3 else ""
    if not _SERVICE_PATTERN.fullmatch(service):
        return f"the service segment {service!r} is not a lower-case service namespace"
    if partition != partition.lower() or region != region.lower():
        return "partition and region are lower case in every ARN; this pattern could never match"
    if len(segments) < 6 and not pattern.endswith("*"):
        return "missing ARN field: an ARN has six colon-separated segments; a shorter pattern must end in '*'"
    if service == "iam" and len(segments) >= 6:
        resource = _segments(pattern)[5:]
        flat = [token for index, part in enumerate(resource) for token in ([(":", False)] if index else []) + part]
        resource_type = []
        for ch, wild in flat:
            if (ch, wild) in (("/", False), (":", False)):
                break
            resource_type.append(wild)
        if flat != [("*", True)] and any(resource_type):
            return "a wildcard may not stand in IAM's resource type (user/, role/, policy/...)"
    return None


@lru_cache(maxsize=4096)
def resource_regex(pattern: str) -> re.Pattern[str]:
    """The compiled matcher for one ``Resource``/``NotResource`` entry.

    Follows the IAM User Guide, "IAM JSON policy elements: Resource", section "Using
    wildcards in resource ARNs"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html):
    ``*`` (any run of characters) and ``?`` (one character) work within the segments of an
    ARN, the parts separated by colons, so neither matches a colon; only a ``*`` that is
    the last character of a segment may expand past the colon boundaries. So
    ``arn:aws:sqs:eu-*-1:...`` does not reach into the account segment, while
    ``arn:aws:*`` covers every ARN of the partition. Every segment compares
    case-sensitively: the page says the resource part is case sensitive, and partition,
    service and region are lower case in both the request and (checked at load) the
    pattern. The pattern ``*`` matches everything, including the request resource ``*``.
    """
    if pattern == "*":
        return re.compile(".*", re.DOTALL)
    parts = []
    for segment in _segments(pattern):
        last = len(segment) - 1
        parts.append("".join(_segment_regex(ch, wild, position == last) for position, (ch, wild) in enumerate(segment)))
    return re.compile(":".join(parts), re.DOTALL)


def _segment_regex(ch: str, wild: bool, last: bool) -> str:
    """One character of a ``Resource`` segment: a ``*`` ending the segment may run past
    colons, any other wildcard stays inside the segment."""
    if not wild:
        return re.escape(ch)
    if ch == "?":
        return "[^:]"
    return ".*" if last else "[^:]*"


def arn_match(pattern: str, value: str) -> bool:
    """The ``ArnEquals``/``ArnLike`` comparison: the six colon-separated parts one by one,
    each with wildcards (the resource part may itself hold colons). A policy value with
    fewer than six parts is accepted by AWS and never matches; neither does a request
    value that is not an ARN."""
    value_parts = value.split(":", 5)
    pattern_parts = _segments(pattern)
    if len(value_parts) != 6 or len(pattern_parts) < 6:
        return False
    head, resource = pattern_parts[:5], pattern_parts[5:]
    rest: list[Token] = []
    for index, part in enumerate(resource):
        rest += ([(":", False)] if index else []) + part
    compiled = [re.compile(_convert(part), re.DOTALL) for part in [*head, rest]]
    return all(regex.fullmatch(v) for regex, v in zip(compiled, value_parts, strict=True))
