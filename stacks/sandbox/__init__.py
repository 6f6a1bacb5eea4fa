"""The sandbox profile's own stack: the budget alert every sandbox carries, and the flow-log
bucket the network pattern writes to when no log-archive account exists.

May import: ``org_config``, ``analysis``, ``cdk_constructs``.
"""
