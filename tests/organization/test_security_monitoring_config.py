"""The security_monitoring section of the config: each invalid value fails with one line
naming the field and the rule; valid values reach the template."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from org_config import ConfigError, parse_config
from org_config.loader import example_config_text
from org_config.model import LOG_RETENTION_DAYS, SecurityMonitoring


def _example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(example_config_text())
    return data


def _parse(data: dict[str, Any]) -> Any:
    return parse_config(yaml.safe_dump(data, sort_keys=False), source="org.yaml")


INVALID = [
    (
        {"trail_log_retention_days": 366},
        "security_monitoring.trail_log_retention_days: 366 is not a retention CloudWatch Logs accepts",
    ),
    ({"trail_log_retention_days": 0}, "security_monitoring.trail_log_retention_days: 0 is not a retention"),
    (
        {"trail_log_retention_days": "365"},
        "security_monitoring.trail_log_retention_days: Input should be a valid integer",
    ),
    ({"alarm_email": "security-at-example.com"}, "security_monitoring.alarm_email: not a valid email address"),
    ({"alarm_email": 42}, "security_monitoring.alarm_email: Input should be a valid string"),
    ({"alarm_emails": "a@example.com"}, "security_monitoring.alarm_emails: unknown key (did you mean 'alarm_email'?)"),
]


@pytest.mark.parametrize(("change", "expected"), INVALID, ids=[e.split(": ", 1)[1][:40] for _, e in INVALID])
def test_invalid_security_monitoring_settings_name_field_and_rule(change: dict[str, Any], expected: str) -> None:
    data = _example()
    data["security_monitoring"].update(change)
    with pytest.raises(ConfigError) as error:
        _parse(data)
    message = str(error.value)
    assert "\n" not in message, "the error must be one line"
    assert message.startswith("org.yaml: ")
    assert expected in message


@pytest.mark.parametrize("days", [1, 2557, 3653])
def test_every_retention_cloudwatch_logs_accepts_is_valid(days: int) -> None:
    data = _example()
    data["security_monitoring"]["trail_log_retention_days"] = days
    assert _parse(data).security_monitoring.trail_log_retention_days == days


def test_without_the_section_the_defaults_apply() -> None:
    data = _example()
    del data["security_monitoring"]
    config = _parse(data)
    assert config.security_monitoring == SecurityMonitoring()
    assert config.security_monitoring.alarm_email is None
    assert config.security_monitoring.trail_log_retention_days in LOG_RETENTION_DAYS
