"""Organization analyses: the SCP evaluator, the guardrail request table and the CloudWatch filter matcher.

Plain Python over the config and the synthesized templates; may import ``org_config`` and the
shared machinery in ``analysis``, never ``aws_cdk``, ``cdk_constructs`` or ``stacks``.
"""
