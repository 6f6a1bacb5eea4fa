"""Markdown tables of the DR tiers side by side, from :mod:`analysis.disaster_recovery.tiers`
reports (one per tier). Used by ``tools/docs.py`` for ``docs/patterns/disaster-recovery.md``."""

from __future__ import annotations

from collections.abc import Mapping

from analysis.disaster_recovery import prices
from analysis.disaster_recovery.tiers import Facts, Step, TierReport, duration


def _dr_holds(facts: Facts) -> str:
    parts: list[str] = []
    if facts.dr_vaults:
        parts.append("backup vault" + (" (vault lock)" if facts.dr_vault_locked else ""))
    if facts.dr_cluster == "secondary":
        count = len(facts.dr_instances)
        instances = "no instance" if count == 0 else f"{count} instance{'s' if count > 1 else ''}"
        forwarding = ", write forwarding" if facts.write_forwarding else ""
        parts.append(f"Aurora secondary cluster, {instances}{forwarding}")
    if facts.files_replicated:
        parts.append("replica of the files" + (" (RTC)" if facts.replication_time_control else ""))
    function = facts.dr_function
    if function is not None:
        if function.reserved_concurrency == 0:
            parts.append("function switched off (reserved concurrency 0)")
        else:
            parts.append(f"function with {function.provisioned_concurrency} warm (provisioned) environment(s)")
    if facts.dr_routing == "failover":
        parts.append("failover secondary record + health check")
    elif facts.dr_routing == "latency":
        parts.append("latency record + health check: serves all the time")
    return "; ".join(parts)


def _home_holds(facts: Facts) -> str:
    function = facts.home_function
    warm = function.provisioned_concurrency if function else 0
    return (
        f"Aurora primary ({len(facts.home_instances)} instances), files, function ({warm} warm), "
        f"backups every {facts.backup_interval_hours} h"
    )


def render_overview(reports: Mapping[str, TierReport]) -> str:
    rows = [
        "| tier | home region | DR region | RPO | RTO | DR region, per month |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for tier, report in reports.items():
        rows.append(
            f"| {tier} | {_home_holds(report.facts)} | {_dr_holds(report.facts)} | {duration(report.rpo.seconds)} "
            f"| {duration(report.rto_seconds)} | ${report.cost.monthly:,.2f} |"
        )
    return "\n".join(rows)


def render_rpo(reports: Mapping[str, TierReport]) -> str:
    rows = ["| tier | database | user files | RPO (the worse) |", "| --- | --- | --- | --- |"]
    for tier, report in reports.items():
        rpo = report.rpo
        rows.append(
            f"| {tier} | {duration(rpo.database_seconds)}: {rpo.database_source} "
            f"| {duration(rpo.files_seconds)}: {rpo.files_source} | {duration(rpo.seconds)} |"
        )
    return "\n".join(rows)


def render_rto(reports: Mapping[str, TierReport]) -> str:
    rows = ["| tier | failover steps (duration, basis) | RTO |", "| --- | --- | --- |"]
    for tier, report in reports.items():
        steps = "<br>".join(f"{s.action} ({duration(s.seconds)}, {s.basis})" for s in report.failover)
        rows.append(f"| {tier} | {steps} | {duration(report.rto_seconds)} |")
    return "\n".join(rows)


def render_cost(reports: Mapping[str, TierReport]) -> str:
    items: list[str] = []
    for report in reports.values():
        for line in report.cost.lines:
            if line.item not in items:
                items.append(line.item)
    tiers = list(reports)
    rows = ["| item | " + " | ".join(tiers) + " |", "| --- |" + " ---: |" * len(tiers)]
    for item in items:
        cells = []
        for tier in tiers:
            found = next((c for c in reports[tier].cost.lines if c.item == item), None)
            cells.append(f"${found.monthly:,.2f} ({found.basis})" if found else "-")
        rows.append(f"| {item} | " + " | ".join(cells) + " |")
    rows.append("| **total** | " + " | ".join(f"**${reports[t].cost.monthly:,.2f}**" for t in tiers) + " |")
    return "\n".join(rows)


def render_assumptions() -> str:
    rows = [
        f"Prices: {prices.PRICE_REGION}, USD, on-demand, recorded {prices.PRICES_RECORDED} "
        "(sources in `analysis/disaster_recovery/prices.py`).",
        "",
        "| assumption | value |",
        "| --- | --- |",
        f"| hours per month | {prices.HOURS_PER_MONTH} |",
        f"| database size | {prices.DATABASE_GB} GB |",
        f"| user files | {prices.FILES_GB} GB, {prices.FILES_WRITTEN_GB_MONTH} GB written per month |",
        f"| database writes replicated | {prices.DATABASE_WRITE_IOS_MILLION_MONTH} million I/Os per month |",
        f"| backup storage | {prices.BACKUP_GB_PER_DATA_GB} x the data |",
        f"| restore the database from a recovery point | {prices.DATABASE_RESTORE_MINUTES} min |",
        f"| restore the files from a recovery point | {prices.FILES_RESTORE_MINUTES} min |",
        f"| add an Aurora instance | {prices.DATABASE_INSTANCE_CREATE_MINUTES} min |",
        f"| managed failover or switchover of the global database | {prices.GLOBAL_FAILOVER_MINUTES} min |",
        f"| deploy the service stack | {prices.SERVICE_DEPLOY_MINUTES} min |",
        f"| switch the function on | {prices.COMPUTE_ENABLE_MINUTES} min |",
        f"| scale the function up | {prices.COMPUTE_SCALE_MINUTES} min |",
        "| Aurora instance-hour | "
        + ", ".join(f"{name} ${price}" for name, price in prices.AURORA_INSTANCE_HOURLY.items())
        + " |",
    ]
    return "\n".join(rows)


def _runbook(steps: tuple[Step, ...]) -> str:
    rows = ["| # | what | run | on | region | expected |", "| --- | --- | --- | --- | --- | --- |"]
    for number, step in enumerate(steps, start=1):
        rows.append(
            f"| {number} | {step.action} | `{step.command}` | {step.resource} | {step.region} "
            f"| {duration(step.seconds) if step.seconds else step.basis} |"
        )
    return "\n".join(rows)


def render_runbooks(reports: Mapping[str, TierReport], *, failback: bool) -> str:
    parts: list[str] = []
    for tier, report in reports.items():
        steps = report.failback if failback else report.failover
        total = sum(s.seconds for s in steps)
        parts.append(f"**{tier}** (about {duration(total)}, plus the steps that depend on data size)\n")
        parts.append(_runbook(steps))
        parts.append("")
    return "\n".join(parts).rstrip()
