"""Pattern 4: S3 objects indexed in DynamoDB, answered through an authenticated API.

Two stacks in the workload account, home region:

* :mod:`stacks.object_index.data`: everything that holds data or keys (bucket, table,
  queues, key, alarm topic), retained and never replaced by a code change;
* :mod:`stacks.object_index.api`: the indexer, query and reconcile functions, the REST API, the
  alarms and log groups, which can be replaced at any time;
* :mod:`stacks.object_index.placement`: which account and region both go to.

The stacks compose the constructs of :mod:`cdk_constructs.object_index`, where the table
layout and the other values the handlers in ``lambdas/object_index`` rely on are kept
(:mod:`cdk_constructs.object_index.contract`).
"""

from __future__ import annotations

from org_config.model import ObjectIndex, OrgConfig


def object_index_section(config: OrgConfig) -> ObjectIndex:
    """The config's ``object_index`` section, which a config may leave out (then
    :func:`~stacks.object_index.placement.build_object_index` builds no stack)."""
    if config.object_index is None:
        raise ValueError("the config has no object_index section, so the object index has no stacks")
    return config.object_index
