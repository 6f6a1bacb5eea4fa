"""Organization analyses: the SCP evaluator, the guardrail request table and the CloudWatch filter matcher.

``scp_evaluator`` is the evaluator's public entry (the organization tree and the decision);
``scp_policy``, ``scp_conditions``, ``scp_patterns``, ``scp_variables`` and ``scp_request``
are its parts. ``guardrail_cases`` is the request table and ``report`` evaluates and renders
it against the synthesized template; ``cloudwatch_filter`` matches CloudTrail events
against the CIS metric filter patterns.

Plain Python over the config and the synthesized templates; may import ``org_config`` and the
shared machinery in ``analysis``, never ``aws_cdk``, ``cdk_constructs`` or ``stacks``.
"""
