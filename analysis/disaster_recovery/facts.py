"""What the workload's templates deploy, as far as recovery is concerned: the
:class:`Facts` that the RPO, the runbooks and the cost are derived from.

Resources are selected by type and region, never by logical id; values built with
intrinsic functions are read as text (:func:`template_text`) only to find a region or a name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from analysis.assembly import StackTemplate


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


def template_text(value: Any) -> str:
    """A template value as text, with intrinsic functions kept as JSON: enough to find a
    region or a name inside an ARN built with ``Fn::Join``. Any other intrinsic (``Ref``,
    ``Fn::Sub``, ``Fn::GetStackOutput``...) and a malformed ``Fn::Join`` stay JSON text,
    which matches no region or name: the fact is then not found, never guessed."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1 and "Fn::Join" in value:
        join = value["Fn::Join"]
        if isinstance(join, list) and len(join) == 2 and isinstance(join[0], str) and isinstance(join[1], list):
            return join[0].join(template_text(part) for part in join[1])
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
    minute, hour, day, month, weekday, year = match.groups()
    # A weekly, monthly or yearly schedule (a day of the week or month, a month, a year)
    # runs far less often than its hour field says: refuse it rather than read it as daily.
    if not minute.isdigit() or day not in ("*", "?") or weekday not in ("*", "?") or (month, year) != ("*", "*"):
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


# Route 53 health checks that send requests to an endpoint (the others watch an alarm or
# other health checks, and send none).
ENDPOINT_CHECK_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")


@dataclass(frozen=True)
class HealthCheck:
    region: str  # the region of the stack that defines it
    type: str  # Route 53's: HTTPS, CLOUDWATCH_METRIC, CALCULATED...
    interval_seconds: int
    failure_threshold: int

    @property
    def https(self) -> bool:
        return self.type.startswith("HTTPS")

    @property
    def endpoint(self) -> bool:
        return self.type in ENDPOINT_CHECK_TYPES


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
    home_health_check: HealthCheck | None  # the endpoint check (a lost region fails it first)
    dr_health_checks: tuple[HealthCheck, ...]  # every kind
    dr_alarms: int
    dr_web_acl_rules: tuple[int, ...]  # the rule count of each web ACL in the DR region
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
                type=str(config.get("Type", "")),
                interval_seconds=int(config.get("RequestInterval", 30)),
                failure_threshold=int(config.get("FailureThreshold", 3)),
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
            copies = [template_text(c.get("DestinationBackupVaultArn")) for c in rule.get("CopyActions", [])]
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
            if rule.get("Status") != "Enabled" or not template_text(rule["Destination"]["Bucket"]).endswith(dr_region):
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
    home_checks = [c for c in checks if c.region == home_region and c.endpoint]
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
        dr_alarms=sum(1 for r in in_dr if r.type == "AWS::CloudWatch::Alarm"),
        dr_web_acl_rules=tuple(len(r.properties.get("Rules", [])) for r in in_dr if r.type == "AWS::WAFv2::WebACL"),
        dr_routing=routing,
        record_ttl_seconds=ttl,
        dr_keys=sum(1 for r in in_dr if r.type == "AWS::KMS::Key"),
        dr_secrets=secrets,
    )
