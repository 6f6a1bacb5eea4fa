"""Reusable constructs with secure defaults.

Named ``cdk_constructs`` because a top-level package called ``constructs`` would shadow
the ``constructs`` library that aws-cdk-lib imports.
"""
