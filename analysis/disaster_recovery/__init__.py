"""Disaster-recovery analyses: each tier's RPO, RTO and cost derived from its templates, the prices and the report.

Plain Python over the config and the synthesized templates; may import ``org_config`` and the
shared machinery in ``analysis``, never ``aws_cdk``, ``cdk_constructs`` or ``stacks``.
"""
