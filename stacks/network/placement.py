"""Where the network stacks go: all in the network account, which owns every VPC.

Deployment order (stack dependencies): the DR region's Transit Gateway first (the hub
requests the peering with it), then the hub, then each region's peering routes.
"""

from __future__ import annotations

from aws_cdk import Environment, Stack
from constructs import Construct

from org_config.model import AccountRole, OrgConfig
from stacks.network.dr import NetworkDrStack
from stacks.network.hub import NetworkHubStack
from stacks.network.peering import NetworkPeeringStack


def build_network(scope: Construct, config: OrgConfig, *, log_archive: Stack | None = None) -> list[Stack]:
    """The network stacks, in deployment order. ``log_archive`` (the stack of the flow-log
    bucket) is deployed before any of them when given."""
    if not config.has_vpcs:
        return []  # no network section, or one without VPCs
    stacks = _network_stacks(scope, config)
    if log_archive is not None:
        for stack in stacks:
            stack.add_stack_dependency(log_archive, "flow logs go to the log-archive bucket")
    return stacks


def _network_stacks(scope: Construct, config: OrgConfig) -> list[Stack]:
    home, dr = config.regions.home, config.regions.dr
    account = config.account(AccountRole.NETWORK).id
    has_dr = bool(config.network.vpcs_in(dr))
    dr_stack = None
    if has_dr:
        dr_stack = NetworkDrStack(
            scope,
            f"network-dr-{dr}",
            config=config,
            env=Environment(account=account, region=dr),
            description="DR-region Transit Gateway and VPCs (network account)",
            termination_protection=True,
        )
    hub = NetworkHubStack(
        scope,
        f"network-hub-{home}",
        config=config,
        env=Environment(account=account, region=home),
        description="Transit Gateway hub, segment routing, inspection, egress, hybrid connectivity (network account)",
        termination_protection=True,  # every VPC of the organization hangs off it
    )
    if dr_stack is None:
        return [hub]
    hub.add_stack_dependency(dr_stack, "the peering request needs the DR Transit Gateway")
    hub_peering = NetworkPeeringStack(
        scope,
        f"network-peering-{home}",
        config=config,
        routing=hub.routing,
        env=Environment(account=account, region=home),
        description="Home side of the inter-region peering: association and static routes (network account)",
    )
    dr_peering = NetworkPeeringStack(
        scope,
        f"network-peering-{dr}",
        config=config,
        routing=dr_stack.routing,
        env=Environment(account=account, region=dr),
        description="DR side of the inter-region peering: association and static routes (network account)",
    )
    for stack in (hub_peering, dr_peering):
        stack.add_stack_dependency(hub, "the hub requests and accepts the peering")
    return [dr_stack, hub, hub_peering, dr_peering]
