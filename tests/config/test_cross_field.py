"""The root model's rules that span sections: every mistake of a file in one run, reserved
Lambda concurrency summed per account and region across the patterns, a DR workload that
has no VPCs to run in, and pattern sections that may be left out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from org_config import ConfigError, parse_config
from org_config.loader import example_config_text
from org_config.names import bucket_names
from org_config.quotas import LAMBDA_UNRESERVED_MINIMUM
from tools import synth

PATTERN_SECTIONS = ("network", "disaster_recovery", "object_index", "streaming")


def _example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(example_config_text())
    return data


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(yaml.safe_dump(data, sort_keys=False), source="org.yaml")
    message = str(caught.value)
    assert "\n" not in message
    return message


def _account(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in data["accounts"] if a["name"] == name)


def test_five_cross_field_mistakes_are_reported_together_in_file_order() -> None:
    data = _example()
    _account(data, "audit")["id"] = _account(data, "log-archive")["id"]  # 1. an id used twice
    data["organization"]["organizational_units"][3]["parent"] = "Workload"  # 2. a parent that is no OU
    data["guardrails"]["member_roles_ous"].append("Sandboxes")  # 3. an OU that does not exist
    del data["network"]["transit_gateway_asns"]["eu-central-1"]  # 4. a region with VPCs and no ASN
    data["streaming"]["account"] = "workload-production"  # 5. an account that does not exist
    assert _error(data) == (
        "org.yaml: "
        "accounts[2].id: '222222222222' is used by more than one account; "
        "organization.organizational_units[3].parent: 'Workload' is not a defined OU; "
        "guardrails.member_roles_ous[4]: 'Sandboxes' is not a defined OU; "
        "streaming.account: 'workload-production' is not a defined account; "
        "network.transit_gateway_asns: no ASN for eu-central-1, which has VPCs"
    )


def test_a_missing_role_does_not_hide_the_other_problems_nor_crash_the_network_rules() -> None:
    data = _example()
    _account(data, "network")["role"] = "shared-services"  # no network account, two shared-services
    data["disaster_recovery"]["dr_vpc"] = "prod-backup"
    assert _error(data) == (
        "org.yaml: accounts: no account has the required role 'network'; "
        "accounts: role 'shared-services' is given to more than one account; "
        "disaster_recovery.dr_vpc: 'prod-backup' is not a VPC of network.vpcs"
    )


def test_an_ou_cycle_is_reported_once_per_ou_beside_the_other_problems() -> None:
    data = _example()
    ous = data["organization"]["organizational_units"]
    ous[2]["parent"] = "Prod"  # Workloads under Prod, which is under Workloads
    data["object_index"]["account"] = "audit"
    assert _error(data) == (
        "org.yaml: organization.organizational_units[2].parent: OU 'Workloads' is in a cycle; "
        "organization.organizational_units[3].parent: OU 'Prod' is in a cycle; "
        "organization.organizational_units[4].parent: OU 'NonProd' is in a cycle; "
        "object_index.account: 'audit' has role 'audit'; the pattern deploys only to an account with role "
        "sandbox, workload-nonprod, workload-prod"
    )


def test_the_examples_reservations_are_read_from_each_section() -> None:
    config = parse_config(example_config_text())
    places = {(r.account, r.region, r.what): r.executions for r in config.reserved_concurrency()}
    assert places == {
        ("workload-prod", "eu-west-1", "object index (indexer 8, query 20, reconcile 2)"): 30,
        ("workload-prod", "eu-west-1", "streaming consumer (4 shards x parallelization 10)"): 40,
        ("workload-prod", "eu-west-1", "DR home function and health probe"): 21,
        ("workload-prod", "eu-central-1", "DR standby function and health probe"): 1,  # pilot light: the probe
    }


def test_reserved_concurrency_is_summed_across_patterns_in_one_account_and_region() -> None:
    data = _example()
    data["disaster_recovery"]["reserved_concurrency"] = 900  # each pattern alone would fit
    assert _error(data) == (
        "org.yaml: account_quotas.lambda_concurrent_executions: account 'workload-prod' in eu-west-1 would "
        "reserve 971 concurrent executions (object index (indexer 8, query 20, reconcile 2): 30, streaming "
        "consumer (4 shards x parallelization 10): 40, DR home function and health probe: 901), more than its "
        "quota of 1000 less "
        f"the {LAMBDA_UNRESERVED_MINIMUM} Lambda keeps unreserved; lower them, or raise the quota with AWS and here"
    )


def test_a_raised_quota_accepts_the_same_reservations() -> None:
    data = _example()
    data["disaster_recovery"]["reserved_concurrency"] = 900
    data["account_quotas"] = {"lambda_concurrent_executions": 1071}  # 971 reserved + 100 unreserved
    parse_config(yaml.safe_dump(data, sort_keys=False))
    data["account_quotas"]["lambda_concurrent_executions"] = 1070
    assert "would reserve 971 concurrent executions" in _error(data)


def test_patterns_in_different_accounts_or_regions_do_not_add_up() -> None:
    data = _example()
    data["disaster_recovery"]["reserved_concurrency"] = 899  # with the health probe's 1: exactly 900
    data["object_index"]["account"] = "workload-nonprod"
    data["streaming"]["account"] = "sandbox"
    parse_config(yaml.safe_dump(data, sort_keys=False))  # 900 alone in workload-prod's home region
    # The warm standby reserves as much in the DR region, on its own there.
    data["disaster_recovery"]["tier"] = "warm-standby"
    data["disaster_recovery"]["reserved_concurrency"] = 900
    assert _error(data) == (
        "org.yaml: account_quotas.lambda_concurrent_executions: account 'workload-prod' in eu-west-1 would "
        "reserve 901 concurrent executions (DR home function and health probe: 901), more than its quota of 1000 "
        "less the 100 "
        "Lambda keeps unreserved; lower them, or raise the quota with AWS and here; "
        "account_quotas.lambda_concurrent_executions: account 'workload-prod' in eu-central-1 would reserve 901 "
        "concurrent executions (DR standby function and health probe: 901), more than its quota of 1000 less the "
        "100 Lambda keeps "
        "unreserved; lower them, or raise the quota with AWS and here"
    )


def test_the_quota_cannot_be_set_below_what_lambda_keeps_unreserved() -> None:
    data = _example()
    data["account_quotas"] = {"lambda_concurrent_executions": 99}
    assert _error(data) == (
        "org.yaml: account_quotas.lambda_concurrent_executions: Input should be greater than or equal to 100"
    )


@pytest.mark.parametrize(
    "network",
    [None, {"supernet": "10.0.0.0/8", "vpcs": {}}],
    ids=["no-network-section", "network-without-vpcs"],
)
def test_disaster_recovery_without_the_networks_vpcs_is_an_error_not_a_silent_skip(
    network: dict[str, Any] | None,
) -> None:
    data = _example()
    if network is None:
        del data["network"]
    else:
        data["network"] = network
    assert _error(data) == (
        "org.yaml: disaster_recovery: runs in the network's VPCs (home_vpc 'prod', dr_vpc 'prod-dr'), but "
        "network.vpcs has none; add the network section with them, or remove disaster_recovery"
    )


def test_only_the_organization_pattern_is_a_valid_config() -> None:
    data = _example()
    for section in PATTERN_SECTIONS:
        del data[section]
    config = parse_config(yaml.safe_dump(data, sort_keys=False))
    assert not config.has_vpcs
    assert config.reserved_concurrency() == []
    assert "object index data" not in bucket_names(config)
    for section in PATTERN_SECTIONS:
        assert getattr(config, f"{section}_section") is None
        with pytest.raises(LookupError, match=f"the config has no {section} section"):
            getattr(config, section)


def test_a_misspelt_section_is_named_with_the_key_a_file_writes() -> None:
    data = _example()
    data["netwrok"] = data.pop("network")
    # The field errors come first: the cross-field rules (DR needs the network) wait for them.
    assert _error(data) == "org.yaml: netwrok: unknown key (did you mean 'network'?)"


def test_a_cross_field_error_writes_nothing(tmp_path: Path) -> None:
    data = _example()
    data["disaster_recovery"]["reserved_concurrency"] = 900
    config_file = tmp_path / "org.yaml"
    config_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = tmp_path / "cdk.out"
    assert synth.main(["--config", str(config_file), "--out", str(out)]) == 2
    assert not out.exists()


def test_the_foundation_sections_report_every_problem_of_their_own() -> None:
    data = _example()
    data["regions"]["dr"] = "eu-west-2"  # not allowed
    data["regions"]["home"] = "eu-north-1"  # not allowed either
    data["log_archive"]["transition_to_glacier_days"] = 60  # before infrequent access (90)
    data["log_archive"]["expire_after_days"] = 30  # shorter than the lock and before glacier
    assert _error(data) == (
        "org.yaml: regions.home: 'eu-north-1' is not in regions.allowed; "
        "regions.dr: 'eu-west-2' is not in regions.allowed; "
        "log_archive.transition_to_glacier_days: must be later than transition_to_infrequent_access_days; "
        "log_archive.expire_after_days: must not be shorter than object_lock_days (locked versions cannot expire); "
        "log_archive.expire_after_days: must be later than transition_to_glacier_days"
    )
