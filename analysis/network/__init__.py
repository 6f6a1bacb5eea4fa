"""Network analyses: the routing graph read from the templates, reachability, the matrix report and cost at rest.

Plain Python over the config and the synthesized templates; may import ``org_config`` and the
shared machinery in ``analysis``, never ``aws_cdk``, ``cdk_constructs`` or ``stacks``.
"""
