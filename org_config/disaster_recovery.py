"""The disaster_recovery section: the tier and the settings each tier reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from org_config.common import _NAME, LogRetentionDays, _Model, raise_problems
from org_config.organization import DR_TIERS

# AWS Backup starts a scheduled job within its start window (at least an hour); the newest
# recovery point may be that much older than the schedule says.
BACKUP_START_WINDOW_MINUTES = 60
# Backup frequencies that divide the day, so ``cron(0 */N * * ? *)`` runs every N hours evenly.
BACKUP_FREQUENCIES_HOURS: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12, 24)
# The health probe of each region's service (scheduled, never behind the API) reserves this
# much concurrency of its own, so no caller of the API can starve it.
HEALTH_PROBE_RESERVED_CONCURRENCY = 1
# Names reserved for documentation and testing (RFC 2606): Route 53 refuses a hosted zone
# for example.com, example.net, example.org and names under them ("InvalidDomainName: ...
# is reserved by AWS"), and no public parent delegates the reserved top-level domains, so
# an ACM certificate validated in such a zone never finishes.
RESERVED_DOMAINS: tuple[str, ...] = ("example.com", "example.net", "example.org")
RESERVED_TOP_LEVEL_DOMAINS: tuple[str, ...] = ("example", "invalid", "localhost", "test")
# A Route 53 hosted zone id: "Z" and up to 31 more upper-case letters or digits (the API
# gives the Id a maximum length of 32, Route 53 API Reference, HostedZone).
_HOSTED_ZONE_ID = r"^Z[A-Z0-9]{1,31}$"


def reserved_domain(name: str) -> str | None:
    """The reserved name that ``name`` is or lies under, or None."""
    for reserved in RESERVED_DOMAINS:
        if name == reserved or name.endswith("." + reserved):
            return reserved
    top = name.rsplit(".", 1)[-1]
    return f".{top}" if top in RESERVED_TOP_LEVEL_DOMAINS else None


@dataclass(frozen=True, kw_only=True)
class RegionPlan:
    """What one region's workload runs.

    ``database``: ``primary`` (writer, the global database's source), ``secondary`` (a
    global database secondary) or ``None`` (backups only). ``instances`` counts the
    database instances (a secondary has no writer: all its instances read).
    ``reserved_concurrency`` 0 keeps the function defined but switched off;
    ``provisioned_concurrency`` 0 means no warm execution environments.
    ``routing``: ``failover`` (primary/secondary records) or ``latency`` (both serve).
    """

    database: str | None
    instances: int
    reserved_concurrency: int
    provisioned_concurrency: int
    routing: str
    write_forwarding: bool = False


class DisasterRecovery(_Model):
    """Pattern 3: the sample workload and the DR tier it is deployed at.

    The workload runs in the prod spoke VPCs (``home_vpc`` in regions.home, ``dr_vpc`` in
    regions.dr), which the network account owns and shares with ``account``. ``account``,
    ``hosted_zone_name`` and ``hosted_zone_id`` are required when the section is present:
    they name the user's own account and zone, and no example value may stand in for them.
    """

    tier: str = "pilot-light"
    account: str
    home_vpc: Annotated[str, Field(pattern=_NAME)] = "prod"
    dr_vpc: Annotated[str, Field(pattern=_NAME)] = "prod-dr"
    # The most data, in minutes, the business accepts to lose; backup-restore must back up
    # often enough to meet it.
    rpo_target_minutes: Annotated[int, Field(ge=1, le=10_080)] = 300
    backup_frequency_hours: int = 4
    backup_retention_days: Annotated[int, Field(ge=7, le=36_500)] = 35
    # Vault lock: no one can delete a recovery point younger than this (nor shorten it).
    vault_lock_min_retention_days: Annotated[int, Field(ge=1, le=36_500)] = 7
    # An existing public hosted zone in ``account`` that its parent already delegates to (the
    # certificate is validated in it), and the record clients use inside it.
    hosted_zone_name: str
    hosted_zone_id: str
    record_name: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")] = "app"
    record_ttl_seconds: Annotated[int, Field(ge=0, le=86_400)] = 60
    health_check_interval_seconds: int = 30
    health_check_failure_threshold: int = 3
    # S3 Replication Time Control: 99.99% of objects replicated within 15 minutes, with an SLA.
    replication_time_control: bool = True
    # Aurora PostgreSQL: the instance class (Global Database needs a memory-optimized class)
    # and the instances of the home cluster (one writer, the rest readers).
    database_instance_class: Annotated[str, Field(pattern=r"^db\.r[0-9][a-z]*\.[0-9]*x?large$")] = "db.r6g.large"
    database_instances: Annotated[int, Field(ge=1, le=16)] = 2
    # The API function: memory, provisioned concurrency at production size (the home region,
    # and the DR region at multi-site) and at minimum size (warm standby), reserved concurrency.
    function_memory_mb: Annotated[int, Field(ge=128, le=10_240)] = 512
    provisioned_concurrency: Annotated[int, Field(ge=1, le=1_000)] = 4
    standby_provisioned_concurrency: Annotated[int, Field(ge=1, le=1_000)] = 1
    reserved_concurrency: Annotated[int, Field(ge=1, le=1_000)] = 20
    # Multi-site writes: one writer region (the DR region is read-only until promoted) or
    # Aurora write forwarding (the DR region's writes travel to the writer).
    multi_site_writes: Literal["single-writer", "write-forwarding"] = "write-forwarding"
    # The API stage's throttle (steady requests per second and burst, across all callers;
    # API Gateway's account default is 10,000 and 5,000 per region) and the web ACL's limit
    # of requests from any one IP address in five minutes (the lowest AWS WAF accepts is 10:
    # AWS WAF Developer Guide, "Rate-based rule high-level settings").
    api_rate_limit_per_second: Annotated[int, Field(ge=1, le=10_000)] = 50
    api_burst_limit: Annotated[int, Field(ge=1, le=5_000)] = 100
    waf_requests_per_ip_per_5_minutes: Annotated[int, Field(ge=10, le=2_000_000_000)] = 1_000
    log_retention_days: LogRetentionDays = 365

    @field_validator("tier")
    @classmethod
    def _known_tier(cls, value: str) -> str:
        if value not in DR_TIERS:
            raise ValueError(f"unknown tier '{value}' (allowed: {', '.join(DR_TIERS)})")
        return value

    @field_validator("backup_frequency_hours")
    @classmethod
    def _divides_day(cls, value: int) -> int:
        if value not in BACKUP_FREQUENCIES_HOURS:
            allowed = ", ".join(str(hours) for hours in BACKUP_FREQUENCIES_HOURS)
            raise ValueError(f"{value} does not divide the day into equal parts (allowed: {allowed})")
        return value

    @field_validator("hosted_zone_name")
    @classmethod
    def _domain(cls, value: str) -> str:
        label = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
        if len(value) > 253 or not re.fullmatch(rf"({label}\.)+[a-z]{{2,63}}", value):
            raise ValueError(f"'{value}' is not a domain name (lower-case labels separated by dots, no trailing dot)")
        reserved = reserved_domain(value)
        if reserved is not None:
            raise ValueError(
                f"'{value}' is under {reserved}, which is reserved for documentation (RFC 2606): Route 53 or "
                "the public DNS refuses it; use a zone of a domain you own"
            )
        return value

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone_id(cls, value: str) -> str:
        if not re.fullmatch(_HOSTED_ZONE_ID, value):
            raise ValueError(
                f"'{value}' is not a Route 53 hosted zone id ('Z' and up to 31 upper-case letters or digits, "
                "without the '/hostedzone/' prefix)"
            )
        return value

    @field_validator("health_check_interval_seconds")
    @classmethod
    def _interval(cls, value: int) -> int:
        if value not in (10, 30):
            raise ValueError(f"{value} is not a Route 53 health-check interval (10 or 30 seconds)")
        return value

    @field_validator("health_check_failure_threshold")
    @classmethod
    def _threshold(cls, value: int) -> int:
        if not 1 <= value <= 10:
            raise ValueError(f"{value} is outside the Route 53 failure threshold range 1 to 10")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DisasterRecovery:
        problems: list[str] = []
        worst = self.backup_frequency_hours * 60 + BACKUP_START_WINDOW_MINUTES
        if self.tier == "backup-restore" and worst > self.rpo_target_minutes:
            problems.append(
                f"disaster_recovery.backup_frequency_hours: a backup every {self.backup_frequency_hours} h "
                f"(plus the {BACKUP_START_WINDOW_MINUTES}-minute start window) cannot meet "
                f"rpo_target_minutes {self.rpo_target_minutes}"
            )
        if self.standby_provisioned_concurrency > self.provisioned_concurrency:
            problems.append(
                "disaster_recovery.standby_provisioned_concurrency: must not exceed provisioned_concurrency"
            )
        if self.reserved_concurrency < self.provisioned_concurrency:
            problems.append("disaster_recovery.reserved_concurrency: must be at least provisioned_concurrency")
        if self.vault_lock_min_retention_days > self.backup_retention_days:
            problems.append("disaster_recovery.vault_lock_min_retention_days: must not exceed backup_retention_days")
        raise_problems(problems)
        return self

    def home_plan(self) -> RegionPlan:
        """The home region: the primary database and the service at production size."""
        return RegionPlan(
            database="primary",
            instances=self.database_instances,
            reserved_concurrency=self.reserved_concurrency,
            provisioned_concurrency=self.provisioned_concurrency,
            routing="latency" if self.tier == "multi-site" else "failover",
        )

    def standby_plan(self) -> RegionPlan | None:
        """The DR region's workload at the tier; None for backup-restore (the DR region holds
        backups only, and the code to build the rest). The one place that turns the tier's
        name into what the DR region runs; the analyses read the result from the templates."""
        if self.tier == "backup-restore":
            return None
        if self.tier == "pilot-light":
            # Data replicated, compute defined but switched off, no database instance.
            return RegionPlan(
                database="secondary", instances=0, reserved_concurrency=0, provisioned_concurrency=0, routing="failover"
            )
        if self.tier == "warm-standby":
            # One reader and the minimum warm compute: serves at once, at reduced capacity.
            return RegionPlan(
                database="secondary",
                instances=1,
                reserved_concurrency=self.reserved_concurrency,
                provisioned_concurrency=self.standby_provisioned_concurrency,
                routing="failover",
            )
        # multi-site: production size, serving all the time.
        return RegionPlan(
            database="secondary",
            instances=self.database_instances,
            reserved_concurrency=self.reserved_concurrency,
            provisioned_concurrency=self.provisioned_concurrency,
            routing="latency",
            write_forwarding=self.multi_site_writes == "write-forwarding",
        )

    def reserved_concurrency_by_region(self) -> dict[str, int]:
        """Lambda concurrency the pattern reserves in ``account``, keyed ``"home"`` (regions.home)
        and ``"dr"`` (regions.dr): the service function's reserved concurrency plus the health
        probe's, in each region that runs a service (the DR region runs none at backup-restore;
        at pilot light its function reserves 0 and only the probe reserves)."""
        reserved = {"home": self.home_plan().reserved_concurrency + HEALTH_PROBE_RESERVED_CONCURRENCY, "dr": 0}
        standby = self.standby_plan()
        if standby is not None:
            reserved["dr"] = standby.reserved_concurrency + HEALTH_PROBE_RESERVED_CONCURRENCY
        return reserved
