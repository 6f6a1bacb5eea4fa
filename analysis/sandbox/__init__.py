"""Sandbox analyses: what a sandbox deployment costs at rest, and what its teardown removes.

Plain Python over the config and the synthesized sandbox assembly; may import
``org_config``, the shared machinery in ``analysis`` and the other patterns' cost models;
never ``aws_cdk``, ``cdk_constructs`` or ``stacks``.
"""
