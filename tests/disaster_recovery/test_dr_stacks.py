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


@pytest.mark.parametrize(("prefix", "role"), [("dr-home-", "PRIMARY"), ("dr-standby-", "SECONDARY")])
def test_health_checks_and_records_take_their_timing_from_the_config(tier: Tier, prefix: str, role: str) -> None:
    settings = tier.config.disaster_recovery
    (check,) = _of_type(tier, prefix, "AWS::Route53::HealthCheck")
    config = check["HealthCheckConfig"]
    assert (config["RequestInterval"], config["FailureThreshold"], config["Type"], config["ResourcePath"]) == (
        settings.health_check_interval_seconds,
        settings.health_check_failure_threshold,
        "HTTPS",
        "/v1/health",
    )
    (record,) = _of_type(tier, prefix, "AWS::Route53::RecordSet")
    assert record["Name"] == f"{settings.record_name}.{settings.hosted_zone_name}."
    assert record["TTL"] == str(settings.record_ttl_seconds) and record["Failover"] == role


def test_hosted_zone_comes_from_the_config(tier: Tier) -> None:
    (zone,) = _of_type(tier, "dr-home-", "AWS::Route53::HostedZone")
    assert zone["Name"] == tier.config.disaster_recovery.hosted_zone_name
