"""Builds every stack of the organization from the config, and attaches the gates that
run on every synth (cdk-nag), so a new stack is checked without being listed anywhere."""

from __future__ import annotations

from aws_cdk import App, Environment, Stack, Tags

from cdk_constructs.gates import attach_nag
from org_config.model import AccountRole, OrgConfig
from stacks.log_archive_baseline import LogArchiveBaselineStack


def _env(config: OrgConfig, role: AccountRole, region: str) -> Environment:
    return Environment(account=config.account(role).id, region=region)


def build_organization(app: App, config: OrgConfig) -> list[Stack]:
    """Add the stacks of every pattern to ``app``; return them in creation order."""
    home = config.regions.home
    stacks: list[Stack] = [
        LogArchiveBaselineStack(
            app,
            f"log-archive-baseline-{home}",
            config=config,
            env=_env(config, AccountRole.LOG_ARCHIVE, home),
            description="Central, immutable log buckets and their KMS key (log-archive account)",
            termination_protection=True,  # holds the organization's audit trail
        ),
    ]
    for stack in stacks:
        Tags.of(stack).add("Project", config.organization.name_prefix)
    attach_nag(app)
    return stacks
