"""The DR page's generated tables and runbooks match the four tiers' templates."""

from __future__ import annotations

from tests.disaster_recovery.conftest import Tier
from tests.support.synthesis import Synthesis
from tools.docs import DISASTER_RECOVERY_PAGE, pages


def test_disaster_recovery_page_matches_the_templates(synthesis: Synthesis, dr_tiers: dict[str, Tier]) -> None:
    expected = pages(synthesis.outdir, dr_reports={name: tier.report for name, tier in dr_tiers.items()})
    current = DISASTER_RECOVERY_PAGE.read_text(encoding="utf-8")
    assert current == expected[DISASTER_RECOVERY_PAGE], "the page drifted: run `make docs`"
