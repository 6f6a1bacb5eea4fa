"""What a disaster-recovery tier recovers, how fast, and what its DR region costs,
derived from the synthesized templates of the workload's stacks.

The analysis never sees the tier's name. It reads what the templates deploy: the backup
plan's schedule and its copy to the DR region, whether the DR region holds an Aurora
secondary cluster and how many instances, whether the user files replicate (and with
Replication Time Control), the DR function's reserved and provisioned concurrency, the
Route 53 health checks and records. From those it derives:

* **RPO**: the most recent data the DR region may lack when the home region is lost;
* **RTO**: the steps of the failover, each with its resource, region and duration (the
  failover runbook is these steps), summed;
* **cost**: the DR region's monthly cost at the prices and sizes of
  :mod:`analysis.disaster_recovery.prices`.

Pass only the workload's stacks (the ``dr-`` stacks of an assembly): resources are then
selected by type and region, never by logical id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.assembly import StackTemplate
from analysis.disaster_recovery import prices

# Aurora Global Database: replication lag is typically under a second (Aurora user guide).
AURORA_TYPICAL_LAG_SECONDS = 1
# S3 Replication Time Control: 99.99% of objects within 15 minutes (S3 user guide, SLA).
RTC_SECONDS = 15 * 60


@dataclass(frozen=True)
class Resource:
    logical_id: str
    type: str
    properties: dict[str, Any]
    region: str


def _resources(stacks: Iterable[StackTemplate]) -> list[Resource]:
    found: list[Resource] = []
    for stack in stacks:
        for logical_id, resource in stack.template.get("Resources", {}).items():
            found.append(Resource(logical_id, resource["Type"], resource.get("Properties", {}), stack.region))
    return found


def _text(value: Any) -> str:
    """A template value as text, with intrinsic functions kept as JSON: enough to find a
    region or a name inside an ARN built with ``Fn::Join``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_text(part) for part in parts)
    return json.dumps(value, sort_keys=True)


def _ref(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def backup_interval_hours(schedule: str) -> int:
    """Hours between runs of an AWS Backup ``cron(min hour dom month dow year)`` schedule
    that runs at a fixed minute: every N hours (``*/N``), hourly (``*``) or daily (a number)."""
    match = re.fullmatch(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)", schedule.strip())
    if match is None:
        raise ValueError(f"not a cron schedule: {schedule}")
    minute, hour, day, _month, weekday, _year = match.groups()
    if not minute.isdigit() or day not in ("*", "?") or weekday not in ("*", "?"):
        raise ValueError(f"only schedules at a fixed minute every N hours or daily are analysed: {schedule}")
    if hour == "*":
        return 1
    if hour.startswith("*/") and hour[2:].isdigit():
        return int(hour[2:])
    if hour.isdigit():
        return 24
    raise ValueError(f"unsupported hour field in {schedule}")


@dataclass(frozen=True)
class Function:
    """A function behind an alias (the service function; deploy-time helpers have none)."""

    region: str
    reserved_concurrency: int | None
    provisioned_concurrency: int
    memory_mb: int


@dataclass(frozen=True)
class HealthCheck:
    region: str  # the region of the stack that defines it
    interval_seconds: int
    failure_threshold: int
    https: bool


@dataclass(frozen=True)
class Facts:
    """What the templates deploy, as far as recovery is concerned."""

    home_region: str
    dr_region: str
    backup_interval_hours: int | None  # of the backup rule that copies to the DR region
    backup_start_window_minutes: int
    dr_vaults: int
    dr_vault_locked: bool
    dr_cluster: str | None  # "secondary" (joins a global database), "standalone", or None
    dr_instances: tuple[str, ...]  # instance classes in the DR region
    home_instances: tuple[str, ...]
    write_forwarding: bool
    files_replicated: bool
    replication_time_control: bool
    home_function: Function | None
    dr_function: Function | None
    home_health_check: HealthCheck | None
    dr_health_checks: tuple[HealthCheck, ...]
    dr_routing: str | None  # "failover" (a secondary record), "latency", or None
    record_ttl_seconds: int
    dr_keys: int
    dr_secrets: int  # secrets and secret replicas in the DR region


def _functions(resources: Sequence[Resource]) -> list[Function]:
    by_id = {r.logical_id + "@" + r.region: r for r in resources}
    functions: list[Function] = []
    for alias in (r for r in resources if r.type == "AWS::Lambda::Alias"):
        target = _ref(alias.properties.get("FunctionName"))
        function = by_id.get(f"{target}@{alias.region}")
        if function is None:
            continue
        provisioned = alias.properties.get("ProvisionedConcurrencyConfig", {}).get("ProvisionedConcurrentExecutions", 0)
        reserved = function.properties.get("ReservedConcurrentExecutions")
        functions.append(
            Function(
                region=alias.region,
                reserved_concurrency=None if reserved is None else int(reserved),
                provisioned_concurrency=int(provisioned),
                memory_mb=int(function.properties.get("MemorySize", 128)),
            )
        )
    return functions


def _health_checks(resources: Sequence[Resource]) -> list[HealthCheck]:
    checks: list[HealthCheck] = []
    for check in (r for r in resources if r.type == "AWS::Route53::HealthCheck"):
        config = check.properties["HealthCheckConfig"]
        checks.append(
            HealthCheck(
                region=check.region,
                interval_seconds=int(config.get("RequestInterval", 30)),
                failure_threshold=int(config.get("FailureThreshold", 3)),
                https=str(config.get("Type", "")).startswith("HTTPS"),
            )
        )
    return checks


def extract_facts(stacks: Iterable[StackTemplate], *, home_region: str, dr_region: str) -> Facts:
    resources = _resources(stacks)
    in_dr = [r for r in resources if r.region == dr_region]

    # Backups: the rule that copies to a vault in the DR region.
    interval: int | None = None
    start_window = 0
    for plan in (r for r in resources if r.type == "AWS::Backup::BackupPlan"):
        for rule in plan.properties["BackupPlan"]["BackupPlanRule"]:
            copies = [_text(c.get("DestinationBackupVaultArn")) for c in rule.get("CopyActions", [])]
            if any(f":backup:{dr_region}:" in arn for arn in copies):
                interval = backup_interval_hours(rule["ScheduleExpression"])
                start_window = int(rule.get("StartWindowMinutes", 480))  # AWS Backup's default: 8 hours
    vaults = [r for r in in_dr if r.type == "AWS::Backup::BackupVault"]

    # Database.
    clusters = {r.logical_id: r for r in resources if r.type == "AWS::RDS::DBCluster"}
    dr_clusters = [c for c in clusters.values() if c.region == dr_region]
    dr_cluster: str | None = None
    write_forwarding = False
    if dr_clusters:
        cluster = dr_clusters[0]
        dr_cluster = "secondary" if cluster.properties.get("GlobalClusterIdentifier") else "standalone"
        write_forwarding = bool(cluster.properties.get("EnableGlobalWriteForwarding", False))

    def instances(region: str) -> tuple[str, ...]:
        return tuple(
            str(r.properties["DBInstanceClass"])
            for r in resources
            if r.type == "AWS::RDS::DBInstance" and r.region == region and _ref(r.properties.get("DBClusterIdentifier"))
        )

    # Files: a replication rule of a home bucket whose destination is in the DR region.
    replicated = False
    rtc = False
    for bucket in (r for r in resources if r.type == "AWS::S3::Bucket" and r.region == home_region):
        for rule in bucket.properties.get("ReplicationConfiguration", {}).get("Rules", []):
            if rule.get("Status") != "Enabled" or not _text(rule["Destination"]["Bucket"]).endswith(dr_region):
                continue
            replicated = True
            rtc = rtc or rule["Destination"].get("ReplicationTime", {}).get("Status") == "Enabled"

    functions = _functions(resources)
    checks = _health_checks(resources)
    records = [r for r in in_dr if r.type == "AWS::Route53::RecordSet" and r.properties.get("HealthCheckId")]
    routing: str | None = None
    if records:
        routing = "latency" if records[0].properties.get("Region") else "failover"
    all_records = [r for r in resources if r.type == "AWS::Route53::RecordSet" and r.properties.get("HealthCheckId")]
    ttl = max((int(r.properties.get("TTL", 0)) for r in all_records), default=0)
    secrets = sum(1 for r in in_dr if r.type == "AWS::SecretsManager::Secret") + sum(
        1
        for r in resources
        if r.type == "AWS::SecretsManager::Secret"
        for replica in r.properties.get("ReplicaRegions", [])
        if replica.get("Region") == dr_region
    )
    home_checks = [c for c in checks if c.region == home_region]
    return Facts(
        home_region=home_region,
        dr_region=dr_region,
        backup_interval_hours=interval,
        backup_start_window_minutes=start_window,
        dr_vaults=len(vaults),
        dr_vault_locked=any("LockConfiguration" in v.properties for v in vaults),
        dr_cluster=dr_cluster,
        dr_instances=instances(dr_region),
        home_instances=instances(home_region),
        write_forwarding=write_forwarding,
        files_replicated=replicated,
        replication_time_control=rtc,
        home_function=next((f for f in functions if f.region == home_region), None),
        dr_function=next((f for f in functions if f.region == dr_region), None),
        home_health_check=home_checks[0] if home_checks else None,
        dr_health_checks=tuple(c for c in checks if c.region == dr_region),
        dr_routing=routing,
        record_ttl_seconds=ttl,
        dr_keys=sum(1 for r in in_dr if r.type == "AWS::KMS::Key"),
        dr_secrets=secrets,
    )


# --- RPO ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rpo:
    database_seconds: int | None  # None: no copy of the database in the DR region
    database_source: str
    files_seconds: int | None  # None: no bound (replication without RTC) or no copy
    files_source: str

    @property
    def seconds(self) -> int | None:
        """The worst of the two; None when either has no bound."""
        if self.database_seconds is None or self.files_seconds is None:
            return None
        return max(self.database_seconds, self.files_seconds)


def rpo(facts: Facts) -> Rpo:
    backup_seconds: int | None = None
    backup_source = "no backup is copied to the DR region"
    if facts.backup_interval_hours is not None and facts.dr_vaults:
        backup_seconds = facts.backup_interval_hours * 3600 + facts.backup_start_window_minutes * 60
        backup_source = (
            f"backup every {facts.backup_interval_hours} h + {facts.backup_start_window_minutes} min start window, "
            "copied to the DR vault"
        )
    if facts.dr_cluster == "secondary":
        database_seconds: int | None = AURORA_TYPICAL_LAG_SECONDS
        database_source = f"Aurora Global Database storage replication, typically under {AURORA_TYPICAL_LAG_SECONDS} s"
    else:
        database_seconds, database_source = backup_seconds, backup_source
    if facts.files_replicated:
        files_seconds: int | None = RTC_SECONDS if facts.replication_time_control else None
        files_source = (
            "S3 replication with Replication Time Control: 99.99% within 15 min"
            if facts.replication_time_control
            else "S3 replication without Replication Time Control: no time bound"
        )
    else:
        files_seconds, files_source = backup_seconds, backup_source
    return Rpo(database_seconds, database_source, files_seconds, files_source)


# --- RTO and the failover runbook --------------------------------------------------------


@dataclass(frozen=True)
class Step:
    action: str
    command: str
    resource: str
    region: str
    seconds: int
    basis: str  # where the duration comes from


def failover_steps(facts: Facts) -> list[Step]:
    """The failover, in order, as the templates leave it to be done."""
    dr = facts.dr_region
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


# --- Cost --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostLine:
    item: str
    basis: str
    monthly: float


@dataclass(frozen=True)
class Cost:
    lines: tuple[CostLine, ...] = field(default_factory=tuple)

    @property
    def monthly(self) -> float:
        return round(sum(line.monthly for line in self.lines), 2)


def dr_region_cost(facts: Facts) -> Cost:
    """Monthly cost of what the DR region holds (and of the replication into it), idle:
    requests to the API and function are billed per use and left out."""
    lines: list[CostLine] = []
    if facts.dr_vaults:
        database_backup = prices.DATABASE_GB * prices.BACKUP_GB_PER_DATA_GB
        files_backup = prices.FILES_GB * prices.BACKUP_GB_PER_DATA_GB
        lines.append(
            CostLine(
                "backup copies (database)",
                f"{database_backup:g} GB x ${prices.BACKUP_AURORA_GB_MONTH}",
                database_backup * prices.BACKUP_AURORA_GB_MONTH,
            )
        )
        lines.append(
            CostLine(
                "backup copies (files)",
                f"{files_backup:g} GB x ${prices.BACKUP_S3_GB_MONTH}",
                files_backup * prices.BACKUP_S3_GB_MONTH,
            )
        )
    for instance_class in sorted(set(facts.dr_instances)):
        count = facts.dr_instances.count(instance_class)
        hourly = prices.AURORA_INSTANCE_HOURLY.get(instance_class)
        if hourly is None:
            raise ValueError(f"no price for {instance_class} in analysis/disaster_recovery/prices.py")
        lines.append(
            CostLine(
                f"Aurora instances ({instance_class})",
                f"{count} x {prices.HOURS_PER_MONTH} h x ${hourly}",
                count * prices.HOURS_PER_MONTH * hourly,
            )
        )
    if facts.dr_cluster is not None:
        lines.append(
            CostLine(
                "Aurora storage",
                f"{prices.DATABASE_GB} GB x ${prices.AURORA_STORAGE_GB_MONTH}",
                prices.DATABASE_GB * prices.AURORA_STORAGE_GB_MONTH,
            )
        )
    if facts.dr_cluster == "secondary":
        lines.append(
            CostLine(
                "Global Database replicated writes",
                f"{prices.DATABASE_WRITE_IOS_MILLION_MONTH} M I/Os x ${prices.AURORA_REPLICATED_WRITE_IO_PER_MILLION}",
                prices.DATABASE_WRITE_IOS_MILLION_MONTH * prices.AURORA_REPLICATED_WRITE_IO_PER_MILLION,
            )
        )
    if facts.files_replicated:
        written = prices.FILES_WRITTEN_GB_MONTH
        lines.append(
            CostLine(
                "replica files",
                f"{prices.FILES_GB} GB x ${prices.S3_STANDARD_GB_MONTH}",
                prices.FILES_GB * prices.S3_STANDARD_GB_MONTH,
            )
        )
        lines.append(
            CostLine(
                "replication transfer",
                f"{written} GB x ${prices.INTER_REGION_TRANSFER_PER_GB}",
                written * prices.INTER_REGION_TRANSFER_PER_GB,
            )
        )
        if facts.replication_time_control:
            lines.append(
                CostLine(
                    "Replication Time Control",
                    f"{written} GB x ${prices.S3_RTC_PER_GB}",
                    written * prices.S3_RTC_PER_GB,
                )
            )
    function = facts.dr_function
    if function is not None and function.provisioned_concurrency:
        gb_seconds = function.provisioned_concurrency * function.memory_mb / 1024 * prices.HOURS_PER_MONTH * 3600
        lines.append(
            CostLine(
                "provisioned concurrency",
                f"{function.provisioned_concurrency} x {function.memory_mb} MB x {prices.HOURS_PER_MONTH} h",
                gb_seconds * prices.LAMBDA_PROVISIONED_ARM_GB_SECOND,
            )
        )
    for check in facts.dr_health_checks:
        features = int(check.https) + int(check.interval_seconds == 10)
        lines.append(
            CostLine(
                "health check",
                f"${prices.HEALTH_CHECK_AWS_ENDPOINT_MONTH} + {features} optional feature(s)",
                prices.HEALTH_CHECK_AWS_ENDPOINT_MONTH + features * prices.HEALTH_CHECK_OPTIONAL_FEATURE_MONTH,
            )
        )
    if facts.dr_keys:
        lines.append(
            CostLine("KMS keys", f"{facts.dr_keys} x ${prices.KMS_KEY_MONTH}", facts.dr_keys * prices.KMS_KEY_MONTH)
        )
    if facts.dr_secrets:
        lines.append(
            CostLine(
                "secret replicas",
                f"{facts.dr_secrets} x ${prices.SECRET_MONTH}",
                facts.dr_secrets * prices.SECRET_MONTH,
            )
        )
    return Cost(tuple(CostLine(line.item, line.basis, round(line.monthly, 2)) for line in lines))


# --- Summary -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TierReport:
    facts: Facts
    rpo: Rpo
    failover: tuple[Step, ...]
    failback: tuple[Step, ...]
    cost: Cost

    @property
    def rto_seconds(self) -> int:
        return sum(step.seconds for step in self.failover)


def analyse(stacks: Iterable[StackTemplate], *, home_region: str, dr_region: str) -> TierReport:
    facts = extract_facts(stacks, home_region=home_region, dr_region=dr_region)
    return TierReport(
        facts=facts,
        rpo=rpo(facts),
        failover=tuple(failover_steps(facts)),
        failback=tuple(failback_steps(facts)),
        cost=dr_region_cost(facts),
    )


def duration(seconds: int | None) -> str:
    """``90`` -> ``1 min 30 s``; None -> ``no bound``."""
    if seconds is None:
        return "no bound"
    if seconds < 60:
        return f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "", f"{secs} s" if secs else ""]
    return " ".join(part for part in parts if part)
