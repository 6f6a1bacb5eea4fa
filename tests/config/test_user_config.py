"""A user's own config: every bad value refused in one line that names the file, the field
and the rule; nothing written or lost on a failed synth; the example's doc pages never
rewritten for another organization.

The table below is the list of cases a new user ran into; each one failed (a traceback,
a silent acceptance, or an unhelpful message) before the rule it tests existed.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml

from org_config import ConfigError, load_config, parse_config
from org_config.loader import MAX_CONFIG_BYTES, example_config_text
from org_config.model import LogArchive, ScpLimits
from org_config.names import bucket_name_problem
from tests.support.synthesis import app_context
from tools import synth

ROOT = Path(__file__).resolve().parents[2]


def _example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(example_config_text())
    return data


def _render(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(_render(data), encoding="utf-8")
    return path


def _many_sandbox_accounts(d: dict[str, Any], count: int) -> list[str]:
    names = []
    for index in range(count):
        name = f"lab-{index:03d}"
        d["accounts"].append(
            {"name": name, "id": f"5{index:011d}", "email": f"{name}@example.com", "role": "sandbox", "ou": "Sandbox"}
        )
        names.append(name)
    return names


def _assign_everyone_everywhere(d: dict[str, Any]) -> None:
    names = _many_sandbox_accounts(d, 85)
    for assignment in d["identity_center"]["assignments"]:
        assignment["accounts"] = [*assignment["accounts"], *names]


def _ou(d: dict[str, Any], name: str) -> dict[str, Any]:
    return next(o for o in d["organization"]["organizational_units"] if o["name"] == name)


# (what the user wrote, the field and rule the one-line error must name)
CASES: list[tuple[str, Any, str]] = [
    (
        "same group and account assigned twice",
        lambda d: d["identity_center"]["assignments"].append(copy.deepcopy(d["identity_center"]["assignments"][2])),
        "identity_center.assignments[3].accounts[0]: group 'NetworkEngineers' already gets 'network-administrator' "
        "in 'network' at identity_center.assignments[2].accounts[0]",
    ),
    (
        "name prefix aws",
        lambda d: d["organization"].__setitem__("name_prefix", "aws"),
        "organization.name_prefix: 'aws' would make key aliases start with alias/aws/, which KMS reserves",
    ),
    (
        "assignments past the resource budget",
        _assign_everyone_everywhere,
        "identity_center.assignments: 270 group-account grants make the Identity Center stack 273 resources, "
        "over the budget of 250",
    ),
    (
        "prefix S3 reserves: xn--",
        lambda d: d["organization"].__setitem__("name_prefix", "xn--acme"),
        "organization.name_prefix: 'xn--acme' starts with 'xn--', which S3 reserves",
    ),
    (
        "prefix S3 reserves: sthree-",
        lambda d: d["organization"].__setitem__("name_prefix", "sthree-acme"),
        "organization.name_prefix: 'sthree-acme' starts with 'sthree-', which S3 reserves",
    ),
    (
        "more SCPs per target than AWS allows",
        lambda d: d["organization"]["scp_limits"].__setitem__("max_policies_per_target", 100),
        "organization.scp_limits.max_policies_per_target: Input should be less than or equal to 10",
    ),
    (
        "SCP size above the documented maximum",
        lambda d: d["organization"]["scp_limits"].__setitem__("max_policy_characters", 20_000),
        "organization.scp_limits.max_policy_characters: Input should be less than or equal to 10240",
    ),
    (
        "member roles OU listed twice",
        lambda d: d["guardrails"].__setitem__("member_roles_ous", ["Security", "Security"]),
        "guardrails.member_roles_ous: lists 'Security' twice",
    ),
    (
        "member roles to no OU",
        lambda d: d["guardrails"].__setitem__("member_roles_ous", []),
        "guardrails.member_roles_ous: Tuple should have at least 1 item",
    ),
    (
        "backup schedule in words",
        lambda d: d["backup_policy"].__setitem__("schedule", "every day at 3"),
        "backup_policy.schedule: 'every day at 3' is not a schedule AWS Backup accepts",
    ),
    (
        "backup cron with five fields",
        lambda d: d["backup_policy"].__setitem__("schedule", "cron(0 3 * * *)"),
        "backup_policy.schedule: 'cron(0 3 * * *)' is not a schedule AWS Backup accepts",
    ),
    (
        "empty backup tag key",
        lambda d: d["backup_policy"].__setitem__("tag_key", ""),
        "backup_policy.tag_key: String should have at least 1 character",
    ),
    (
        "backup tag key in the aws: namespace",
        lambda d: d["backup_policy"].__setitem__("tag_key", "aws:backup"),
        "backup_policy.tag_key: 'aws:backup' starts with 'aws:', which AWS reserves",
    ),
    (
        "no sandbox instance types",
        lambda d: d["guardrails"].__setitem__("sandbox_instance_types", []),
        "guardrails.sandbox_instance_types: Tuple should have at least 1 item",
    ),
    (
        "sandbox instance types that are not types",
        lambda d: d["guardrails"].__setitem__("sandbox_instance_types", ["banana", ""]),
        "guardrails.sandbox_instance_types[0]: must be an EC2 instance type or family wildcard such as t3.micro "
        'or t3.* (got "banana"); guardrails.sandbox_instance_types[1]: must be an EC2 instance type',
    ),
    (
        "tag policy value longer than AWS allows",
        lambda d: d["tag_policy"]["cost_centers"].append("x" * 301),
        "tag_policy.cost_centers[4]: String should have at most 256 characters",
    ),
    (
        "deny-all at the root",
        lambda d: d["guardrails"].__setitem__("scps_at_root", ["deny-all"]),
        "guardrails.scps_at_root: 'deny-all' at the root would deny every member account",
    ),
    (
        "deny-all on an OU the organization needs",
        lambda d: d["guardrails"]["scps_by_ou"].__setitem__("Security", ["deny-all"]),
        "guardrails.scps_by_ou.Security: 'deny-all' would stop account 'log-archive' (role log-archive)",
    ),
    (
        "misspelt section",
        lambda d: d["organization"].__setitem__("organisational_units", d["organization"].pop("organizational_units")),
        "organization.organisational_units: unknown key (did you mean 'organizational_units'?); "
        "organization.organizational_units: Field required",
    ),
    (
        "OU name that is not a name",
        lambda d: d["organization"]["organizational_units"].append({"name": "7 Labs"}),
        "organization.organizational_units[7].name: must be 1 to 63 letters, digits and hyphens, starting with a "
        'letter (got "7 Labs")',
    ),
    (
        "OU named Root",
        lambda d: d["organization"]["organizational_units"].append({"name": "Root"}),
        "organization.organizational_units[7].name: 'Root' is reserved for the root",
    ),
    (
        "OU defined twice",
        lambda d: d["organization"]["organizational_units"].append({"name": "Sandbox"}),
        "organization.organizational_units[7].name: 'Sandbox' is defined twice",
    ),
    (
        "account name with capitals",
        lambda d: d["accounts"][8].__setitem__("name", "Retired"),
        "accounts[8].name: must be 3 to 32 lowercase letters, digits and hyphens",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [(m, e) for _, m, e in CASES], ids=[c[0] for c in CASES])
def test_bad_config_is_one_line_naming_file_field_and_rule(mutate: Any, expected: str) -> None:
    data = _example()
    mutate(data)
    with pytest.raises(ConfigError) as error:
        parse_config(_render(data), source="my-org.yaml")
    message = str(error.value)
    assert "\n" not in message, "the error must be one line"
    assert message.startswith(f"my-org.yaml: {expected}"), message


def test_an_unknown_key_is_named_before_what_it_leaves_missing() -> None:
    data = _example()
    data["regions"]["alowed"] = data["regions"].pop("allowed")
    with pytest.raises(ConfigError) as error:
        parse_config(_render(data), source="o.yaml")
    message = str(error.value)
    assert message == "o.yaml: regions.alowed: unknown key (did you mean 'allowed'?); regions.allowed: Field required"


def test_a_file_that_is_not_utf8_is_named_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(example_config_text().encode() + b"# caf\xe9\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    lines = example_config_text().count("\n") + 1
    assert message == f"{path}: not UTF-8 text (byte 0xe9 on line {lines}); save the file as UTF-8"


def test_a_file_larger_than_any_config_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (MAX_CONFIG_BYTES + 1))
    with pytest.raises(ConfigError, match="larger than 1,048,576 bytes"):
        load_config(path)


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_an_alias_bomb_is_refused_in_a_blink_and_a_few_megabytes() -> None:
    assert len(BILLION_LAUGHS) < 400
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="expands to more than 100,000 values through anchors and aliases"):
        parse_config(BILLION_LAUGHS, source="bomb.yaml")
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0, f"took {elapsed:.2f} s"
    assert peak < 5 * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MiB"


def test_modest_anchors_stay_allowed() -> None:
    text = example_config_text().replace(
        "  allowed: [eu-west-1, eu-central-1]", "  allowed: &regions [eu-west-1, eu-central-1]"
    )
    assert load_config().regions.allowed == parse_config(text).regions.allowed


def test_s3_bucket_name_rules() -> None:
    assert bucket_name_problem("exampleco-cloudtrail-222222222222-eu-west-1") is None
    assert "reserves" in str(bucket_name_problem("name--ol-s3"))
    assert "reserves" in str(bucket_name_problem("name-s3alias"))
    assert "reserves" in str(bucket_name_problem("amzn-s3-demo-bucket"))
    assert "does not accept" in str(bucket_name_problem("a..b"))
    assert "does not accept" in str(bucket_name_problem("Upper"))
    assert "does not accept" in str(bucket_name_problem("x" * 64))


def test_log_archive_defaults_are_pinned() -> None:
    """What an organization gets when it leaves log_archive out."""
    assert LogArchive() == LogArchive(
        object_lock_mode="GOVERNANCE",
        object_lock_days=365,
        transition_to_infrequent_access_days=90,
        transition_to_glacier_days=180,
        expire_after_days=2555,
        noncurrent_versions_expire_after_days=90,
    )
    assert ScpLimits() == ScpLimits(max_policy_characters=5120, max_policies_per_target=5)


def test_the_longest_retention_cloudwatch_offers_below_ten_years_is_accepted() -> None:
    data = _example()
    data["object_index"]["log_retention_days"] = 2557
    assert parse_config(_render(data)).object_index.log_retention_days == 2557


def _app(env: dict[str, str], **context: str) -> subprocess.CompletedProcess[str]:
    """app.py as the CDK CLI runs it: with cdk.json's context (its feature flags)."""
    env = {**env, "CDK_CONTEXT_JSON": json.dumps({**app_context(), **context})}
    return subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def test_errors_raised_while_building_name_the_config_file(tmp_path: Path) -> None:
    data = _example()
    data["guardrails"]["scps_by_ou"]["Security"] = ["baseline-guardrails", "no-such-scp"]
    path = _write(tmp_path / "org.yaml", data)
    result = _app({**os.environ, "ORG_CONFIG": str(path), "CDK_OUTDIR": str(tmp_path / "out")})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f"config error: {path}: guardrails.scps_by_ou.Security[1]: unknown SCP 'no-such-scp' (known: "
        "baseline-guardrails, deny-all, protect-security-services, region-restriction, sandbox-cost-controls)"
    )


def test_a_stack_grown_past_the_budget_names_the_config_field(tmp_path: Path) -> None:
    data = _example()
    data["organization"]["organizational_units"] += [{"name": f"Team{i}", "parent": "Workloads"} for i in range(250)]
    path = _write(tmp_path / "org.yaml", data)
    # Only the pattern that grows: the other patterns' stacks would be built for nothing.
    result = _app({**os.environ, "ORG_CONFIG": str(path), "CDK_OUTDIR": str(tmp_path / "out")}, patterns="organization")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"config error: {path}: organization.organizational_units: stack 'organization-eu-west-1'")
    assert "over the budget of 250" in last
    assert "Traceback" not in result.stderr


@pytest.fixture
def previous_out(tmp_path: Path) -> Path:
    """A cdk.out from an earlier synth, which a failed synth must leave exactly as it was."""
    out = tmp_path / "cdk.out"
    (out / "nested").mkdir(parents=True)
    (out / "manifest.json").write_text('{"earlier": true}')
    (out / "nested" / "stack.template.json").write_text("{}")
    return out


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_an_invalid_config_leaves_cdk_out_untouched(tmp_path: Path, previous_out: Path) -> None:
    before = _tree(previous_out)
    data = _example()
    data["regions"]["dr"] = data["regions"]["home"]
    code = synth.main(["--config", str(_write(tmp_path / "org.yaml", data)), "--out", str(previous_out)])
    assert code == 2
    assert _tree(previous_out) == before
    assert not (tmp_path / "cdk.out.staging").exists()


def test_a_synth_that_fails_after_the_config_check_leaves_cdk_out_untouched(tmp_path: Path, previous_out: Path) -> None:
    before = _tree(previous_out)
    data = _example()
    data["organization"]["organizational_units"] += [{"name": f"Team{i}", "parent": "Workloads"} for i in range(250)]
    config = _write(tmp_path / "org.yaml", data)
    code = synth.main(["--config", str(config), "--out", str(previous_out), "--patterns", "organization"])
    assert code == 1
    assert _tree(previous_out) == before
    assert not (tmp_path / "cdk.out.staging").exists()


def test_make_passes_a_config_path_with_spaces_as_one_argument(tmp_path: Path) -> None:
    result = subprocess.run(
        ["make", "-n", "synth", "check", "CONFIG=my orgs/acme org.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert '-m tools.synth --config "my orgs/acme org.yaml"' in result.stdout
    assert '-m tools.check --config "my orgs/acme org.yaml"' in result.stdout


def test_make_docs_refuses_a_config() -> None:
    result = subprocess.run(
        ["make", "-n", "docs", "CONFIG=tests/configs/second_organization.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "make docs documents the example organization" in result.stderr


def test_make_docs_ignores_org_config() -> None:
    """The docs synth runs with ORG_CONFIG removed, whatever the caller exported."""
    env = {**os.environ, "ORG_CONFIG": "tests/configs/second_organization.yaml"}
    result = subprocess.run(["make", "-n", "docs"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert "env -u ORG_CONFIG" in result.stdout and "-m tools.synth" in result.stdout
    assert "second_organization" not in result.stdout
