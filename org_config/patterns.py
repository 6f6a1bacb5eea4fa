"""The five patterns by name, and the selection that narrows a synth to some of them.

``make synth PATTERNS=network`` (the context value ``cdk synth -c patterns=network``)
builds only the chosen patterns' stacks and those they depend on; without a selection,
the whole organization is built, as the tests and ``make check`` always do.
"""

from __future__ import annotations

PATTERNS = ("organization", "network", "disaster-recovery", "object-index", "streaming")
CONTEXT_KEY = "patterns"


def parse_patterns(value: object) -> frozenset[str] | None:
    """The patterns named in the comma-separated ``value``; ``None`` (every pattern) when
    it is empty or absent. Raises ``ValueError`` with one line naming every valid pattern."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError(f"patterns: a comma-separated list of names, one of {', '.join(PATTERNS)}")
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in PATTERNS]
    if unknown:
        listed = ", ".join(repr(name) for name in unknown)
        raise ValueError(f"patterns: unknown pattern {listed}; the patterns are {', '.join(PATTERNS)}")
    return frozenset(names)
