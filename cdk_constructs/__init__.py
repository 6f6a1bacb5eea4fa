"""Reusable constructs with secure defaults.

Named ``cdk_constructs`` because a top-level package called ``constructs`` would shadow
the ``constructs`` library that aws-cdk-lib imports. Constructs every pattern uses sit
directly here (hardened bucket, key and function, the Lambda runtime, API Gateway
logging, deploy-time lookups, the gate helpers); a pattern's own constructs sit in a
sub-package named after the pattern.

May import: ``org_config``, ``analysis`` and the CDK; never ``stacks``.
"""
