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
