"""Constructs particular to the organization pattern's stacks (``stacks/organization/``).

They may import ``org_config``, ``analysis`` and the shared constructs of ``cdk_constructs``,
never a stack module.
"""
