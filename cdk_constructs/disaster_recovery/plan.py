"""What each region of the workload runs at the configured tier.

:func:`standby_plan` is the one place that turns the tier name into what the DR region
holds; the constructs build from the plan, and the analysis
(``analysis/disaster_recovery/``) reads the result back from the templates, never from
the tier name.
"""

from __future__ import annotations

from dataclasses import dataclass

from org_config.model import DisasterRecovery

ENGINE_VERSION = "17.7"  # Aurora PostgreSQL 17, which Global Database supports
DATABASE_PORT = 5432
DATABASE_NAME = "workload"
STAGE_NAME = "v1"
HEALTH_PATH = "/health"
FUNCTION_TIMEOUT_SECONDS = 10


@dataclass(frozen=True, kw_only=True)
class RegionPlan:
    """What one region's workload runs.

    ``database``: ``primary`` (writer, the global database's source), ``secondary`` (a
    global database secondary) or ``None`` (backups only). ``reader_instances`` counts the
    instances beyond the writer (a secondary has no writer: all its instances read).
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


def home_plan(settings: DisasterRecovery) -> RegionPlan:
    return RegionPlan(
        database="primary",
        instances=settings.database_instances,
        reserved_concurrency=settings.reserved_concurrency,
        provisioned_concurrency=settings.provisioned_concurrency,
        routing="latency" if settings.tier == "multi-site" else "failover",
    )


def standby_plan(settings: DisasterRecovery) -> RegionPlan | None:
    """The DR region's workload at the configured tier; None for backup-restore (the DR
    region holds backups only, and the code to build the rest)."""
    tier = settings.tier
    if tier == "backup-restore":
        return None
    if tier == "pilot-light":
        # Data replicated, compute defined but switched off, no database instance.
        return RegionPlan(
            database="secondary", instances=0, reserved_concurrency=0, provisioned_concurrency=0, routing="failover"
        )
    if tier == "warm-standby":
        # One reader and the minimum warm compute: serves at once, at reduced capacity.
        return RegionPlan(
            database="secondary",
            instances=1,
            reserved_concurrency=settings.reserved_concurrency,
            provisioned_concurrency=settings.standby_provisioned_concurrency,
            routing="failover",
        )
    # multi-site: production size, serving all the time.
    return RegionPlan(
        database="secondary",
        instances=settings.database_instances,
        reserved_concurrency=settings.reserved_concurrency,
        provisioned_concurrency=settings.provisioned_concurrency,
        routing="latency",
        write_forwarding=settings.multi_site_writes == "write-forwarding",
    )
