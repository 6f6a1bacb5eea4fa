"""The DR analysis of all four tiers, for the doc page: the example's own tier is read
from its assembly, each other tier is synthesized alone (its DR stacks only) into a
temporary directory."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import yaml

from analysis.assembly import read_assembly
from analysis.disaster_recovery.tiers import TierReport, analyse
from cdk_constructs.gates import attach_gates
from org_config import OrgConfig, load_config, parse_config
from org_config.loader import example_config_text
from org_config.model import DR_TIERS
from stacks.disaster_recovery.placement import build_disaster_recovery

ROOT = Path(__file__).resolve().parents[1]
DR_PREFIX = "dr-"


def config_at(tier: str) -> OrgConfig:
    """The example organization with only the tier changed."""
    data: dict[str, Any] = yaml.safe_load(example_config_text())
    data["disaster_recovery"]["tier"] = tier
    return parse_config(yaml.safe_dump(data, sort_keys=False))


def synthesize_tier(config: OrgConfig, outdir: Path) -> None:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    app = cdk.App(outdir=str(outdir), context=context)
    attach_gates(app)
    build_disaster_recovery(app, config)
    app.synth()


def tier_reports(example_outdir: str | Path) -> dict[str, TierReport]:
    example = load_config()
    if example.disaster_recovery is None:
        raise ValueError("the example organization has no disaster_recovery section")
    example_tier = example.disaster_recovery.tier
    reports: dict[str, TierReport] = {}
    for tier in DR_TIERS:
        config = example if tier == example_tier else config_at(tier)
        if tier == example_tier:
            outdir = Path(example_outdir)
        else:
            outdir = Path(tempfile.mkdtemp(prefix=f"cdk-out-{tier}-"))
            synthesize_tier(config, outdir)
        stacks = [s for s in read_assembly(outdir) if s.name.startswith(DR_PREFIX)]
        reports[tier] = analyse(stacks, home_region=config.regions.home, dr_region=config.regions.dr)
    return reports
