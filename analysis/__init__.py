"""Analyses over the config and the synthesized templates.

Plain Python with no CDK import, so they run fast and can be reused from tests, docs and
the command line. The shared gate machinery sits here (``assembly``: the cloud-assembly
reader; ``gates``: every gate as a function; ``limits``, ``scanners``, ``control_tower``,
``stateful``); each pattern's analyses sit in a sub-package named after the pattern
(``organization``, ``network``, ``streaming``, ``disaster_recovery``).

May import: ``org_config`` and the standard library; never ``aws_cdk``, ``cdk_constructs``
or ``stacks``.
"""
