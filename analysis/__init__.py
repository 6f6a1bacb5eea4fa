"""Analyses over the config and the synthesized templates.

Plain Python with no CDK import, so they run fast and can be reused from tests, docs and
the command line.
"""
