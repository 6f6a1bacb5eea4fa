"""The delivery pipeline: the organization deployed from its repository, wave by wave.

May import: ``org_config``, ``analysis``, ``cdk_constructs``; it reads the other stacks
only as CDK ``Stack`` objects (their names, accounts, regions and dependencies).
"""
