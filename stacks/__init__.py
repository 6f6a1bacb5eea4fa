"""Stacks: each composes constructs for one account role and region."""
