"""Count the Python→Node round-trips (jsii kernel requests) of a synth of the example
organization: per stack while it is built, for the rest of the build, and for
``app.synth()`` with cdk-nag. Prints JSON; ``make bench`` (``tools/bench.py``)
runs it. Every request is one message to the Node process and one answer back, on the
order of a millisecond each, so the counts show where the build's time goes.
"""

from __future__ import annotations

import functools
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from jsii._kernel.providers import process

from org_config import load_config
from stacks.organization_app import build_organization

ROOT = Path(__file__).resolve().parents[1]
# cdk.json's context and what the CDK CLI adds to it, as a `cdk synth` sees them.
_CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": False,
}


class _Counter:
    def __init__(self) -> None:
        self.calls = 0
        self.per_stack: dict[str, int] = {}


def _stack_classes() -> Iterator[type[cdk.Stack]]:
    pending: list[type[cdk.Stack]] = [cdk.Stack]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls.__module__.startswith("stacks."):
            yield cls


def _counting_init(counter: _Counter, init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def wrapped(self: cdk.Stack, scope: Any, construct_id: str, *args: Any, **kwargs: Any) -> None:
        before = counter.calls
        init(self, scope, construct_id, *args, **kwargs)
        counter.per_stack[construct_id] = counter.per_stack.get(construct_id, 0) + counter.calls - before

    return wrapped


def main() -> int:
    counter = _Counter()
    send = process._NodeProcess.send

    def counting_send(self: Any, *args: Any, **kwargs: Any) -> Any:
        counter.calls += 1
        return send(self, *args, **kwargs)

    process._NodeProcess.send = counting_send  # type: ignore[method-assign]
    for cls in list(_stack_classes()):
        if "__init__" in vars(cls):
            cls.__init__ = _counting_init(counter, cls.__init__)  # type: ignore[method-assign]
    context = {**json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"], **_CLI_CONTEXT}
    app = cdk.App(outdir=tempfile.mkdtemp(prefix="bench-jsii-"), context=context)
    start = counter.calls
    build_organization(app, load_config())
    built = counter.calls
    app.synth()
    counts = dict(sorted(counter.per_stack.items()))
    counts["rest of the build"] = built - start - sum(counter.per_stack.values())
    counts["app.synth() with cdk-nag"] = counter.calls - built
    counts["total"] = counter.calls - start
    json.dump(counts, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
