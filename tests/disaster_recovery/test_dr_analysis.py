"""The DR analysis on its own: how it reads schedules and intrinsic values, and the exact
RPO, RTO and cost it derives, each figure pinned to the prices and durations it is made of
(so that a wrong reading cannot hide behind the tiers' order)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analysis.assembly import StackTemplate
from analysis.disaster_recovery import prices
from analysis.disaster_recovery.facts import backup_interval_hours, extract_facts, template_text
from analysis.disaster_recovery.tiers import analyse, rpo
from tests.disaster_recovery.conftest import Tier

HOME, DR = "eu-west-1", "eu-central-1"
DR_VAULT_ARN = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":backup:{DR}:666666666666:backup-vault:v"]]}


@pytest.mark.parametrize(
    ("schedule", "hours"),
    [("cron(0 */4 * * ? *)", 4), ("cron(0 * * * ? *)", 1), ("cron(0 3 * * ? *)", 24), ("cron(15 5 ? * * *)", 24)],
)
def test_schedules_every_n_hours_hourly_and_daily_are_read(schedule: str, hours: int) -> None:
    assert backup_interval_hours(schedule) == hours


@pytest.mark.parametrize(
    "schedule",
    [
        "cron(0 3 ? * MON *)",  # weekly
        "cron(0 3 ? * 2 *)",  # weekly, by number
        "cron(0 3 1 * ? *)",  # first day of each month
        "cron(0 3 L * ? *)",  # last day of each month
        "cron(0 3 * 1 ? *)",  # every day of January only
        "cron(0 3 * * ? 2027)",  # one year only
        "cron(*/30 * * * ? *)",  # not at a fixed minute
    ],
)
def test_schedules_that_run_less_often_than_daily_are_refused_not_read_as_a_day(schedule: str) -> None:
    with pytest.raises(ValueError, match="only schedules at a fixed minute every N hours or daily are analysed"):
        backup_interval_hours(schedule)


@pytest.mark.parametrize("schedule", ["cron(0 0,12 * * ? *)", "cron(0 1-5 * * ? *)"])
def test_hour_lists_and_ranges_are_refused(schedule: str) -> None:
    with pytest.raises(ValueError, match="unsupported hour field"):
        backup_interval_hours(schedule)


@pytest.mark.parametrize("schedule", ["rate(4 hours)", "cron(0 3 * * ?)", ""])
def test_what_is_not_a_six_field_cron_is_refused(schedule: str) -> None:
    with pytest.raises(ValueError, match="not a cron schedule"):
        backup_interval_hours(schedule)


@pytest.mark.parametrize(
    "value",
    [
        {"Ref": "DrVault"},
        {"Fn::GetAtt": ["DrVault", "BackupVaultArn"]},
        {"Fn::Sub": "arn:${AWS::Partition}:backup:${DrRegion}:1:backup-vault:v"},
        {"Fn::GetStackOutput": {"StackName": "dr-recovery", "OutputName": "Vault"}},
        {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
        {"Fn::Join": "not a list"},
        {"Fn::Join": [",", "not a list"]},
        {"Fn::Join": [{"Ref": "Sep"}, ["a", "b"]]},
        {"Fn::Join": ["", ["a"]], "Extra": 1},
        ["a", "b"],
        None,
        7,
    ],
)
def test_other_intrinsics_become_json_text_and_never_crash(value: Any) -> None:
    text = template_text(value)
    assert isinstance(text, str) and f":backup:{DR}:" not in text


def test_joins_are_read_through_nested_references() -> None:
    assert template_text(DR_VAULT_ARN) == f'arn:{{"Ref": "AWS::Partition"}}:backup:{DR}:666666666666:backup-vault:v'


def _stacks(schedule: str, destination: Any) -> list[StackTemplate]:
    home = {
        "Resources": {
            "Plan": {
                "Type": "AWS::Backup::BackupPlan",
                "Properties": {
                    "BackupPlan": {
                        "BackupPlanRule": [
                            {
                                "ScheduleExpression": schedule,
                                "StartWindowMinutes": 60,
                                "CopyActions": [{"DestinationBackupVaultArn": destination}],
                            }
                        ]
                    }
                },
            }
        }
    }
    dr = {"Resources": {"Vault": {"Type": "AWS::Backup::BackupVault", "Properties": {"LockConfiguration": {}}}}}
    return [
        StackTemplate("dr-home", "666666666666", HOME, Path("home.json"), home),
        StackTemplate("dr-recovery", "666666666666", DR, Path("dr.json"), dr),
    ]


def test_a_backup_copied_to_the_dr_region_bounds_the_rpo_by_its_interval_and_start_window() -> None:
    facts = extract_facts(_stacks("cron(0 */6 * * ? *)", DR_VAULT_ARN), home_region=HOME, dr_region=DR)
    assert (facts.backup_interval_hours, facts.backup_start_window_minutes) == (6, 60)
    assert rpo(facts).seconds == 6 * 3600 + 60 * 60


def test_a_weekly_backup_in_a_template_is_an_error_not_a_daily_rpo() -> None:
    with pytest.raises(ValueError, match=r"cron\(0 3 \? \* SUN \*\)"):
        extract_facts(_stacks("cron(0 3 ? * SUN *)", DR_VAULT_ARN), home_region=HOME, dr_region=DR)


def test_a_copy_destination_the_analysis_cannot_read_counts_as_no_copy() -> None:
    """A destination given by an intrinsic other than Fn::Join is not guessed to be in the
    DR region: no backup bounds the RPO, which then has no bound."""
    destination = {"Fn::GetAtt": ["Vault", "BackupVaultArn"]}
    facts = extract_facts(_stacks("cron(0 */4 * * ? *)", destination), home_region=HOME, dr_region=DR)
    assert facts.backup_interval_hours is None and rpo(facts).seconds is None


MINUTE = 60


def _expected_rto(tier: Tier) -> int:
    """The failover of each tier, step by step, from the config and the assumed durations."""
    settings = tier.config.disaster_recovery
    detect = settings.health_check_interval_seconds * settings.health_check_failure_threshold
    ttl = settings.record_ttl_seconds
    steps = {
        "backup-restore": [
            prices.DATABASE_RESTORE_MINUTES,
            prices.DATABASE_INSTANCE_CREATE_MINUTES,
            prices.FILES_RESTORE_MINUTES,
            prices.SERVICE_DEPLOY_MINUTES,
        ],
        "pilot-light": [
            prices.DATABASE_INSTANCE_CREATE_MINUTES,
            prices.GLOBAL_FAILOVER_MINUTES,
            prices.COMPUTE_ENABLE_MINUTES,
        ],
        "warm-standby": [prices.GLOBAL_FAILOVER_MINUTES, prices.COMPUTE_SCALE_MINUTES],
        "multi-site": [prices.GLOBAL_FAILOVER_MINUTES],
    }[tier.name]
    return detect + sum(steps) * MINUTE + ttl


@pytest.mark.parametrize("name", ["backup-restore", "pilot-light", "warm-standby", "multi-site"])
def test_rpo_and_rto_of_each_tier_are_exactly_what_their_parts_add_up_to(dr_tiers: dict[str, Tier], name: str) -> None:
    tier = dr_tiers[name]
    settings = tier.config.disaster_recovery
    backup = settings.backup_frequency_hours * 3600 + 60 * MINUTE  # the 60-minute start window
    expected_rpo = backup if name == "backup-restore" else 15 * MINUTE  # else: S3 RTC's 15 minutes
    assert tier.report.rpo.seconds == expected_rpo
    assert tier.report.rto_seconds == _expected_rto(tier)


def _expected_costs(tier: Tier) -> dict[str, float]:
    p = prices
    costs = {
        "backup copies (database)": p.DATABASE_GB * p.BACKUP_GB_PER_DATA_GB * p.BACKUP_AURORA_GB_MONTH,
        "backup copies (files)": p.FILES_GB * p.BACKUP_GB_PER_DATA_GB * p.BACKUP_S3_GB_MONTH,
        "KMS keys": (1 if tier.name == "backup-restore" else 2) * p.KMS_KEY_MONTH,
    }
    if tier.name == "backup-restore":
        return costs
    settings = tier.config.disaster_recovery
    costs |= {
        "Aurora storage": p.DATABASE_GB * p.AURORA_STORAGE_GB_MONTH,
        "Global Database replicated writes": p.DATABASE_WRITE_IOS_MILLION_MONTH
        * p.AURORA_REPLICATED_WRITE_IO_PER_MILLION,
        "replica files": p.FILES_GB * p.S3_STANDARD_GB_MONTH,
        "replication transfer": p.FILES_WRITTEN_GB_MONTH * p.INTER_REGION_TRANSFER_PER_GB,
        "Replication Time Control": p.FILES_WRITTEN_GB_MONTH * p.S3_RTC_PER_GB,
        "health check (HTTPS)": p.HEALTH_CHECK_AWS_ENDPOINT_MONTH + p.HEALTH_CHECK_OPTIONAL_FEATURE_MONTH,
        "health check (CLOUDWATCH_METRIC)": p.HEALTH_CHECK_AWS_ENDPOINT_MONTH,
        "health check (CALCULATED)": p.HEALTH_CHECK_AWS_ENDPOINT_MONTH,
        "CloudWatch alarms": p.CLOUDWATCH_ALARM_MONTH,
        "AWS WAF web ACL": p.WAF_WEB_ACL_MONTH + 2 * p.WAF_RULE_MONTH,
        "secret replicas": p.SECRET_MONTH,
    }
    instances = {"pilot-light": 0, "warm-standby": 1, "multi-site": settings.database_instances}[tier.name]
    if instances:
        hourly = p.AURORA_INSTANCE_HOURLY[settings.database_instance_class]
        costs[f"Aurora instances ({settings.database_instance_class})"] = instances * p.HOURS_PER_MONTH * hourly
        warm = (
            settings.standby_provisioned_concurrency
            if tier.name == "warm-standby"
            else settings.provisioned_concurrency
        )
        gb_seconds = warm * settings.function_memory_mb / 1024 * p.HOURS_PER_MONTH * 3600
        costs["provisioned concurrency"] = gb_seconds * p.LAMBDA_PROVISIONED_ARM_GB_SECOND
    return costs


@pytest.mark.parametrize("name", ["backup-restore", "pilot-light", "warm-standby", "multi-site"])
def test_dr_region_cost_of_each_tier_is_exactly_its_priced_parts(dr_tiers: dict[str, Tier], name: str) -> None:
    tier = dr_tiers[name]
    lines = {line.item: line.monthly for line in tier.report.cost.lines}
    expected = {item: round(value, 2) for item, value in _expected_costs(tier).items()}
    assert lines == expected
    assert tier.report.cost.monthly == round(sum(expected.values()), 2)


def test_analyse_reads_the_same_from_the_same_templates(dr_tiers: dict[str, Tier]) -> None:
    tier = dr_tiers["pilot-light"]
    again = analyse(tier.stacks, home_region=tier.config.regions.home, dr_region=tier.config.regions.dr)
    assert again == tier.report
