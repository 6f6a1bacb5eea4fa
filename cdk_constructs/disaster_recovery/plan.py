"""What each region of the workload runs, and the fixed facts of the workload.

The tier's meaning is decided in the config section (``DisasterRecovery.home_plan`` and
``standby_plan``, which the config's concurrency rule reads too); the constructs build from
the plan, and the analysis (``analysis/disaster_recovery/``) reads the result back from the
templates, never from the tier name.
"""

from __future__ import annotations

from org_config.disaster_recovery import HEALTH_PROBE_RESERVED_CONCURRENCY, DisasterRecovery, RegionPlan
from org_config.model import OrgConfig

__all__ = [
    "DATABASE_NAME",
    "DATABASE_PORT",
    "ENGINE_VERSION",
    "FUNCTION_TIMEOUT_SECONDS",
    "HEALTH_BURST_LIMIT",
    "HEALTH_PATH",
    "HEALTH_PROBE_RESERVED_CONCURRENCY",
    "HEALTH_RATE_LIMIT_PER_SECOND",
    "STAGE_NAME",
    "RegionPlan",
    "dr_settings",
    "home_plan",
    "standby_plan",
]

ENGINE_VERSION = "17.7"  # Aurora PostgreSQL 17, which Global Database supports
DATABASE_PORT = 5432
DATABASE_NAME = "workload"
STAGE_NAME = "v1"
HEALTH_PATH = "/health"
FUNCTION_TIMEOUT_SECONDS = 10
# GET /health has its own throttle, apart from the stage's: a flood of it cannot use the
# request budget of /files. Route 53's health checkers do not coordinate and sometimes send
# several requests in one second (Route 53 Developer Guide, "How Amazon Route 53 determines
# whether a health check is healthy"); 10 per second with a burst of 20 leaves them room.
HEALTH_RATE_LIMIT_PER_SECOND = 10
HEALTH_BURST_LIMIT = 20


def home_plan(settings: DisasterRecovery) -> RegionPlan:
    return settings.home_plan()


def standby_plan(settings: DisasterRecovery) -> RegionPlan | None:
    return settings.standby_plan()


def dr_settings(config: OrgConfig) -> DisasterRecovery:
    """The config's disaster_recovery section; the DR stacks are built only when it is present."""
    if config.disaster_recovery is None:
        raise ValueError("the config has no disaster_recovery section: the DR stacks are not built")
    return config.disaster_recovery
