"""The config: the example loads, and each invalid config fails with one line naming the
field and the rule, before anything is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from org_config import ConfigError, load_config, parse_config
from org_config.loader import example_config_text
from org_config.names import LOG_BUCKET_PURPOSES, log_bucket_name

ROOT = Path(__file__).resolve().parents[2]


def _example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(example_config_text())
    return data


def _render(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def _account(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in data["accounts"] if a["name"] == name)


def test_example_organization_loads() -> None:
    config = load_config()
    assert config.organization.id == "o-exampleorg1"
    assert {a.role.value for a in config.accounts} >= {"management", "log-archive", "audit", "network"}
    assert config.regions.home != config.regions.dr


def test_bucket_names_fit_s3_rules_for_the_longest_prefix_and_region() -> None:
    data = _example()
    data["organization"]["name_prefix"] = "a" * 20
    data["regions"] = {
        "home": "ap-southeast-7",
        "dr": "eu-west-1",
        "allowed": ["ap-southeast-7", "eu-west-1"],
    }
    data["network"] = {"supernet": "10.0.0.0/8", "vpcs": {}}  # bucket names do not depend on the network
    del data["disaster_recovery"]  # which would need the network's VPCs
    config = parse_config(_render(data))
    for purpose in LOG_BUCKET_PURPOSES:
        assert len(log_bucket_name(config, purpose)) <= 63


def _mutate_account_id(d: dict[str, Any]) -> None:
    _account(d, "audit")["id"] = "3333333333333"


def _unquoted_account_id(d: dict[str, Any]) -> None:
    _account(d, "audit")["id"] = 333333333333


def _duplicate_account_id(d: dict[str, Any]) -> None:
    _account(d, "audit")["id"] = _account(d, "log-archive")["id"]


def _duplicate_email(d: dict[str, Any]) -> None:
    _account(d, "audit")["email"] = _account(d, "log-archive")["email"].upper()


def _invalid_email(d: dict[str, Any]) -> None:
    _account(d, "audit")["email"] = "audit-at-example.com"


def _unknown_region(d: dict[str, Any]) -> None:
    d["regions"]["allowed"].append("eu-west-9")


def _dr_equals_home(d: dict[str, Any]) -> None:
    d["regions"]["dr"] = d["regions"]["home"]


def _home_not_allowed(d: dict[str, Any]) -> None:
    d["regions"]["allowed"] = ["eu-central-1"]


def _overlapping_cidrs(d: dict[str, Any]) -> None:
    d["network"]["vpcs"]["nonprod"]["cidr"] = "10.10.128.0/17"


def _overlapping_on_premises(d: dict[str, Any]) -> None:
    d["network"]["on_premises"] = ["10.20.0.0/24"]


def _malformed_cidr(d: dict[str, Any]) -> None:
    d["network"]["vpcs"]["prod"]["cidr"] = "10.10.0.1/16"


def _cidr_outside_supernet(d: dict[str, Any]) -> None:
    d["network"]["vpcs"]["prod"]["cidr"] = "192.168.0.0/16"


def _ou_unknown_parent(d: dict[str, Any]) -> None:
    d["organization"]["organizational_units"].append({"name": "Labs", "parent": "Research"})


def _ou_cycle(d: dict[str, Any]) -> None:
    ous = d["organization"]["organizational_units"]
    next(o for o in ous if o["name"] == "Workloads")["parent"] = "Prod"


def _account_in_no_ou(d: dict[str, Any]) -> None:
    del _account(d, "sandbox")["ou"]


def _account_in_unknown_ou(d: dict[str, Any]) -> None:
    _account(d, "sandbox")["ou"] = "Playground"


def _missing_required_role(d: dict[str, Any]) -> None:
    d["accounts"] = [a for a in d["accounts"] if a["role"] != "audit"]


def _unknown_role(d: dict[str, Any]) -> None:
    _account(d, "sandbox")["role"] = "experiments"


def _unknown_key(d: dict[str, Any]) -> None:
    d["regions"]["primary"] = "eu-west-1"


def _unknown_dr_tier(d: dict[str, Any]) -> None:
    d["disaster_recovery"]["tier"] = "hot-standby"


def _bad_org_id(d: dict[str, Any]) -> None:
    d["organization"]["id"] = "org-123"


def _expiry_before_lock(d: dict[str, Any]) -> None:
    d["log_archive"]["expire_after_days"] = 200
    d["log_archive"]["object_lock_days"] = 365


def _vpc_in_unknown_account(d: dict[str, Any]) -> None:
    d["network"]["vpcs"]["prod"]["account"] = "workload-staging"


def _management_in_an_ou(d: dict[str, Any]) -> None:
    _account(d, "management")["ou"] = "Security"


INVALID = [
    (_mutate_account_id, "accounts[2].id: account id must be exactly 12 digits"),
    (_unquoted_account_id, "accounts[2].id: account id must be a quoted string"),
    (_duplicate_account_id, "accounts[2].id: '222222222222' is used by more than one account"),
    (_duplicate_email, "accounts[2].email: 'AWS-LOG-ARCHIVE@EXAMPLE.COM' is used by more than one account"),
    (_invalid_email, "accounts[2].email: not a valid email address"),
    (_unknown_region, "regions.allowed: unknown AWS region 'eu-west-9'"),
    (_dr_equals_home, "regions.dr: must differ from regions.home"),
    (_home_not_allowed, "regions.home: 'eu-west-1' is not in regions.allowed"),
    (_overlapping_cidrs, "network.vpcs.nonprod.cidr: 10.10.128.0/17 overlaps network.vpcs.prod.cidr"),
    (_overlapping_on_premises, "network.on_premises[0]: 10.20.0.0/24 overlaps network.vpcs.nonprod.cidr"),
    (_malformed_cidr, "network.vpcs.prod.cidr: not a valid IPv4 CIDR block '10.10.0.1/16'"),
    (_cidr_outside_supernet, "network.vpcs.prod.cidr: 192.168.0.0/16 is outside network.supernet"),
    (_ou_unknown_parent, "organization.organizational_units[7].parent: 'Research' is not a defined OU"),
    (_ou_cycle, "is in a cycle"),
    (_account_in_no_ou, "accounts[7].ou: Field required"),
    (_account_in_unknown_ou, "accounts[7].ou: 'Playground' is not a defined OU"),
    (_missing_required_role, "accounts: no account has the required role 'audit'"),
    (_unknown_role, "accounts[7].role: unknown account role 'experiments'"),
    (_unknown_key, "regions.primary: unknown key"),
    (_unknown_dr_tier, "disaster_recovery.tier: unknown tier 'hot-standby'"),
    (
        _bad_org_id,
        "organization.id: must be an organization id: 'o-' and 10 to 32 lowercase letters or digits (got \"org-123\")",
    ),
    (_expiry_before_lock, "log_archive.expire_after_days: must not be shorter than object_lock_days"),
    (_vpc_in_unknown_account, "network.vpcs.prod.account: 'workload-staging' is not a defined account"),
    (_management_in_an_ou, "accounts[0].ou: the management account stays at the root"),
]


@pytest.mark.parametrize(("mutate", "expected"), INVALID, ids=[m.__name__.strip("_") for m, _ in INVALID])
def test_invalid_config_names_field_and_rule(mutate: Any, expected: str) -> None:
    data = _example()
    mutate(data)
    with pytest.raises(ConfigError) as error:
        parse_config(_render(data), source="org.yaml")
    message = str(error.value)
    assert "\n" not in message, "the error must be one line"
    assert message.startswith("org.yaml: ")
    assert expected in message


def test_duplicate_yaml_key_is_an_error() -> None:
    text = example_config_text().replace("  home: eu-west-1\n", "  home: eu-west-1\n  home: eu-west-2\n")
    with pytest.raises(ConfigError, match=r"org.yaml: line \d+: key 'home' is given twice"):
        parse_config(text, source="org.yaml")


def test_not_yaml_and_not_a_mapping() -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_config("accounts: [", source="org.yaml")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        parse_config("- just a list", source="org.yaml")


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config("does/not/exist.yaml")


def test_app_refuses_invalid_config_before_writing_anything(tmp_path: Path) -> None:
    """The real entry point: exit non-zero, one line on stderr, no cloud assembly."""
    data = _example()
    _overlapping_cidrs(data)
    config_file = tmp_path / "org.yaml"
    config_file.write_text(_render(data))
    outdir = tmp_path / "cdk.out"
    env = {**os.environ, "ORG_CONFIG": str(config_file), "CDK_OUTDIR": str(outdir)}
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith(f"config error: {config_file}: network.vpcs.")
    assert not outdir.exists() or not any(outdir.iterdir())


def test_context_value_selects_the_config(tmp_path: Path) -> None:
    """`cdk synth -c config=FILE` reaches app.py as context and wins over ORG_CONFIG."""
    data = _example()
    _invalid_email(data)
    config_file = tmp_path / "org.yaml"
    config_file.write_text(_render(data))
    env = {
        **os.environ,
        "ORG_CONFIG": "ignored.yaml",
        "CDK_CONTEXT_JSON": f'{{"config": "{config_file}"}}',
        "CDK_OUTDIR": str(tmp_path / "out"),
    }
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "accounts[2].email: not a valid email address" in result.stderr
