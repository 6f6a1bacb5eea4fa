"""The object_index section of the config: each invalid value fails with one line naming
the field and the rule; the defaults give a working pattern."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
import yaml

from org_config import ConfigError, parse_config
from org_config.loader import example_config_text
from org_config.model import LOG_RETENTION_DAYS, ObjectIndex
from org_config.names import bucket_names, object_index_bucket_name
from stacks.object_index.placement import build_object_index


def _example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(example_config_text())
    return data


def _parse(data: dict[str, Any]) -> Any:
    return parse_config(yaml.safe_dump(data, sort_keys=False), source="org.yaml")


def _set(**values: Any) -> Any:
    def mutate(data: dict[str, Any]) -> None:
        data["object_index"].update(values)

    mutate.__name__ = "_".join(values)
    return mutate


INVALID = [
    (_set(account="payments"), "object_index.account: 'payments' is not a defined account"),
    (
        _set(account="audit"),
        "object_index.account: 'audit' has role 'audit'; the pattern deploys only to an account with role "
        "sandbox, workload-nonprod, workload-prod",
    ),
    (_set(account="management"), "object_index.account: 'management' has role 'management'"),
    (_set(alarm_email="alarms-at-example.com"), "object_index.alarm_email: not a valid email address"),
    (_set(log_retention_days=366), "object_index.log_retention_days: 366 is not a retention CloudWatch Logs accepts"),
    (
        _set(api_rate_limit_per_second=3),
        "object_index.api_rate_limit_per_second: Input should be greater than or equal to 4",
    ),
    (_set(api_burst_limit=5001), "object_index.api_burst_limit: Input should be less than or equal to 5000"),
    (
        _set(indexer_target_events_per_second=0),
        "object_index.indexer_target_events_per_second: Input should be greater than or equal to 1",
    ),
    (
        _set(indexer_target_events_per_second=7000),
        "object_index.indexer_target_events_per_second: 7000 events/s needs 1050 concurrent indexer invocations; "
        "an SQS event source runs at most 1000",
    ),
    (
        _set(indexer_target_events_per_second=6000),
        "object_index.indexer_target_events_per_second: the indexer (900), query (20) and reconcile (2) functions "
        "reserve 922 concurrent executions, more than account_concurrency_quota (1000) less the 100 Lambda keeps "
        "unreserved",
    ),
    (
        _set(indexer_milliseconds_per_event=5),
        "object_index.indexer_milliseconds_per_event: Input should be greater than or equal to 10",
    ),
    (_set(indexer_headroom_percent=-1), "object_index.indexer_headroom_percent: Input should be greater than or"),
    (_set(account_concurrency_quota=999), "object_index.account_concurrency_quota: Input should be greater than"),
    (
        _set(reconcile_reserved_concurrency=0),
        "object_index.reconcile_reserved_concurrency: Input should be greater than or equal to 1",
    ),
    (_set(event_retention_days=15), "object_index.event_retention_days: Input should be less than or equal to 14"),
    (
        _set(event_retention_days=1, oldest_event_alarm_minutes=720),
        "object_index.oldest_event_alarm_minutes: must be less than half of event_retention_days",
    ),
    (
        _set(operator_role_name="object-index-customer-ops"),
        "object_index.operator_role_name: must not start with customer_role_prefix 'object-index-customer-'",
    ),
    (_set(operator_role_name="ops/admin"), "object_index.operator_role_name: must be an IAM role name"),
    (_set(customer_role_prefix=""), "object_index.customer_role_prefix: String should match pattern"),
    (_set(customer_role_prefix="c" * 64), "object_index.customer_role_prefix: String should match pattern"),
    (
        _set(query_reserved_concurrency=0),
        "object_index.query_reserved_concurrency: Input should be greater than or equal",
    ),
    (
        _set(oldest_event_alarm_minutes=1441),
        "object_index.oldest_event_alarm_minutes: Input should be less than or equal",
    ),
    (_set(transition_to_infrequent_access_days=29), "object_index.transition_to_infrequent_access_days: Input should"),
    (
        _set(transition_to_glacier_days=90),
        "object_index.transition_to_glacier_days: must be later than transition_to_infrequent_access_days",
    ),
    (_set(expire_after_days=365), "object_index.expire_after_days: must be later than transition_to_glacier_days"),
    (_set(api_rate_limit_per_second="50"), "object_index.api_rate_limit_per_second: Input should be a valid integer"),
    (_set(alarm_emails="a@example.com"), "object_index.alarm_emails: unknown key (did you mean 'alarm_email'?)"),
]


@pytest.mark.parametrize(("mutate", "expected"), INVALID, ids=[m.__name__ for m, _ in INVALID])
def test_invalid_object_index_settings_name_field_and_rule(mutate: Any, expected: str) -> None:
    data = _example()
    mutate(data)
    with pytest.raises(ConfigError) as error:
        _parse(data)
    message = str(error.value)
    assert "\n" not in message, "the error must be one line"
    assert message.startswith("org.yaml: ")
    assert expected in message


@pytest.mark.parametrize("account", ["workload-nonprod", "sandbox"])
def test_the_pattern_may_go_to_any_workload_account(account: str) -> None:
    data = _example()
    data["object_index"]["account"] = account
    config = _parse(data)
    assert config.object_index is not None and config.object_index.account == account
    assert object_index_bucket_name(config).split("-")[-4] == config.account_named(account).id


def test_without_the_section_the_pattern_is_not_deployed() -> None:
    data = _example()
    del data["object_index"]
    config = _parse(data)
    assert config.object_index_section is None
    with pytest.raises(LookupError, match="no object_index section"):
        config.object_index  # noqa: B018
    assert build_object_index(cdk.App(), config) == []
    assert "object index data" not in bucket_names(config)


def test_the_section_needs_its_account_and_says_so_naming_the_field() -> None:
    """No example account behind a user's back: ``account`` has no default."""
    data = _example()
    data["object_index"] = {"alarm_email": "ops@example.org"}
    with pytest.raises(ConfigError) as error:
        _parse(data)
    assert str(error.value) == "org.yaml: object_index.account: Field required"


def test_with_only_its_account_the_defaults_apply() -> None:
    data = _example()
    data["object_index"] = {"account": "workload-nonprod"}
    config = _parse(data)
    assert config.object_index == ObjectIndex(account="workload-nonprod")
    assert config.object_index.alarm_email is None
    assert config.object_index.log_retention_days in LOG_RETENTION_DAYS


def test_every_problem_of_the_section_is_reported_at_once() -> None:
    data = _example()
    data["object_index"].update(
        transition_to_glacier_days=90,  # not after infrequent access (90)
        expire_after_days=60,  # not after glacier
        operator_role_name="object-index-customer-ops",
        event_retention_days=1,
        oldest_event_alarm_minutes=720,
    )
    with pytest.raises(ConfigError) as error:
        _parse(data)
    assert str(error.value) == "org.yaml: " + "; ".join(
        [
            "object_index.transition_to_glacier_days: must be later than transition_to_infrequent_access_days",
            "object_index.expire_after_days: must be later than transition_to_glacier_days",
            "object_index.operator_role_name: must not start with customer_role_prefix 'object-index-customer-', "
            "or it would name a customer's role",
            "object_index.oldest_event_alarm_minutes: must be less than half of event_retention_days, so the "
            "alarm fires long before an event can expire",
        ]
    )


@pytest.mark.parametrize(
    ("settings", "reserved"),
    [
        ({}, 8 + 20 + 2),  # the defaults
        ({"indexer_target_events_per_second": 3000, "query_reserved_concurrency": 50}, 450 + 50 + 2),
        ({"indexer_target_events_per_second": 1, "reconcile_reserved_concurrency": 10}, 2 + 20 + 10),
    ],
)
def test_reserved_concurrency_sums_the_three_functions(settings: dict[str, int], reserved: int) -> None:
    """What the pattern takes from its account's concurrency (summed across patterns elsewhere)."""
    section = ObjectIndex.model_validate({"account": "workload-prod", **settings})
    assert section.reserved_concurrency() == reserved


def test_bucket_name_fits_s3_rules_for_the_longest_prefix_and_region() -> None:
    data = _example()
    data["organization"]["name_prefix"] = "a" * 20
    data["regions"] = {"home": "ap-southeast-7", "dr": "eu-west-1", "allowed": ["ap-southeast-7", "eu-west-1"]}
    data["network"] = {"supernet": "10.0.0.0/8", "vpcs": {}}  # bucket names do not depend on the network
    del data["disaster_recovery"]  # which would need the network's VPCs
    name = object_index_bucket_name(_parse(data))
    assert len(name) <= 63
    assert name == name.lower()


@pytest.mark.parametrize(
    ("target", "milliseconds", "headroom", "concurrency", "sustained"),
    [
        (50, 100, 50, 8, 80),  # the defaults: 50 events/s -> 8 invocations carrying 80 events/s
        (3000, 100, 50, 450, 4500),  # the reviewed peak of 3,000 uploads/s
        (3000, 100, 0, 300, 3000),
        (1, 100, 50, 2, 20),  # the event source's minimum of 2
        (51, 100, 0, 6, 60),  # rounded up, never down
        (100, 40, 25, 5, 125),
    ],
)
def test_indexer_concurrency_is_derived_from_the_target_rate(
    target: int, milliseconds: int, headroom: int, concurrency: int, sustained: int
) -> None:
    settings = ObjectIndex(
        account="workload-prod",
        indexer_target_events_per_second=target,
        indexer_milliseconds_per_event=milliseconds,
        indexer_headroom_percent=headroom,
        account_concurrency_quota=2000,
    )
    assert (settings.indexer_concurrency, settings.indexer_sustained_events_per_second) == (concurrency, sustained)
    assert settings.indexer_sustained_events_per_second >= target


def test_the_limits_of_the_derivation_are_accepted() -> None:
    """The largest target each rule allows is valid (the rules use > and >=, not one more)."""

    def section(**values: int) -> ObjectIndex:
        return ObjectIndex.model_validate({"account": "workload-prod", **values})

    assert section(indexer_target_events_per_second=5853).indexer_concurrency == 878  # 878 + 20 + 2 = 900
    with pytest.raises(ValueError, match="reserve 901 concurrent executions"):
        section(indexer_target_events_per_second=5854)
    largest = section(indexer_target_events_per_second=6666, account_concurrency_quota=1200)
    assert largest.indexer_concurrency == 1000
    with pytest.raises(ValueError, match="6667 events/s needs 1001 concurrent indexer invocations"):
        section(indexer_target_events_per_second=6667, account_concurrency_quota=1200)
    assert section(event_retention_days=1, oldest_event_alarm_minutes=719).oldest_event_alarm_minutes == 719
