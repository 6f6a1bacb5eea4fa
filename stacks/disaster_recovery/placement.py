"""Where the DR stacks go: all in the workload account, in the home and DR regions.

Deployment order (stack dependencies): the DR region's recovery stack (vault, replica
bucket, data key) first, since the home region copies and replicates into it; then the
home stack (primary database, global database, service); then the standby stack,
whose secondary cluster joins the global database. The network stacks, which share the
subnets, must be deployed before all of them.
"""

from __future__ import annotations

from aws_cdk import Environment, Stack
from constructs import Construct

from cdk_constructs.disaster_recovery.plan import standby_plan
from org_config.model import OrgConfig
from stacks.disaster_recovery.home import DrHomeStack
from stacks.disaster_recovery.recovery import DrRecoveryStack
from stacks.disaster_recovery.standby import DrStandbyStack


def build_disaster_recovery(scope: Construct, config: OrgConfig) -> list[Stack]:
    if config.disaster_recovery_section is None:
        return []  # not configured (the config refuses it without the network's VPCs it runs in)
    settings = config.disaster_recovery
    home, dr = config.regions.home, config.regions.dr
    account = config.account_named(settings.account).id
    tier = settings.tier
    recovery = DrRecoveryStack(
        scope,
        f"dr-recovery-{dr}",
        config=config,
        env=Environment(account=account, region=dr),
        description=f"DR workload ({tier}): backup vault, replica bucket and data key in the DR region",
        termination_protection=True,  # holds the only copies outside the home region
    )
    # API Gateway's logging role is one setting per account and region: the object index's
    # API stack sets it when it shares this account and region.
    object_index_api = scope.node.try_find_child(f"object-index-api-{home}")
    shares_logging = (
        object_index_api is not None
        and config.object_index is not None
        and config.object_index.account == settings.account
    )
    home_stack = DrHomeStack(
        scope,
        f"dr-home-{home}",
        config=config,
        set_api_gateway_logging=not shares_logging,
        env=Environment(account=account, region=home),
        description=f"DR workload ({tier}): service, primary database, backups (home region)",
        termination_protection=True,
    )
    home_stack.add_stack_dependency(recovery, "backups are copied and files replicated into the DR region")
    if shares_logging and isinstance(object_index_api, Stack):
        home_stack.add_stack_dependency(object_index_api, "it sets the account's API Gateway logging role")
    stacks: list[Stack] = [recovery, home_stack]
    plan = standby_plan(settings)
    if plan is not None:
        standby = DrStandbyStack(
            scope,
            f"dr-standby-{dr}",
            config=config,
            plan=plan,
            env=Environment(account=account, region=dr),
            description=f"DR workload ({tier}): standby service and secondary database (DR region)",
        )
        standby.add_stack_dependency(home_stack, "the secondary cluster joins the global database")
        stacks.append(standby)
    return stacks
