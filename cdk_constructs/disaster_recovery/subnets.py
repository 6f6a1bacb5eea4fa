"""The shared subnets the workload runs in, found at deploy time."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aws_cdk import Stack
from constructs import Construct

from cdk_constructs.deploy_time_lookup import DeployTimeCall, allow
from org_config.model import AccountRole, OrgConfig


class SharedSubnets(Construct):
    """The ids of the workload subnets that the network account shares with this account.

    Participants of a shared VPC see the owner's subnets but not the owner's tags, and an
    AZ name means a different zone in each account, so the lookup filters on what both
    accounts agree on: the subnets' CIDR blocks (from the config's CIDR plan, the same
    blocks the network stacks create) and the owner account id. One EC2
    ``DescribeSubnets`` call at deploy time, with literal filters only.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        owner_account: str,
        blocks: Sequence[ipaddress.IPv4Network],
        name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        paths = [f"Subnets.{index}.SubnetId" for index in range(len(blocks))] + ["Subnets.0.VpcId"]
        call = DeployTimeCall(
            self,
            "Lookup",
            service="EC2",
            action="describeSubnets",
            parameters={
                "Filters": [
                    {"Name": "cidr-block", "Values": [str(block) for block in blocks]},
                    {"Name": "owner-id", "Values": [owner_account]},
                ]
            },
            physical_id=f"shared-subnets-{name}",
            output_paths=paths,
        )
        allow(
            Stack.of(self),
            ["ec2:DescribeSubnets"],
            ["*"],
            "EC2 describe calls support no resource-level permissions; the calls only read.",
        )
        # The order of the subnets does not matter: every consumer takes all of them.
        self.subnet_ids = [call.value(f"Subnets.{index}.SubnetId") for index in range(len(blocks))]
        self.vpc_id = call.value("Subnets.0.VpcId")


def shared_subnets(scope: Construct, config: OrgConfig, vpc_name: str) -> SharedSubnets:
    """The workload subnets of ``vpc_name``: the network account owns every VPC of the plan."""
    vpc = config.network.vpcs[vpc_name]
    blocks, _ = vpc.subnet_blocks(len(config.network.availability_zones[vpc.region]))
    return SharedSubnets(
        scope,
        "SharedSubnets",
        owner_account=config.account(AccountRole.NETWORK).id,
        blocks=blocks,
        name=f"{vpc_name}-{vpc.region}",
    )
