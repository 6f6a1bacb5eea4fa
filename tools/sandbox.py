"""``make deploy-sandbox`` and ``make destroy-sandbox``: the workload patterns in one account.

    python -m tools.sandbox deploy  --account 123456789012 --region eu-west-1 [--dr-region eu-central-1]
                                    [--patterns object-index,streaming,network,disaster-recovery]
                                    [--budget 50] [--email you@example.com] [--config base.yaml]
                                    [--dry-run] [--yes]
    python -m tools.sandbox destroy --account 123456789012 --region eu-west-1 [...] [--dry-run] [--yes]

Both commands write a sandbox profile of the config (``org_config/sandbox.py``) from the
base config (the example, or ``--config``) and the command line, validate it like any
config, and synthesize it into ``cdk.out.sandbox/<account>-<region>/``. ``deploy`` then
prints the stacks in deployment order, the bootstrap each region needs, the cost at rest
per pattern and the exact CDK commands, asks for confirmation (``--yes`` skips it), and
runs them with the caller's own credentials. ``destroy`` prints what the teardown removes
and what is left, empties the buckets and backup vaults, deletes the stacks in reverse
order and lists what is left. ``--dry-run`` stops after printing: offline, no credentials.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from analysis.assembly import StackTemplate, read_assembly
from analysis.deployment.plan import DeploymentPlan, build_plan
from analysis.sandbox.cost import pattern_of, render_cost, sandbox_cost
from analysis.sandbox.teardown import kept, left_after_teardown, render_plan, teardown_plan
from org_config import ConfigError, OrgConfig, parse_config
from org_config.common import KNOWN_REGIONS
from org_config.loader import example_config_text, read_config_text
from org_config.sandbox import DEFAULT_BUDGET_USD, ORGANIZATION_ONLY, PATTERN_NEEDS, SANDBOX_PATTERNS
from tools.synth import CDK, ROOT, cli_environment

SANDBOX_ROOT = ROOT / "cdk.out.sandbox"


class SandboxError(Exception):
    """A problem with the command line or the base config, said in one line."""


def _replace_regions(value: Any, mapping: dict[str, str]) -> Any:
    """``value`` with every region name (and availability zone, e.g. eu-west-1a) renamed."""
    if isinstance(value, dict):
        return {_replace_regions(k, mapping): _replace_regions(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_regions(item, mapping) for item in value]
    if isinstance(value, str):
        for old, new in mapping.items():
            if re.fullmatch(rf"{re.escape(old)}[a-z]?", value):
                return new + value[len(old) :]
    return value


def sandbox_config_text(
    base_text: str,
    *,
    account: str,
    region: str,
    dr_region: str,
    patterns: Sequence[str],
    budget_usd: int,
    email: str | None,
) -> str:
    """The sandbox profile of ``base_text``: every account is ``account``, the base's home and
    DR regions become ``region`` and ``dr_region``, and only ``patterns`` are built."""
    data = yaml.safe_load(base_text)
    if not isinstance(data, dict) or "regions" not in data or "accounts" not in data:
        raise SandboxError("the base config has no 'regions' or 'accounts' section")
    base_home, base_dr = data["regions"]["home"], data["regions"]["dr"]
    data = _replace_regions(data, {base_home: region, base_dr: dr_region})
    allowed = [r for r in data["regions"].get("allowed", []) if r not in (region, dr_region)]
    data["regions"]["allowed"] = [region, dr_region, *allowed]
    for entry in data["accounts"]:
        entry["id"] = account
    sandbox: dict[str, Any] = {"account_id": account, "patterns": list(patterns), "budget_usd": budget_usd}
    if email:
        sandbox["budget_email"] = email
    data["sandbox"] = sandbox
    header = (
        "# The sandbox profile of an organization config, written by `make deploy-sandbox`:\n"
        f"# every account is {account}; only the patterns under `sandbox.patterns` are built.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False)


def _patterns(argument: str | None) -> list[str]:
    names = [n.strip() for n in (argument or ",".join(SANDBOX_PATTERNS)).split(",") if n.strip()]
    chosen = []
    for name in SANDBOX_PATTERNS:  # deployment order, whatever the order asked
        if name in names:
            chosen.append(name)
    for name in names:
        for needed in PATTERN_NEEDS.get(name, ()):
            if needed not in chosen:
                raise SandboxError(f"PATTERNS: '{name}' needs '{needed}' too (add it to PATTERNS)")
    unknown = [n for n in names if n not in SANDBOX_PATTERNS]
    if unknown:
        problems = [
            f"{n}: not deployable to one account ({ORGANIZATION_ONLY[n]})"
            if n in ORGANIZATION_ONLY
            else f"{n}: unknown pattern (one of {', '.join(SANDBOX_PATTERNS)})"
            for n in unknown
        ]
        raise SandboxError("PATTERNS: " + "; ".join(problems))
    return chosen


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Deploy or destroy the workload patterns in one sandbox account.")
    parser.add_argument("command", choices=["deploy", "destroy"])
    parser.add_argument("--account", required=True, help="the sandbox account id (12 digits)")
    parser.add_argument("--region", required=True, help="the region of every pattern")
    parser.add_argument("--dr-region", default=None, help="the DR region (disaster recovery, network peering)")
    parser.add_argument("--patterns", default=None, help=f"comma-separated (default: {','.join(SANDBOX_PATTERNS)})")
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET_USD, help="monthly budget alert in USD")
    parser.add_argument("--email", default=None, help="address the budget alert also mails")
    parser.add_argument("--config", default=None, help="the base config (default: the example organization)")
    parser.add_argument("--dry-run", action="store_true", help="print what would happen, offline, and stop")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser.parse_args(argv)


def _profile(args: argparse.Namespace) -> tuple[Path, OrgConfig]:
    """Write and validate the sandbox profile; return its file and the validated config."""
    if not re.fullmatch(r"\d{12}", args.account):
        raise SandboxError(f"ACCOUNT: must be a 12-digit account id (got '{args.account}')")
    for name, region in (("REGION", args.region), ("DR_REGION", args.dr_region)):
        if region is not None and region not in KNOWN_REGIONS:
            raise SandboxError(f"{name}: unknown AWS region '{region}'")
    base_text = read_config_text(Path(args.config)) if args.config else example_config_text()
    base_dr = yaml.safe_load(base_text).get("regions", {}).get("dr")
    dr_region = args.dr_region or (base_dr if base_dr != args.region else None)
    if dr_region is None or dr_region == args.region:
        raise SandboxError("DR_REGION: must be given and differ from REGION")
    text = sandbox_config_text(
        base_text,
        account=args.account,
        region=args.region,
        dr_region=dr_region,
        patterns=_patterns(args.patterns),
        budget_usd=args.budget,
        email=args.email,
    )
    folder = SANDBOX_ROOT / f"{args.account}-{args.region}"
    folder.mkdir(parents=True, exist_ok=True)
    config_file = folder / "sandbox.yaml"
    config = parse_config(text, source=str(config_file))  # validated before anything is synthesized
    config_file.write_text(text, encoding="utf-8")
    return config_file, config


# Assemblies synthesized by this process, by profile text: a deploy and a destroy of the same
# profile in one process (the tests) synthesize once. Same config in, same templates out.
_SYNTHESIZED: dict[tuple[str, Path], list[StackTemplate]] = {}


def _synthesize(config_file: Path, config: OrgConfig, outdir: Path) -> list[StackTemplate]:
    """The sandbox assembly, synthesized in-process with every synth-time gate on."""
    key = (config_file.read_text(encoding="utf-8"), outdir)
    if key in _SYNTHESIZED and (outdir / "manifest.json").exists():
        return _SYNTHESIZED[key]
    import aws_cdk as cdk  # the CDK loads only when a synth is needed

    from cdk_constructs.gates import check_control_tower
    from stacks.organization_app import build_organization

    # cdk.json's context plus what the CDK CLI adds when it runs app.py, so the assembly is
    # the one `cdk synth` would write (path metadata included: cdk deploy and cfn-lint read it).
    context = {
        **json.loads((ROOT / "cdk.json").read_text())["context"],
        "aws:cdk:enable-path-metadata": True,
        "aws:cdk:enable-asset-metadata": True,
        "aws:cdk:version-reporting": False,
    }
    app = cdk.App(outdir=str(outdir), context=context)
    build_organization(app, config)
    app.synth()
    check_control_tower(outdir)
    _SYNTHESIZED[key] = read_assembly(outdir)
    return _SYNTHESIZED[key]


def sandbox_plan(config: OrgConfig, stacks: Sequence[StackTemplate]) -> DeploymentPlan:
    """The deployment plan of the sandbox assembly: its waves, and one bootstrap per region,
    deployed with the sandbox account's own credentials (so no bootstrap needs a trust)."""
    account = config.sandbox.account_id if config.sandbox else ""
    return build_plan(stacks, deployer_account=account)


def in_plan_order(plan: DeploymentPlan, stacks: Sequence[StackTemplate]) -> list[StackTemplate]:
    by_name = {stack.name: stack for stack in stacks}
    return [by_name[planned.name] for planned in plan.stacks]


def bootstrap_commands(plan: DeploymentPlan) -> list[list[str]]:
    """The plan's ``cdk bootstrap`` commands, run through this project's CDK CLI."""
    return [[str(CDK), *shlex.split(b.command())[1:]] for b in plan.bootstraps]


def deploy_command(outdir: Path, stacks: Sequence[StackTemplate]) -> list[str]:
    return [
        str(CDK),
        "deploy",
        "--app",
        str(outdir),
        "--require-approval",
        "never",
        *[s.name for s in stacks],
    ]


def destroy_command(outdir: Path, stacks: Sequence[StackTemplate]) -> list[str]:
    return [str(CDK), "destroy", "--app", str(outdir), "--force", *[s.name for s in reversed(stacks)]]


def _show(command: Sequence[str]) -> str:
    return " ".join(shlex.quote(part.replace(str(ROOT) + "/", "")) for part in command)


def _confirm(question: str, assume_yes: bool) -> bool:
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        print("no terminal to confirm on: add YES=1 (--yes) to go ahead", file=sys.stderr)
        return False
    return input(f"{question} Type 'yes' to go on: ").strip() == "yes"


def _print_plan(config: OrgConfig, plan: DeploymentPlan, stacks: Sequence[StackTemplate]) -> None:
    print("Not deployable to one account (they need an organization):")
    for name, reason in ORGANIZATION_ONLY.items():
        print(f"  {name}: {reason}")
    print(f"\nStacks, in deployment order (account {config.sandbox.account_id if config.sandbox else ''}):")
    by_name = {stack.name: stack for stack in stacks}
    for planned in plan.stacks:
        stack = by_name[planned.name]
        print(f"  {stack.name:<36} {stack.region:<16} wave {planned.wave:<3} {pattern_of(stack)}")


def flink_connector_problem() -> str | None:
    """Why the streaming pipeline's Flink application cannot be deployed yet, or ``None``:
    the check every deploy path runs (``flink/connector_jar.py``), in its own process."""
    check = [sys.executable, "-m", "flink.connector_jar", "check"]
    result = subprocess.run(check, cwd=ROOT, capture_output=True, text=True, check=False)
    return None if result.returncode == 0 else (result.stdout + result.stderr).strip() or "the check failed"


def deploy(args: argparse.Namespace) -> int:
    config_file, config = _profile(args)
    connector = flink_connector_problem() if config.builds("streaming") else None
    if connector and not args.dry_run:
        # The JAR goes into the application's code asset at synth: it must be there first.
        raise SandboxError(f"streaming: {connector}; run `make flink-connector` first")
    outdir = config_file.parent / "assembly"
    synthesized = _synthesize(config_file, config, outdir)
    plan = sandbox_plan(config, synthesized)
    stacks = in_plan_order(plan, synthesized)
    _print_plan(config, plan, stacks)
    print("\nBootstrap (once per region; safe to repeat):")
    for command in bootstrap_commands(plan):
        print(f"  {_show(command)}")
    print("\nEstimated cost at rest, before any request (USD):")
    print(render_cost(sandbox_cost(config, stacks)))
    print("\nDeploy:")
    print(f"  {_show(deploy_command(outdir, stacks))}")
    if connector:
        print(f"\nBefore a real deploy: streaming: {connector}; run `make flink-connector` first.")
    if args.dry_run:
        print("\nDry run: nothing was created.")
        return 0
    if not _confirm("Create these stacks in your account?", args.yes):
        print("Nothing was created.")
        return 1
    for command in [*bootstrap_commands(plan), deploy_command(outdir, stacks)]:
        subprocess.run(command, cwd=ROOT, env=cli_environment(), check=True)
    return 0


def destroy(args: argparse.Namespace) -> int:
    config_file, config = _profile(args)
    outdir = config_file.parent / "assembly"
    synthesized = _synthesize(config_file, config, outdir)
    stacks = in_plan_order(sandbox_plan(config, synthesized), synthesized)
    steps = teardown_plan(stacks)
    if kept(steps):
        raise SandboxError(
            "the sandbox assembly keeps resources on delete: " + "; ".join(left_after_teardown(kept(steps)))
        )
    print("Removed, last-deployed stack first:")
    print(render_plan(steps))
    print("\nFirst, buckets and backup vaults are emptied (every object version, delete markers and recovery point),")
    print("then:")
    print(f"  {_show(destroy_command(outdir, stacks))}")
    left = left_after_teardown(steps) + [
        f"CDK bootstrap stack CDKToolkit in {r}: kept, other CDK apps may use it; delete it with "
        f"`aws cloudformation delete-stack --stack-name CDKToolkit --region {r}` and its bucket"
        for r in sorted({s.region for s in stacks})
    ]
    print("\nLeft after the teardown:")
    for line in left:
        print(f"  {line}")
    if args.dry_run:
        print("\nDry run: nothing was removed.")
        return 0
    if not _confirm("Delete every sandbox stack and its data?", args.yes):
        print("Nothing was removed.")
        return 1
    from tools.sandbox_teardown import empty_stateful_resources  # boto3 loads only for a real teardown

    empty_stateful_resources(config, stacks, steps)
    subprocess.run(destroy_command(outdir, stacks), cwd=ROOT, env=cli_environment(), check=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        return deploy(args) if args.command == "deploy" else destroy(args)
    except (SandboxError, ConfigError) as error:
        print(f"sandbox error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
