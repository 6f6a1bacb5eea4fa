"""The settings tables on the pattern pages: generated from the config model, and drift
tested without a synth."""

from __future__ import annotations

import pytest

from tools import docs
from tools.settings_tables import PAGE_SECTIONS, settings_table

PAGES = docs.settings_pages({})


@pytest.mark.parametrize("page", sorted(PAGE_SECTIONS))
def test_the_settings_tables_on_each_page_match_the_config_model(page: str) -> None:
    path = docs.ROOT / "docs" / page
    assert path.read_text(encoding="utf-8") == PAGES[path], f"{page} drifted: run make docs"


def _row(section: str, key: str) -> list[str]:
    for line in settings_table(section).splitlines():
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        if cells[0] == f"`{key}`":
            return cells[1:]
    raise AssertionError(f"no row for {key}")


def test_every_top_level_section_has_a_table_on_some_page() -> None:
    documented = {section for sections in PAGE_SECTIONS.values() for section in sections}
    keys = {field.alias or name for name, field in docs.OrgConfig.model_fields.items()}
    assert documented == keys


def test_a_table_names_every_key_with_its_default_or_required_and_its_rule() -> None:
    for key in ("account", "home_vpc", "dr_vpc", "function_memory_mb", "log_retention_days"):
        _row("disaster_recovery", f"disaster_recovery.{key}")  # the keys the hand-written table left out
    assert _row("network", "network") == [
        "optional",
        "mapping; pattern 2, the hub-and-spoke Transit Gateway network; absent: no network is built",
    ]
    assert _row("network", "network.vpcs.<name>.cidr")[0] == "required"
    assert _row("accounts", "accounts[].role")[1].endswith(
        "one of `management`, `log-archive`, `audit`, "
        "`network`, `shared-services`, `workload-prod`, "
        "`workload-nonprod`, `sandbox`"
    )
    assert _row("account_quotas", "account_quotas.lambda_concurrent_executions")[0] == "`1000`"
    assert _row("guardrails", "guardrails.sandbox_instance_types") == [
        '`["t3.*", "t4g.*"]`',
        "list of text; at least 1 item; each must be an EC2 instance type or family wildcard such as t3.micro or t3.*",
    ]
    assert _row("log_archive", "log_archive.object_lock_days") == [
        "`365`",
        "integer; at least 1 and at most 36500",
    ]
