"""Pattern 5: Kinesis streaming pipeline, sized from the stated load.

Two stacks in the configured workload account, home region:

* :mod:`stacks.streaming.data`: everything that holds data or keys (the stream, the
  data-lake bucket and its Glue table, the events table, the on-failure queue, the key,
  the alarm topic), retained and never replaced by a code change;
* :mod:`stacks.streaming.pipeline`: the ingestion API, the enhanced fan-out consumers, the
  Lambda consumer, Firehose, the Flink application and the alarms;
* :mod:`stacks.streaming.placement`: which account and region both go to.

The parts both compose are in :mod:`cdk_constructs.streaming`; the alarm thresholds in
:mod:`analysis.streaming.alarms`. May import :mod:`org_config`, :mod:`analysis` and
:mod:`cdk_constructs`; no other pattern's stacks.
"""
