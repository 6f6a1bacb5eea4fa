"""Stacks: each composes constructs for one account role and region.

One sub-package per pattern (``organization``, ``network``, ``disaster_recovery``,
``object_index``, ``streaming``), each with a ``placement`` module that decides where its
stacks go; ``organization_app`` places every pattern in the organization's accounts and
regions.

May import: ``org_config``, ``analysis``, ``cdk_constructs``; a pattern's stack modules
never import another pattern's.
"""
