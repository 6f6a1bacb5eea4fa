"""The disaster_recovery section: the tier and the settings each tier reads."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from org_config.common import _NAME, LogRetentionDays, _Model
from org_config.organization import DR_TIERS

# AWS Backup starts a scheduled job within its start window (at least an hour); the newest
# recovery point may be that much older than the schedule says.
BACKUP_START_WINDOW_MINUTES = 60
# Backup frequencies that divide the day, so ``cron(0 */N * * ? *)`` runs every N hours evenly.
BACKUP_FREQUENCIES_HOURS: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12, 24)


class DisasterRecovery(_Model):
    """Pattern 3: the sample workload and the DR tier it is deployed at.

    The workload runs in the prod spoke VPCs (``home_vpc`` in regions.home, ``dr_vpc`` in
    regions.dr), which the network account owns and shares with ``account``.
    """

    tier: str = "pilot-light"
    account: str = "workload-prod"
    home_vpc: Annotated[str, Field(pattern=_NAME)] = "prod"
    dr_vpc: Annotated[str, Field(pattern=_NAME)] = "prod-dr"
    # The most data, in minutes, the business accepts to lose; backup-restore must back up
    # often enough to meet it.
    rpo_target_minutes: Annotated[int, Field(ge=1, le=10_080)] = 300
    backup_frequency_hours: int = 4
    backup_retention_days: Annotated[int, Field(ge=7, le=36_500)] = 35
    # Vault lock: no one can delete a recovery point younger than this (nor shorten it).
    vault_lock_min_retention_days: Annotated[int, Field(ge=1, le=36_500)] = 7
    # The public hosted zone the stacks create, and the record clients use inside it.
    hosted_zone_name: str = "dr.example.com"
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
        worst = self.backup_frequency_hours * 60 + BACKUP_START_WINDOW_MINUTES
        if self.tier == "backup-restore" and worst > self.rpo_target_minutes:
            raise ValueError(
                f"disaster_recovery.backup_frequency_hours: a backup every {self.backup_frequency_hours} h "
                f"(plus the {BACKUP_START_WINDOW_MINUTES}-minute start window) cannot meet "
                f"rpo_target_minutes {self.rpo_target_minutes}"
            )
        if self.standby_provisioned_concurrency > self.provisioned_concurrency:
            raise ValueError(
                "disaster_recovery.standby_provisioned_concurrency: must not exceed provisioned_concurrency"
            )
        if self.reserved_concurrency < self.provisioned_concurrency:
            raise ValueError("disaster_recovery.reserved_concurrency: must be at least provisioned_concurrency")
        if self.vault_lock_min_retention_days > self.backup_retention_days:
            raise ValueError("disaster_recovery.vault_lock_min_retention_days: must not exceed backup_retention_days")
        return self
