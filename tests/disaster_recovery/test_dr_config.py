"""The disaster_recovery section of the config: each invalid value fails with one line
naming the field and the rule, before anything is synthesized."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from org_config import ConfigError, parse_config
from org_config.loader import example_config_text


def _example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(example_config_text())
    return data


def _parse(data: dict[str, Any]) -> Any:
    return parse_config(yaml.safe_dump(data, sort_keys=False), source="org.yaml")


def _dr(**values: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data["disaster_recovery"].update(values)

    mutate.__name__ = "_".join(values)
    return mutate


def _regions(**values: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data["regions"].update(values)

    mutate.__name__ = "regions_" + "_".join(values)
    return mutate


INVALID = [
    (_dr(tier="hot-standby"), "disaster_recovery.tier: unknown tier 'hot-standby' (allowed: backup-restore,"),
    (_regions(dr="eu-west-1"), "regions.dr: must differ from regions.home (both are 'eu-west-1')"),
    (_regions(dr="us-east-1"), "regions.dr: 'us-east-1' is not in regions.allowed"),
    (
        _dr(tier="backup-restore", backup_frequency_hours=24, rpo_target_minutes=240),
        "disaster_recovery.backup_frequency_hours: a backup every 24 h (plus the 60-minute start window) "
        "cannot meet rpo_target_minutes 240",
    ),
    (_dr(backup_frequency_hours=5), "disaster_recovery.backup_frequency_hours: 5 does not divide the day"),
    (_dr(health_check_failure_threshold=0), "disaster_recovery.health_check_failure_threshold: 0 is outside"),
    (_dr(health_check_failure_threshold=11), "disaster_recovery.health_check_failure_threshold: 11 is outside"),
    (_dr(health_check_interval_seconds=20), "disaster_recovery.health_check_interval_seconds: 20 is not a Route 53"),
    (_dr(hosted_zone_name="localhost"), "disaster_recovery.hosted_zone_name: 'localhost' is not a domain name"),
    (_dr(hosted_zone_name="dr.example.com."), "disaster_recovery.hosted_zone_name: 'dr.example.com.' is not a domain"),
    (_dr(hosted_zone_name="Dr_Example.com"), "disaster_recovery.hosted_zone_name: 'Dr_Example.com' is not a domain"),
    (_dr(record_name="app.web"), "disaster_recovery.record_name: String should match pattern"),
    (_dr(database_instance_class="db.t4g.medium"), "disaster_recovery.database_instance_class: String should match"),
    (
        _dr(standby_provisioned_concurrency=5),
        "disaster_recovery.standby_provisioned_concurrency: must not exceed provisioned_concurrency",
    ),
    (_dr(reserved_concurrency=3), "disaster_recovery.reserved_concurrency: must be at least provisioned_concurrency"),
    (
        _dr(vault_lock_min_retention_days=40),
        "disaster_recovery.vault_lock_min_retention_days: must not exceed backup_retention_days",
    ),
    (_dr(account="payments"), "disaster_recovery.account: 'payments' is not a defined account"),
    (_dr(account="network"), "disaster_recovery.account: 'network' has role 'network'; the pattern deploys only"),
    (_dr(home_vpc="prod-eu"), "disaster_recovery.home_vpc: 'prod-eu' is not a VPC of network.vpcs"),
    (_dr(dr_vpc="prod"), "disaster_recovery.dr_vpc: 'prod' is in eu-west-1, not eu-central-1"),
    (_dr(home_vpc="nonprod"), "disaster_recovery.home_vpc: 'nonprod' is shared with 'workload-nonprod'"),
    (_dr(multi_site_writes="multi-writer"), "disaster_recovery.multi_site_writes: Input should be 'single-writer'"),
    (_dr(rpo_minutes=5), "disaster_recovery.rpo_minutes: unknown key"),
    (
        _dr(hosted_zone_name="dr.example.com"),
        "disaster_recovery.hosted_zone_name: 'dr.example.com' is under example.com, which is reserved for "
        "documentation (RFC 2606): Route 53 or the public DNS refuses it; use a zone of a domain you own",
    ),
    (_dr(hosted_zone_name="example.org"), "disaster_recovery.hosted_zone_name: 'example.org' is under example.org,"),
    (
        _dr(hosted_zone_name="dr.northwind.test"),
        "disaster_recovery.hosted_zone_name: 'dr.northwind.test' is under .test,",
    ),
    (_dr(hosted_zone_name="app.example"), "disaster_recovery.hosted_zone_name: 'app.example' is under .example,"),
    (
        _dr(hosted_zone_id="/hostedzone/Z123"),
        "disaster_recovery.hosted_zone_id: '/hostedzone/Z123' is not a Route 53 hosted zone id ('Z' and up to 31 "
        "upper-case letters or digits, without the '/hostedzone/' prefix)",
    ),
    (_dr(hosted_zone_id="z0123456789"), "disaster_recovery.hosted_zone_id: 'z0123456789' is not a Route 53 hosted"),
    (_dr(hosted_zone_id="Z" + "A" * 32), f"disaster_recovery.hosted_zone_id: 'Z{'A' * 32}' is not a Route 53"),
    (_dr(api_rate_limit_per_second=0), "disaster_recovery.api_rate_limit_per_second: Input should be greater than"),
    (_dr(api_burst_limit=5001), "disaster_recovery.api_burst_limit: Input should be less than or equal to 5000"),
    (
        _dr(waf_requests_per_ip_per_5_minutes=9),
        "disaster_recovery.waf_requests_per_ip_per_5_minutes: Input should be greater than or equal to 10",
    ),
]


def _without(*keys: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        for key in keys:
            del data["disaster_recovery"][key]

    mutate.__name__ = "without_" + "_".join(keys)
    return mutate


REQUIRED = ["account", "hosted_zone_name", "hosted_zone_id"]


@pytest.mark.parametrize("key", REQUIRED)
def test_a_present_section_must_name_its_account_and_zone(key: str) -> None:
    """No example value stands in for the user's account or zone: each is required."""
    data = _example()
    _without(key)(data)
    with pytest.raises(ConfigError) as error:
        _parse(data)
    assert str(error.value) == f"org.yaml: disaster_recovery.{key}: Field required"


def test_every_missing_key_is_named_in_one_run() -> None:
    data = _example()
    _without(*REQUIRED)(data)
    with pytest.raises(ConfigError) as error:
        _parse(data)
    assert str(error.value) == "org.yaml: " + "; ".join(f"disaster_recovery.{key}: Field required" for key in REQUIRED)


def test_every_cross_field_problem_of_the_section_is_named_in_one_run() -> None:
    data = _example()
    data["disaster_recovery"].update(
        tier="backup-restore",
        backup_frequency_hours=24,
        rpo_target_minutes=240,
        standby_provisioned_concurrency=5,
        reserved_concurrency=3,
        vault_lock_min_retention_days=40,
    )
    with pytest.raises(ConfigError) as error:
        _parse(data)
    assert str(error.value) == (
        "org.yaml: disaster_recovery.backup_frequency_hours: a backup every 24 h (plus the 60-minute start "
        "window) cannot meet rpo_target_minutes 240; "
        "disaster_recovery.standby_provisioned_concurrency: must not exceed provisioned_concurrency; "
        "disaster_recovery.reserved_concurrency: must be at least provisioned_concurrency; "
        "disaster_recovery.vault_lock_min_retention_days: must not exceed backup_retention_days"
    )


def test_a_config_without_the_section_builds_no_dr_stacks() -> None:
    data = _example()
    del data["disaster_recovery"]
    config = _parse(data)
    assert config.disaster_recovery_section is None
    from stacks.disaster_recovery.placement import build_disaster_recovery

    assert build_disaster_recovery(object(), config) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tier", "home", "dr"),
    [("backup-restore", 21, 0), ("pilot-light", 21, 1), ("warm-standby", 21, 21), ("multi-site", 21, 21)],
)
def test_reserved_concurrency_by_region_counts_the_service_and_the_probe(tier: str, home: int, dr: int) -> None:
    """What the config engineer's per-account sum reads: the service function's reserved
    concurrency (20 in the example) plus the health probe's 1, where a service runs."""
    data = _example()
    data["disaster_recovery"]["tier"] = tier
    assert _parse(data).disaster_recovery.reserved_concurrency_by_region() == {"home": home, "dr": dr}


@pytest.mark.parametrize(("mutate", "message"), INVALID, ids=[m.__name__ for m, _ in INVALID])
def test_invalid_disaster_recovery_config_names_field_and_rule(
    mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    data = _example()
    mutate(data)
    with pytest.raises(ConfigError) as error:
        _parse(data)
    text = str(error.value)
    assert "\n" not in text
    assert text.startswith(f"org.yaml: {message}"), text


@pytest.mark.parametrize("tier", ["backup-restore", "pilot-light", "warm-standby", "multi-site"])
def test_every_tier_is_one_value_away(tier: str) -> None:
    data = _example()
    data["disaster_recovery"]["tier"] = tier
    assert _parse(data).disaster_recovery.tier == tier


def test_backup_frequency_that_meets_the_target_is_accepted() -> None:
    data = _example()
    data["disaster_recovery"].update(tier="backup-restore", backup_frequency_hours=4, rpo_target_minutes=300)
    assert _parse(data).disaster_recovery.backup_frequency_hours == 4
