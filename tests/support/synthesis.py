"""Synthesize an app in-process, the way ``cdk synth`` does, and read the result back."""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from analysis.assembly import StackTemplate, read_assembly
from org_config import OrgConfig, load_config
from stacks.organization_app import build_organization

ROOT = Path(__file__).resolve().parents[2]

# What the CDK CLI adds to cdk.json's context when it runs app.py, so an in-process synth
# gives the same templates (the determinism test checks that it does).
_CLI_CONTEXT: dict[str, Any] = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": False,
}


def app_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return {**context, **_CLI_CONTEXT}


@dataclass(frozen=True)
class Synthesis:
    outdir: Path
    stacks: list[StackTemplate]
    validation_error: str | None  # set when a synth-time gate (cdk-nag) failed the synth

    def stack(self, name: str) -> StackTemplate:
        return next(s for s in self.stacks if s.name == name)

    @property
    def validation_report(self) -> dict[str, Any]:
        return json.loads((self.outdir / "policy-validation-report.json").read_text())


def synthesize(app: cdk.App, outdir: Path) -> Synthesis:
    """Synthesize ``app`` (created with ``outdir``); a failing synth-time gate is recorded,
    not raised, so the other gates still see the templates."""
    try:
        app.synth()
        error = None
    except RuntimeError as err:  # jsii surfaces the CDK's ValidationError as RuntimeError
        error = str(err)
    return Synthesis(outdir, read_assembly(outdir), error)


def new_app(outdir: Path) -> cdk.App:
    return cdk.App(outdir=str(outdir), context=app_context())


def synthesize_organization(config: OrgConfig, outdir: Path) -> Synthesis:
    app = new_app(outdir)
    build_organization(app, config)
    return synthesize(app, outdir)


def temporary_outdir(prefix: str = "cdk-out-") -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@functools.cache
def example_organization() -> Synthesis:
    """The one synth of the example organization that every gate and assertion shares."""
    return synthesize_organization(load_config(), temporary_outdir())


COMMITTED_CONFIGS = ROOT / "tests" / "configs"


@functools.cache
def committed_organization(name: str) -> Synthesis:
    """The one in-process synth of ``tests/configs/<name>.yaml`` that a session shares."""
    return synthesize_organization(
        load_config(COMMITTED_CONFIGS / f"{name}.yaml"), temporary_outdir(f"cdk-out-{name}-")
    )
