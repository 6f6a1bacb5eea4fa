"""Pattern 1: the multi-account organization and its guardrails."""
