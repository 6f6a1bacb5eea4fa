"""Where the object index's stacks go: the configured workload account, home region."""

from __future__ import annotations

from aws_cdk import Environment, Stack
from constructs import Construct

from org_config.model import OrgConfig
from stacks.object_index.api import ObjectIndexApiStack
from stacks.object_index.data import ObjectIndexDataStack


def build_object_index(scope: Construct, config: OrgConfig) -> list[Stack]:
    """The data stack, then the API stack that depends on it; none without an ``object_index`` section."""
    if config.object_index is None:
        return []
    home = config.regions.home
    workload = Environment(account=config.account_named(config.object_index.account).id, region=home)
    data = ObjectIndexDataStack(
        scope,
        f"object-index-data-{home}",
        config=config,
        env=workload,
        description=(
            "S3 object index: data bucket, index table, event queues, key, alarm topic, pagination secret "
            "(workload account)"
        ),
        termination_protection=True,  # holds the customer objects and their index
    )
    api = ObjectIndexApiStack(
        scope,
        f"object-index-api-{home}",
        config=config,
        data=data,
        env=workload,
        description="S3 object index: indexer, query API, reconcile function, alarms (workload account)",
    )
    api.add_stack_dependency(data, "the functions use the table, queues, key and pagination secret")
    return [data, api]
