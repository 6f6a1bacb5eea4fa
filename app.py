#!/usr/bin/env python3
"""CDK entry point: load and validate the config, build the stacks, synthesize.

The config file comes from the context value ``config`` (``cdk synth -c config=org.yaml``)
or the ORG_CONFIG environment variable; without either, the embedded example
organization is used. An invalid config stops here with one line naming the file, the
field and the rule, before anything is written. The context value ``patterns``
(``cdk synth -c patterns=network,streaming``) builds only those patterns' stacks and the
stacks they depend on; without it, every stack. After the synth, the Control Tower
proactive controls run on every written template and fail the synth on any finding.
"""

import json
import os
import sys
import time
from pathlib import Path

import aws_cdk as cdk

from cdk_constructs.gates import check_control_tower
from org_config import ConfigError, load_config
from org_config.loader import config_source
from org_config.patterns import CONTEXT_KEY, parse_patterns
from stacks.organization_app import build_organization

# A file to write the seconds of each phase to, for `make bench` (tools/bench.py).
TIMINGS_ENV = "SYNTH_TIMINGS"


def main() -> None:
    started = time.perf_counter()
    app = cdk.App()
    config_path = app.node.try_get_context("config") or os.environ.get("ORG_CONFIG") or None
    try:
        patterns = parse_patterns(app.node.try_get_context(CONTEXT_KEY))
    except ValueError as error:
        sys.exit(f"error: {error}")
    try:
        build_organization(app, load_config(config_path), patterns=patterns)
    except ConfigError as error:
        message = str(error)
        source = config_source(config_path)
        # Errors raised while building name the field only; the loader's already name the file.
        sys.exit(f"config error: {message if message.startswith(source + ': ') else f'{source}: {message}'}")
    built = time.perf_counter()
    assembly = app.synth()
    synthesized = time.perf_counter()
    try:
        check_control_tower(assembly.directory)  # the synth-time gate that reads the written templates
    except RuntimeError as failed:
        sys.exit(str(failed))
    if os.environ.get(TIMINGS_ENV):
        phases = {
            "build": built - started,
            "synth": synthesized - built,
            "control_tower": time.perf_counter() - synthesized,
        }
        Path(os.environ[TIMINGS_ENV]).write_text(json.dumps(phases), encoding="utf-8")


if __name__ == "__main__":
    main()
