"""The failover and failback runbooks: the steps the templates leave to be done, in
order, each with its resource, region and duration; the RTO is the failover's sum."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.disaster_recovery import prices
from analysis.disaster_recovery.facts import Facts


@dataclass(frozen=True)
class Step:
    action: str
    command: str
    resource: str
    region: str
    seconds: int
    basis: str  # where the duration comes from


def _database_steps(facts: Facts, minute: int) -> list[Step]:
    """Make the DR region's database the writer: restore it, or promote the secondary."""
    dr = facts.dr_region
    steps: list[Step] = []
    if facts.dr_cluster is None:
        steps.append(
            Step(
                "Restore the database from the newest recovery point in the DR vault",
                "aws backup start-restore-job",
                "Aurora recovery point",
                dr,
                prices.DATABASE_RESTORE_MINUTES * minute,
                f"assumed for {prices.DATABASE_GB} GB",
            )
        )
        steps.append(
            Step(
                "Add a writer instance to the restored cluster",
                "aws rds create-db-instance",
                "restored Aurora cluster",
                dr,
                prices.DATABASE_INSTANCE_CREATE_MINUTES * minute,
                "assumed",
            )
        )
    else:
        if not facts.dr_instances:
            steps.append(
                Step(
                    "Add an instance to the secondary cluster (it becomes the writer)",
                    "aws rds create-db-instance",
                    "Aurora secondary cluster",
                    dr,
                    prices.DATABASE_INSTANCE_CREATE_MINUTES * minute,
                    "assumed",
                )
            )
        steps.append(
            Step(
                "Fail the global database over to the DR cluster (managed failover, accepting the replication lag)",
                "aws rds failover-global-cluster --allow-data-loss",
                "Aurora global database",
                dr,
                prices.GLOBAL_FAILOVER_MINUTES * minute,
                "assumed; the Aurora docs give minutes",
            )
        )
    return steps


def _files_steps(facts: Facts, minute: int) -> list[Step]:
    """Restore the files where they were not replicated."""
    dr = facts.dr_region
    steps: list[Step] = []
    if not facts.files_replicated:
        steps.append(
            Step(
                "Restore the user files from the newest recovery point in the DR vault",
                "aws backup start-restore-job",
                "S3 recovery point",
                dr,
                prices.FILES_RESTORE_MINUTES * minute,
                f"assumed for {prices.FILES_GB} GB",
            )
        )
    return steps


def _compute_steps(facts: Facts, minute: int) -> list[Step]:
    """Bring the DR service to production size: deploy it, switch it on, or scale it."""
    dr = facts.dr_region
    steps: list[Step] = []
    function = facts.dr_function
    production = facts.home_function.provisioned_concurrency if facts.home_function else 0
    if function is None:
        steps.append(
            Step(
                "Deploy the service in the DR region, pointed at the restored database and files",
                "cdk deploy (the DR service stack)",
                "API, function, certificate, record",
                dr,
                prices.SERVICE_DEPLOY_MINUTES * minute,
                "assumed",
            )
        )
    elif function.reserved_concurrency == 0:
        steps.append(
            Step(
                "Switch the function on: reserved and provisioned concurrency at production size",
                "aws lambda put-function-concurrency; aws lambda put-provisioned-concurrency-config",
                "DR function",
                dr,
                prices.COMPUTE_ENABLE_MINUTES * minute,
                "assumed",
            )
        )
    elif function.provisioned_concurrency < production:
        steps.append(
            Step(
                "Raise provisioned concurrency to production size (the region already serves, at reduced capacity)",
                "aws lambda put-provisioned-concurrency-config",
                "DR function",
                dr,
                prices.COMPUTE_SCALE_MINUTES * minute,
                "assumed",
            )
        )
    return steps


def failover_steps(facts: Facts) -> list[Step]:
    """The failover, in order, as the templates leave it to be done."""
    steps: list[Step] = []
    check = facts.home_health_check
    if check is not None:
        steps.append(
            Step(
                "Route 53 marks the home region unhealthy",
                "automatic (watch the health check's status)",
                "home health check",
                "global",
                check.interval_seconds * check.failure_threshold,
                f"{check.interval_seconds} s interval x {check.failure_threshold} failures",
            )
        )
    minute = 60
    steps += _database_steps(facts, minute) + _files_steps(facts, minute) + _compute_steps(facts, minute)
    steps.append(
        Step(
            "Clients follow the DNS answer to the DR region"
            if facts.dr_routing
            else "Clients follow the DNS answer to the DR region once its record exists",
            "automatic (failover or latency record with health checks)",
            "app record",
            "global",
            facts.record_ttl_seconds,
            f"record TTL {facts.record_ttl_seconds} s",
        )
    )
    return steps


def failback_steps(facts: Facts) -> list[Step]:
    """The way back once the home region is healthy: without data loss, in a planned window."""
    home, dr = facts.home_region, facts.dr_region
    steps: list[Step] = []
    if facts.dr_cluster == "secondary":
        steps.append(
            Step(
                "Wait until the old home cluster has rejoined the global database as a secondary and caught up",
                "aws rds describe-global-clusters (the home cluster's status and lag)",
                "Aurora global database",
                home,
                0,
                "Aurora rebuilds it after a managed failover; depends on the data size",
            )
        )
        steps.append(
            Step(
                "Switch the writer back to the home region (switchover: no data loss)",
                "aws rds switchover-global-cluster",
                "Aurora global database",
                home,
                prices.GLOBAL_FAILOVER_MINUTES * 60,
                "assumed; the Aurora docs give minutes",
            )
        )
    else:
        steps.append(
            Step(
                "Back up the DR database, copy the recovery point to the home vault and restore it there",
                "aws backup start-backup-job; start-copy-job; start-restore-job",
                "Aurora cluster",
                home,
                (prices.DATABASE_RESTORE_MINUTES + prices.DATABASE_INSTANCE_CREATE_MINUTES) * 60,
                "assumed; stop writes in the DR region first",
            )
        )
    steps.append(
        Step(
            "Copy the files written during the outage back to the home bucket",
            "S3 Batch Replication (or aws s3 sync) from the DR bucket",
            "user-files bucket",
            home,
            0,
            "depends on what changed",
        )
    )
    if facts.dr_function is not None:
        steps.append(
            Step(
                "Set the DR function back to its tier's concurrency",
                "cdk deploy (the DR service stack, unchanged config)",
                "DR function",
                dr,
                prices.COMPUTE_SCALE_MINUTES * 60,
                "assumed",
            )
        )
    steps.append(
        Step(
            "Route 53 sends clients home again once the home health check passes",
            "automatic",
            "app record",
            "global",
            facts.record_ttl_seconds,
            f"record TTL {facts.record_ttl_seconds} s",
        )
    )
    return steps


def rto_seconds(facts: Facts) -> int:
    return sum(step.seconds for step in failover_steps(facts))
