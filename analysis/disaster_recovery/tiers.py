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

from collections.abc import Iterable
from dataclasses import dataclass

from analysis.assembly import StackTemplate
from analysis.disaster_recovery.cost import Cost, CostLine, dr_region_cost
from analysis.disaster_recovery.facts import Facts, Function, HealthCheck, backup_interval_hours, extract_facts
from analysis.disaster_recovery.runbook import Step, failback_steps, failover_steps, rto_seconds

__all__ = [
    "Cost",
    "CostLine",
    "Facts",
    "Function",
    "HealthCheck",
    "Rpo",
    "Step",
    "TierReport",
    "analyse",
    "backup_interval_hours",
    "dr_region_cost",
    "duration",
    "extract_facts",
    "failback_steps",
    "failover_steps",
    "rpo",
    "rto_seconds",
]

# Aurora Global Database: replication lag is typically under a second (Aurora user guide).
AURORA_TYPICAL_LAG_SECONDS = 1
# S3 Replication Time Control: 99.99% of objects within 15 minutes (S3 user guide, SLA).
RTC_SECONDS = 15 * 60


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
