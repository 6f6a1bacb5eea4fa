"""``make plan CONFIG=org.yaml``: the deployment plan of your organization, wave by wave;
``make bootstrap-commands CONFIG=org.yaml``: the ``cdk bootstrap`` command of every
account and region, in the order to run them.

Synthesizes the organization in the config file (or reads an assembly already
synthesized from it, ``--assembly``), builds the plan from the manifest
(:mod:`analysis.deployment.plan`) and prints it. The deploying account, which every other
account trusts, is the management account. Exits 2 on an invalid config, 1 when the
synth fails or the stack order has a cycle.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from analysis.assembly import read_assembly
from analysis.deployment.plan import CycleError, DeploymentPlan, build_plan
from org_config import ConfigError, OrgConfig, load_config
from org_config.model import AccountRole
from tools.synth import cdk_synth, selected_config


def plan_for(config: OrgConfig, assembly: Path) -> DeploymentPlan:
    """The plan of the assembly at ``assembly``, synthesized from ``config``."""
    names = {account.id: account.name for account in config.accounts}
    return build_plan(
        read_assembly(assembly),
        deployer_account=config.account(AccountRole.MANAGEMENT).id,
        account_names=names,
        pipeline_account=config.account_named(config.delivery.account).id if config.delivery else None,
    )


def render(plan: DeploymentPlan, *, bootstrap_only: bool) -> str:
    commands = "\n".join(plan.bootstrap_commands())
    if bootstrap_only:
        return commands
    return f"{plan.render_text()}\n\nbootstrap first (make bootstrap-commands):\n{commands}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--config", help="the organization's config file (default: ORG_CONFIG, else the example)")
    parser.add_argument("--assembly", help="an assembly already synthesized from that config (skips the synth)")
    parser.add_argument("--bootstrap-commands", action="store_true", help="print only the bootstrap commands")
    args = parser.parse_args(argv)
    config_path = selected_config(args.config)
    try:
        config = load_config(config_path)
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    workdir = None if args.assembly else Path(tempfile.mkdtemp(prefix="plan-"))
    try:
        if workdir is not None:
            result = cdk_synth(workdir, config_path)
            if result.returncode != 0:
                print((result.stderr.strip().splitlines() or ["cdk synth failed"])[-1], file=sys.stderr)
                return 1
        plan = plan_for(config, Path(args.assembly) if args.assembly else workdir)  # type: ignore[arg-type]
    except CycleError as error:
        print(f"plan: {error}", file=sys.stderr)
        return 1
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(render(plan, bootstrap_only=args.bootstrap_commands))
    return 0


if __name__ == "__main__":
    sys.exit(main())
