"""Fine-grained assertions on the example's DR stacks: the values the stacks take from
the config, and the names by which the two regions find each other, land where they must."""

from __future__ import annotations

import json
from typing import Any

import pytest

from org_config.model import AccountRole
from org_config.names import dr_backup_vault_name, dr_files_bucket_name, dr_global_cluster_id, dr_key_alias
from tests.disaster_recovery.conftest import Tier


@pytest.fixture(scope="module")
def tier(dr_tiers: dict[str, Tier]) -> Tier:
    from org_config import load_config

    return dr_tiers[load_config().disaster_recovery.tier]


def _of_type(tier: Tier, prefix: str, type_: str) -> list[dict[str, Any]]:
    stack = next(s for s in tier.stacks if s.name.startswith(prefix))
    return [r["Properties"] for r in stack.template["Resources"].values() if r["Type"] == type_]


@pytest.mark.parametrize(("prefix", "vpc_field"), [("dr-home-", "home_vpc"), ("dr-standby-", "dr_vpc")])
def test_shared_subnets_are_found_by_cidr_block_and_owner(tier: Tier, prefix: str, vpc_field: str) -> None:
    config = tier.config
    vpc = config.network.vpcs[getattr(config.disaster_recovery, vpc_field)]
    blocks, _ = vpc.subnet_blocks(len(config.network.availability_zones[vpc.region]))
    calls = [json.loads(p["Create"]) for p in _of_type(tier, prefix, "Custom::AWS") if "describeSubnets" in str(p)]
    assert len(calls) == 1
    filters = {f["Name"]: f["Values"] for f in calls[0]["parameters"]["Filters"]}
    assert filters == {
        "cidr-block": [str(block) for block in blocks],
        "owner-id": [config.account(AccountRole.NETWORK).id],
    }


def test_backups_run_at_the_configured_frequency_and_copy_to_the_dr_vault(tier: Tier) -> None:
    config = tier.config
    settings = config.disaster_recovery
    (plan,) = _of_type(tier, "dr-home-", "AWS::Backup::BackupPlan")
    (rule,) = plan["BackupPlan"]["BackupPlanRule"]
    assert rule["ScheduleExpression"] == f"cron(0 */{settings.backup_frequency_hours} * * ? *)"
    assert rule["Lifecycle"]["DeleteAfterDays"] == settings.backup_retention_days
    (copy,) = rule["CopyActions"]
    assert copy["DestinationBackupVaultArn"].endswith(
        f":backup:{config.regions.dr}:{tier.stacks[0].account}:backup-vault:"
        + dr_backup_vault_name(config, config.regions.dr)
    )
    (vault,) = _of_type(tier, "dr-recovery-", "AWS::Backup::BackupVault")
    assert vault["BackupVaultName"] == dr_backup_vault_name(config, config.regions.dr)
    assert vault["LockConfiguration"]["MinRetentionDays"] == settings.vault_lock_min_retention_days


def test_files_replicate_to_the_named_replica_with_the_dr_key(tier: Tier) -> None:
    config = tier.config
    rules = [
        rule
        for bucket in _of_type(tier, "dr-home-", "AWS::S3::Bucket")
        for rule in bucket.get("ReplicationConfiguration", {}).get("Rules", [])
    ]
    (rule,) = rules
    destination = rule["Destination"]
    assert destination["Bucket"] == f"arn:aws:s3:::{dr_files_bucket_name(config, config.regions.dr)}"
    assert destination["EncryptionConfiguration"]["ReplicaKmsKeyID"].endswith(f":{dr_key_alias(config)}")
    assert (destination.get("ReplicationTime", {}).get("Status") == "Enabled") == (
        config.disaster_recovery.replication_time_control
    )
    replicas = [b for b in _of_type(tier, "dr-recovery-", "AWS::S3::Bucket") if "BucketName" in b]
    assert [b["BucketName"] for b in replicas] == [dr_files_bucket_name(config, config.regions.dr)]


def test_secondary_cluster_joins_the_global_database_encrypted_without_users(tier: Tier) -> None:
    config = tier.config
    (global_cluster,) = _of_type(tier, "dr-home-", "AWS::RDS::GlobalCluster")
    assert global_cluster["GlobalClusterIdentifier"] == dr_global_cluster_id(config)
    (secondary,) = _of_type(tier, "dr-standby-", "AWS::RDS::DBCluster")
    assert secondary["GlobalClusterIdentifier"] == dr_global_cluster_id(config)
    assert secondary["StorageEncrypted"] is True and secondary["KmsKeyId"].endswith(f":{dr_key_alias(config)}")
    assert "MasterUsername" not in secondary and secondary["DeletionProtection"] is True


def _resources(tier: Tier, prefix: str) -> dict[str, dict[str, Any]]:
    stack = next(s for s in tier.stacks if s.name.startswith(prefix))
    resources: dict[str, dict[str, Any]] = stack.template["Resources"]
    return resources


def _ids(value: Any) -> set[str]:
    """The logical ids a value refers to (Ref and Fn::GetAtt, at any depth)."""
    if isinstance(value, dict):
        if "Ref" in value:
            return {value["Ref"]}
        if "Fn::GetAtt" in value:
            return {value["Fn::GetAtt"][0]}
        return set().union(*(_ids(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_ids(v) for v in value)) if value else set()
    return set()


REGIONS = [("dr-home-", "PRIMARY"), ("dr-standby-", "SECONDARY")]


@pytest.mark.parametrize(("prefix", "role"), REGIONS)
def test_record_follows_the_api_check_and_the_probe_alarm(tier: Tier, prefix: str, role: str) -> None:
    """The record's health is the calculated AND of the HTTPS check of GET /health and the
    check that watches the probe's alarm; the timing comes from the config."""
    settings = tier.config.disaster_recovery
    resources = _resources(tier, prefix)
    checks = {
        k: r["Properties"]["HealthCheckConfig"]
        for k, r in resources.items()
        if r["Type"] == "AWS::Route53::HealthCheck"
    }
    by_type = {c["Type"]: k for k, c in checks.items()}
    assert sorted(by_type) == ["CALCULATED", "CLOUDWATCH_METRIC", "HTTPS"], checks
    https = checks[by_type["HTTPS"]]
    assert (https["RequestInterval"], https["FailureThreshold"], https["ResourcePath"]) == (
        settings.health_check_interval_seconds,
        settings.health_check_failure_threshold,
        "/v1/health",
    )
    calculated = checks[by_type["CALCULATED"]]
    assert _ids(calculated["ChildHealthChecks"]) == {by_type["HTTPS"], by_type["CLOUDWATCH_METRIC"]}
    assert calculated["HealthThreshold"] == 2
    metric = checks[by_type["CLOUDWATCH_METRIC"]]
    (alarm_id,) = _ids(metric["AlarmIdentifier"]["Name"])
    alarm = resources[alarm_id]["Properties"]
    assert alarm["EvaluationPeriods"] == settings.health_check_failure_threshold
    assert (alarm["TreatMissingData"], metric["InsufficientDataHealthStatus"]) == ("breaching", "Unhealthy")
    (record,) = _of_type(tier, prefix, "AWS::Route53::RecordSet")
    assert _ids(record["HealthCheckId"]) == {by_type["CALCULATED"]}
    assert record["Name"] == f"{settings.record_name}.{settings.hosted_zone_name}."
    assert record["TTL"] == str(settings.record_ttl_seconds) and record["Failover"] == role


@pytest.mark.parametrize(("prefix", "role"), REGIONS)
def test_certificate_and_record_use_the_configured_delegated_zone(tier: Tier, prefix: str, role: str) -> None:
    """No DR stack creates a hosted zone (nothing would delegate to it, and the certificate
    would wait for ever) or looks one up: both name the user's zone by its id."""
    settings = tier.config.disaster_recovery
    assert not _of_type(tier, prefix, "AWS::Route53::HostedZone")
    (certificate,) = _of_type(tier, prefix, "AWS::CertificateManager::Certificate")
    assert certificate["ValidationMethod"] == "DNS"
    assert certificate["DomainValidationOptions"] == [
        {"DomainName": f"{settings.record_name}.{settings.hosted_zone_name}", "HostedZoneId": settings.hosted_zone_id}
    ]
    (record,) = _of_type(tier, prefix, "AWS::Route53::RecordSet")
    assert record["HostedZoneId"] == settings.hosted_zone_id
    assert not [p for p in _of_type(tier, prefix, "Custom::AWS") if "listHostedZonesByName" in str(p)]


@pytest.mark.parametrize(("prefix", "role"), REGIONS)
def test_stage_is_throttled_and_health_has_a_throttle_of_its_own(tier: Tier, prefix: str, role: str) -> None:
    settings = tier.config.disaster_recovery
    (stage,) = _of_type(tier, prefix, "AWS::ApiGateway::Stage")
    settings_by_path = {(m["ResourcePath"], m["HttpMethod"]): m for m in stage["MethodSettings"]}
    every = settings_by_path[("/*", "*")]
    assert (every["ThrottlingRateLimit"], every["ThrottlingBurstLimit"]) == (
        settings.api_rate_limit_per_second,
        settings.api_burst_limit,
    )
    health = settings_by_path[("/~1health", "GET")]
    assert (health["ThrottlingRateLimit"], health["ThrottlingBurstLimit"]) == (10, 20)


@pytest.mark.parametrize(("prefix", "role"), REGIONS)
def test_health_route_runs_no_function(tier: Tier, prefix: str, role: str) -> None:
    """GET /health is a mock integration, and no invoke permission names the health route:
    a flood of health requests cannot use the service function's concurrency."""
    methods = _of_type(tier, prefix, "AWS::ApiGateway::Method")
    unauthenticated = [m for m in methods if m["AuthorizationType"] == "NONE"]
    assert [m["Integration"]["Type"] for m in unauthenticated] == ["MOCK"]
    permissions = _of_type(tier, prefix, "AWS::Lambda::Permission")
    assert not [p for p in permissions if "/health" in json.dumps(p["SourceArn"])]
    assert all(p["SourceAccount"] for p in permissions)


@pytest.mark.parametrize(("prefix", "role"), REGIONS)
def test_probe_reserves_its_own_concurrency_and_only_its_schedule_invokes_it(
    tier: Tier, prefix: str, role: str
) -> None:
    resources = _resources(tier, prefix)
    functions = {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    (probe_id,) = [k for k, f in functions.items() if f["Handler"] == "probe.handler"]
    assert functions[probe_id]["ReservedConcurrentExecutions"] == 1
    invokers = {
        r["Properties"]["Principal"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Permission" and probe_id in _ids(r["Properties"]["FunctionName"])
    }
    assert invokers == {"events.amazonaws.com"}
    (rule,) = _of_type(tier, prefix, "AWS::Events::Rule")
    assert rule["ScheduleExpression"] == "rate(1 minute)"


@pytest.mark.parametrize(("prefix", "role"), REGIONS)
def test_web_acl_rate_limits_each_ip_in_front_of_the_stage(tier: Tier, prefix: str, role: str) -> None:
    settings = tier.config.disaster_recovery
    resources = _resources(tier, prefix)
    (acl_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::WAFv2::WebACL"]
    acl = resources[acl_id]["Properties"]
    rate = next(r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"])
    assert rate["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "Limit": settings.waf_requests_per_ip_per_5_minutes,
    }
    assert "Block" in rate["Action"] and acl["Scope"] == "REGIONAL"
    (association,) = _of_type(tier, prefix, "AWS::WAFv2::WebACLAssociation")
    assert _ids(association["WebACLArn"]) == {acl_id}
    (stage_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert "/stages/" in json.dumps(association["ResourceArn"])
    assert stage_id in _ids(association["ResourceArn"])  # the stage exists before it is associated
