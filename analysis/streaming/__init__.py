"""Streaming analyses: the alarm thresholds and the generated sizing and cost tables.

The shard sizing and the event schema sit in the config layer (``org_config.streaming_sizing``,
``org_config.streaming_schema``), because the config derives and validates the stream from them.
May import ``org_config`` and the shared machinery in ``analysis``, never ``aws_cdk``,
``cdk_constructs`` or ``stacks``.
"""
