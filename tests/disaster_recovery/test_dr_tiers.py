"""All four tiers side by side: the metrics derived from the templates fall and rise in
the order the tiers promise, each tier's DR region holds exactly what its row says, and
the tiers the example does not deploy pass the same gates as every other stack."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from analysis import gates
from analysis.assembly import StackTemplate
from org_config.model import DR_TIERS
from tests.disaster_recovery.conftest import Tier
from tests.support.synthesis import temporary_outdir

ORDER = list(DR_TIERS)  # backup-restore, pilot-light, warm-standby, multi-site


def test_rpo_falls_from_backup_restore_to_multi_site(dr_tiers: dict[str, Tier]) -> None:
    rpos = [dr_tiers[name].report.rpo.seconds for name in ORDER]
    assert all(r is not None for r in rpos), rpos
    values = [r for r in rpos if r is not None]
    # Backups lose hours; pilot light, warm standby and multi-site share one replication
    # (Aurora Global Database and S3 replication), so they lose the same minutes.
    assert values[0] > values[1], values
    assert values == sorted(values, reverse=True), values
    database = [dr_tiers[name].report.rpo.database_seconds for name in ORDER]
    assert database[0] is not None and database[0] >= 3600
    assert database[1:] == [1, 1, 1]


def test_rto_falls_strictly_from_backup_restore_to_multi_site(dr_tiers: dict[str, Tier]) -> None:
    rtos = [dr_tiers[name].report.rto_seconds for name in ORDER]
    assert rtos == sorted(rtos, reverse=True) and len(set(rtos)) == len(rtos), rtos


def test_dr_region_cost_rises_strictly_from_backup_restore_to_multi_site(dr_tiers: dict[str, Tier]) -> None:
    costs = [dr_tiers[name].report.cost.monthly for name in ORDER]
    assert costs == sorted(costs) and len(set(costs)) == len(costs), costs


def _dr_types(tier: Tier) -> dict[str, int]:
    counts: dict[str, int] = {}
    for stack in tier.stacks:
        if stack.region != tier.config.regions.dr:
            continue
        for resource in stack.template["Resources"].values():
            counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
    return counts


def test_backup_restore_keeps_only_backups_in_the_dr_region(dr_tiers: dict[str, Tier]) -> None:
    tier = dr_tiers["backup-restore"]
    types = _dr_types(tier)
    assert types == {"AWS::KMS::Key": 1, "AWS::KMS::Alias": 1, "AWS::Backup::BackupVault": 1}, types
    facts = tier.report.facts
    assert facts.dr_vault_locked and facts.backup_interval_hours == tier.config.disaster_recovery.backup_frequency_hours


def test_pilot_light_replicates_data_and_keeps_compute_off(dr_tiers: dict[str, Tier]) -> None:
    tier = dr_tiers["pilot-light"]
    types = _dr_types(tier)
    assert types["AWS::RDS::DBCluster"] == 1 and "AWS::RDS::DBInstance" not in types
    facts = tier.report.facts
    assert facts.dr_cluster == "secondary" and facts.files_replicated
    assert facts.dr_function is not None
    assert facts.dr_function.reserved_concurrency == 0 and facts.dr_function.provisioned_concurrency == 0
    assert facts.dr_routing == "failover"


def test_warm_standby_adds_a_reader_and_minimum_compute(dr_tiers: dict[str, Tier]) -> None:
    tier = dr_tiers["warm-standby"]
    settings = tier.config.disaster_recovery
    assert _dr_types(tier)["AWS::RDS::DBInstance"] == 1
    facts = tier.report.facts
    assert facts.dr_function is not None
    assert facts.dr_function.reserved_concurrency == settings.reserved_concurrency
    assert facts.dr_function.provisioned_concurrency == settings.standby_provisioned_concurrency
    assert facts.dr_routing == "failover"
    assert sorted(c.type for c in facts.dr_health_checks) == ["CALCULATED", "CLOUDWATCH_METRIC", "HTTPS"]


def test_multi_site_serves_from_both_regions_at_production_size(dr_tiers: dict[str, Tier]) -> None:
    tier = dr_tiers["multi-site"]
    settings = tier.config.disaster_recovery
    facts = tier.report.facts
    assert facts.dr_instances == facts.home_instances and len(facts.dr_instances) == settings.database_instances
    assert facts.dr_function is not None and facts.home_function is not None
    assert facts.dr_function.provisioned_concurrency == facts.home_function.provisioned_concurrency
    assert facts.dr_routing == "latency"
    assert facts.write_forwarding == (settings.multi_site_writes == "write-forwarding")


OTHER_TIERS = [name for name in DR_TIERS if name != "pilot-light"]


@pytest.mark.parametrize("name", OTHER_TIERS)
def test_other_tiers_pass_cdk_nag(dr_tiers: dict[str, Tier], name: str) -> None:
    assert dr_tiers[name].synthesis.validation_error is None, dr_tiers[name].synthesis.validation_error


@pytest.fixture(scope="module")
def other_tier_stacks(dr_tiers: dict[str, Tier]) -> list[StackTemplate]:
    """The three tiers' DR stacks, their templates copied as ``<tier>--<template>``: the
    tiers' stacks share their names, and each scanner then starts once for all of them
    (most of a scanner's time is its start-up)."""
    folder = temporary_outdir("cdk-out-dr-scan-")
    copies: list[StackTemplate] = []
    for name in OTHER_TIERS:
        for stack in dr_tiers[name].stacks:
            path = folder / f"{name}--{stack.template_path.name}"
            shutil.copyfile(stack.template_path, path)
            copies.append(replace(stack, name=f"{name}/{stack.name}", template_path=path))
    return copies


GATES = [gates.cfn_lint, gates.checkov, gates.control_tower_controls, gates.cdk_nag_reasons, gates.limits]
GATES += [gates.retention, gates.offline]


@pytest.mark.parametrize("gate", GATES, ids=[g.__name__ for g in GATES])
def test_other_tiers_pass_every_template_gate(other_tier_stacks: list[StackTemplate], gate: gates.Gate) -> None:
    findings = gate(other_tier_stacks)
    assert not findings, "\n".join(map(str, findings))
