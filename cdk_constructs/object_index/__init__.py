"""Constructs of pattern 4, the S3 object index: the pieces its two stacks compose.

* :mod:`~cdk_constructs.object_index.contract`: what the constructs and the handlers in
  ``lambdas/object_index`` agree on (table layout, event path, timeouts, metric names);
* :mod:`~cdk_constructs.object_index.storage`: the stateful pieces (data key, event queues,
  data bucket, index table, alarm topic, pagination key);
* :mod:`~cdk_constructs.object_index.functions`: the indexer, query and reconcile functions
  with exactly the grants each uses;
* :mod:`~cdk_constructs.object_index.query_api`: the REST API, its resource policy and its
  access log group;
* :mod:`~cdk_constructs.object_index.alarms`: the pattern's alarms.

Most of them subclass the L2 construct they wrap and take the construct id the stacks have
always used, so a resource's path, and with it its logical id, does not depend on which
construct builds it.

May import: ``org_config``, ``analysis``, the shared constructs of ``cdk_constructs`` and the
CDK; never ``stacks``.
"""
