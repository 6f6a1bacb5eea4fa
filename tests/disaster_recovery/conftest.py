"""The four DR tiers, synthesized once per test session.

The example organization's own tier comes from the session's whole-organization synth;
each other tier is synthesized alone (only the DR stacks, each tier in its own app), so
the tier tests cost three small synths, not three whole organizations.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from analysis.assembly import StackTemplate
from analysis.disaster_recovery.tiers import TierReport, analyse
from cdk_constructs.gates import attach_gates
from org_config import OrgConfig, load_config, parse_config
from org_config.loader import example_config_text
from org_config.model import DR_TIERS
from stacks.disaster_recovery.placement import build_disaster_recovery
from tests.support.synthesis import Synthesis, example_organization, new_app, synthesize, temporary_outdir

DR_PREFIX = "dr-"


@dataclass(frozen=True)
class Tier:
    name: str
    config: OrgConfig
    synthesis: Synthesis  # for the example's tier: the whole organization
    stacks: list[StackTemplate]  # the DR stacks only
    report: TierReport


def config_at(tier: str) -> OrgConfig:
    data: dict[str, Any] = yaml.safe_load(example_config_text())
    data["disaster_recovery"]["tier"] = tier
    return parse_config(yaml.safe_dump(data, sort_keys=False))


@functools.cache
def tiers() -> dict[str, Tier]:
    example = load_config()
    found: dict[str, Tier] = {}
    for name in DR_TIERS:
        if name == example.disaster_recovery.tier:
            config, synthesis = example, example_organization()
        else:
            config = config_at(name)
            outdir = temporary_outdir(f"cdk-out-{name}-")
            app = new_app(outdir)
            attach_gates(app)
            build_disaster_recovery(app, config)
            synthesis = synthesize(app, outdir)
        stacks = [s for s in synthesis.stacks if s.name.startswith(DR_PREFIX)]
        report = analyse(stacks, home_region=config.regions.home, dr_region=config.regions.dr)
        found[name] = Tier(name, config, synthesis, stacks, report)
    return found


@pytest.fixture(scope="session")
def dr_tiers() -> dict[str, Tier]:
    return tiers()
