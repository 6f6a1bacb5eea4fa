"""The DR region's monthly cost, idle, at the prices and sizes of
:mod:`analysis.disaster_recovery.prices`."""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.disaster_recovery import prices
from analysis.disaster_recovery.facts import Facts


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


def _data_lines(facts: Facts) -> list[CostLine]:
    """The backup copies and the Aurora secondary."""
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
    return lines


def _files_lines(facts: Facts) -> list[CostLine]:
    """The replica of the user files and the replication into it."""
    lines: list[CostLine] = []
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
    return lines


def _service_lines(facts: Facts) -> list[CostLine]:
    """The warm compute, the health checks and their alarm, the web ACL."""
    lines: list[CostLine] = []
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
        # Optional features apply to endpoint checks only; alarm and calculated checks are
        # priced as a basic check of an AWS endpoint (an assumption: see prices.py).
        features = int(check.https) + int(check.interval_seconds == 10) if check.endpoint else 0
        lines.append(
            CostLine(
                f"health check ({check.type})",
                f"${prices.HEALTH_CHECK_AWS_ENDPOINT_MONTH} + {features} optional feature(s)",
                prices.HEALTH_CHECK_AWS_ENDPOINT_MONTH + features * prices.HEALTH_CHECK_OPTIONAL_FEATURE_MONTH,
            )
        )
    if facts.dr_alarms:
        lines.append(
            CostLine(
                "CloudWatch alarms",
                f"{facts.dr_alarms} x ${prices.CLOUDWATCH_ALARM_MONTH}",
                facts.dr_alarms * prices.CLOUDWATCH_ALARM_MONTH,
            )
        )
    for rules in facts.dr_web_acl_rules:
        lines.append(
            CostLine(
                "AWS WAF web ACL",
                f"${prices.WAF_WEB_ACL_MONTH} + {rules} rule(s) x ${prices.WAF_RULE_MONTH}",
                prices.WAF_WEB_ACL_MONTH + rules * prices.WAF_RULE_MONTH,
            )
        )
    return lines


def dr_region_cost(facts: Facts) -> Cost:
    """Monthly cost of what the DR region holds (and of the replication into it), idle:
    requests to the API, the web ACL and the functions are billed per use and left out
    (the health probe's 43,800 runs a month cost under a cent)."""
    lines = _data_lines(facts) + _files_lines(facts) + _service_lines(facts)
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
