"""The streaming pattern's parts, each a named piece of the pipeline the two streaming stacks compose.

The data stack (:mod:`stacks.streaming.data`) composes :mod:`.stores` (the data key, the
stream, the data lake with its Glue table, the events table, the on-failure queue, the
alarm topic) and the Firehose delivery (:mod:`.firehose_delivery`). The pipeline stack
(:mod:`stacks.streaming.pipeline`) composes the ingestion API (:mod:`.ingestion_api`), the
Lambda consumer (:mod:`.consumer`), the Flink application (:mod:`.flink_application`) and
the alarms (:mod:`.alarms`). :mod:`.names` holds what both stacks must agree on (prefixes,
the table's key, the data lake's name); :mod:`.shared` the small pieces several parts use.

Each part takes keyword-only props, states its secure defaults in its docstring and keeps
its L1/L2 resources as public attributes. A part adds its resources to the scope it is
given, under the construct ids they had before these parts existed, instead of nesting
them in a construct of its own: a new level in the construct tree would change every
logical id, and CloudFormation replaces a resource whose logical id changes (the stream,
the buckets and the table among them).

May import: ``aws_cdk``, ``constructs``, :mod:`org_config`, :mod:`analysis` and the shared
constructs of :mod:`cdk_constructs`; never a stack module.
"""
