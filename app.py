#!/usr/bin/env python3
"""CDK entry point: load and validate the config, build the stacks, synthesize.

The config file comes from the context value ``config`` (``cdk synth -c config=org.yaml``)
or the ORG_CONFIG environment variable; without either, the embedded example
organization is used. An invalid config stops here with one line naming the file, the
field and the rule, before anything is written. After the synth, the Control Tower
proactive controls run on every written template and fail the synth on any finding.
"""

import os
import sys

import aws_cdk as cdk

from cdk_constructs.gates import check_control_tower
from org_config import ConfigError, load_config
from org_config.loader import config_source
from stacks.organization_app import build_organization


def main() -> None:
    app = cdk.App()
    config_path = app.node.try_get_context("config") or os.environ.get("ORG_CONFIG") or None
    try:
        build_organization(app, load_config(config_path))
    except ConfigError as error:
        message = str(error)
        source = config_source(config_path)
        # Errors raised while building name the field only; the loader's already name the file.
        sys.exit(f"config error: {message if message.startswith(source + ': ') else f'{source}: {message}'}")
    assembly = app.synth()
    try:
        check_control_tower(assembly.directory)  # the synth-time gate that reads the written templates
    except RuntimeError as failed:
        sys.exit(str(failed))


if __name__ == "__main__":
    main()
