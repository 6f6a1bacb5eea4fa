"""The sandbox profile is validated like any config: one line per problem, naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from flink import connector_jar
from org_config import ConfigError, parse_config
from org_config.loader import example_config_text
from tools import sandbox

ACCOUNT = "123456789012"


def _profile(patterns: tuple[str, ...] = ("object-index",), **changes: object) -> str:
    return sandbox.sandbox_config_text(
        example_config_text(),
        account=ACCOUNT,
        region="us-east-1",
        dr_region="us-west-2",
        patterns=patterns,
        budget_usd=int(str(changes.get("budget", 50))),
        email=None,
    )


def test_the_profile_of_the_example_is_a_valid_config_with_every_account_the_sandbox() -> None:
    config = parse_config(_profile(("network", "disaster-recovery", "object-index", "streaming")))
    assert config.sandbox is not None
    assert {account.id for account in config.accounts} == {ACCOUNT}
    assert (config.regions.home, config.regions.dr) == ("us-east-1", "us-west-2")
    assert config.network.availability_zones == {
        "us-east-1": ("us-east-1a", "us-east-1b"),
        "us-west-2": ("us-west-2a", "us-west-2b"),
    }
    assert config.builds("network") and not parse_config(_profile()).builds("network")


def test_an_organization_still_needs_one_account_per_id() -> None:
    without_the_profile = _profile().split("\nsandbox:\n")[0]  # the profile is the file's last section
    with pytest.raises(ConfigError) as error:
        parse_config(without_the_profile)
    assert "accounts[1].id: '123456789012' is used by more than one account" in str(error.value)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace(
                "- name: log-archive\n  id: '123456789012'", "- name: log-archive\n  id: '210987654321'"
            ),
            "accounts[1].id: '210987654321' is not sandbox.account_id '123456789012'; in the sandbox profile "
            "every account is that one account",
        ),
        (
            lambda t: t.replace("  - object-index\n", "  - organization\n"),
            "sandbox.patterns[0]: 'organization' cannot be deployed to one account",
        ),
        (
            lambda t: t.replace("  - object-index\n", "  - objectindex\n"),
            "sandbox.patterns[0]: unknown pattern 'objectindex'",
        ),
        (
            lambda t: t.replace("  - object-index\n", "  - object-index\n  - object-index\n"),
            "sandbox.patterns[1]: 'object-index' is listed twice",
        ),
        (
            lambda t: t.replace("  - object-index\n", "  - disaster-recovery\n"),
            "sandbox.patterns: 'disaster-recovery' needs 'network' too",
        ),
        (lambda t: t.replace("account_id: '123456789012'", "account_id: '12345678901'"), "sandbox.account_id: must be"),
        (lambda t: t.replace("budget_usd: 50", "budget_usd: 0"), "sandbox.budget_usd"),
    ],
)
def test_a_bad_profile_is_one_line_naming_the_field(edit: object, message: str) -> None:
    text = _profile()
    changed = edit(text)  # type: ignore[operator]
    assert changed != text, "the edit did not apply"
    with pytest.raises(ConfigError) as error:
        parse_config(changed)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_two_problems_of_the_profile_come_in_one_run() -> None:
    text = _profile().replace("  - object-index\n", "  - organization\n  - objectindex\n")
    with pytest.raises(ConfigError) as error:
        parse_config(text)
    assert "sandbox.patterns[0]" in str(error.value) and "sandbox.patterns[1]" in str(error.value)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--account", "12345"], "ACCOUNT: must be a 12-digit account id"),
        (["--region", "eu-west-9"], "REGION: unknown AWS region 'eu-west-9'"),
        (["--patterns", "organization,streaming"], "PATTERNS: organization: not deployable to one account"),
        (["--patterns", "disaster-recovery"], "PATTERNS: 'disaster-recovery' needs 'network' too"),
        (["--dr-region", "eu-west-1"], "DR_REGION: must be given and differ from REGION"),
    ],
)
def test_a_bad_command_line_is_one_line_and_writes_nothing(
    arguments: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sandbox, "SANDBOX_ROOT", tmp_path)
    base = {"--account": ACCOUNT, "--region": "eu-west-1"}
    for flag, value in zip(arguments[::2], arguments[1::2], strict=True):
        base[flag] = value
    argv = ["deploy", *[part for pair in base.items() for part in pair], "--dry-run"]
    assert sandbox.main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("sandbox error: ") and message in error
    assert "\n" not in error
    assert list(tmp_path.iterdir()) == []  # type: ignore[attr-defined]


def test_a_real_deploy_of_streaming_refuses_without_the_flink_connector(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked before anything is synthesized or deployed: the JAR goes into the code asset."""
    monkeypatch.setattr(sandbox, "SANDBOX_ROOT", tmp_path)
    monkeypatch.setattr(sandbox, "flink_connector_problem", lambda: "flink connector: the JAR is missing")
    argv = ["deploy", "--account", ACCOUNT, "--region", "eu-west-1", "--patterns", "streaming", "--yes"]
    assert sandbox.main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert error == ("sandbox error: streaming: flink connector: the JAR is missing; run `make flink-connector` first")
    assert not any(tmp_path.rglob("manifest.json"))


def test_the_connector_check_is_the_one_every_deploy_path_runs() -> None:
    """The sandbox runs the Flink connector's own check and reports what it says."""
    expected = connector_jar.problem()
    problem = sandbox.flink_connector_problem()
    assert problem == (None if expected is None else f"flink connector: {expected}")
