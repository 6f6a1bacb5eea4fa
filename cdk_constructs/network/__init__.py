"""Constructs and policy documents of the network pattern only (the hub-and-spoke VPCs
and what they serve). They may import ``org_config``, ``analysis`` and the shared
constructs of ``cdk_constructs``, never a stack module.
"""
