"""Constructs of pattern 3, the disaster-recovery workload: what the home, standby and
recovery stacks compose.

May import ``org_config``, ``analysis`` and the shared constructs of ``cdk_constructs``;
never a stack module.

Some pieces here are *parts*: plain classes that build their resources into the scope
they are given rather than into a construct node of their own. A new node would put its
name into the path, and so into the logical id, of every resource beneath it, and
CloudFormation replaces a resource whose logical id changes (a new, empty database). The
parts let the stacks read like their diagrams while every resource keeps the path it was
first deployed with.
"""
