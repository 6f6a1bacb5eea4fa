"""``make synth``: validate the config, synthesize into a fresh folder, and replace
``cdk.out`` only when everything succeeded.

1. The config is loaded and validated first; an invalid one (or an unknown name in
   ``--patterns``) stops here with one line and ``cdk.out`` is not touched.
2. ``cdk synth`` writes into a staging folder beside ``cdk.out``; its synth-time gates
   (cdk-nag, Control Tower controls) fail it on any open finding.
3. The CloudFormation limits and the resource budget are checked on the staged templates.
4. Only then does the staging folder replace ``cdk.out``; after any failure the previous
   ``cdk.out`` is left exactly as it was.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from analysis.assembly import read_assembly
from analysis.assembly_cache import CACHE_ENV as ASSEMBLY_CACHE_ENV
from analysis.assembly_cache import RESTORED_NOTE
from analysis.gates import limits
from analysis.limits import summary_table
from org_config import ConfigError, load_config
from org_config.patterns import CONTEXT_KEY, PATTERNS, parse_patterns

ROOT = Path(__file__).resolve().parents[1]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
# Node.js keeps the compiled CLI here between runs (about 0.4 s of every CLI start).
NODE_COMPILE_CACHE = ROOT / ".cache" / "node-compile"


def cli_environment(*, fresh: bool = False) -> dict[str, str]:
    """The environment the CDK CLI runs the app in: this virtualenv first (its Python and
    Node.js), Node's compile cache, and nothing that would call AWS. ``fresh``: build even
    when the assembly cache holds this synth (``make check``, whose determinism check
    compares two real synths)."""
    return {
        **os.environ,
        **({ASSEMBLY_CACHE_ENV: "off"} if fresh else {}),
        "NODE_COMPILE_CACHE": os.environ.get("NODE_COMPILE_CACHE", str(NODE_COMPILE_CACHE)),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "AWS_EC2_METADATA_DISABLED": "true",
        "CDK_DISABLE_VERSION_CHECK": "true",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "true",
    }


def _synth_command(outdir: Path, config: Path | None, patterns: frozenset[str] | None = None) -> list[str]:
    command = [str(CDK), "synth", "--quiet", "--no-notices", "--output", str(outdir)]
    if config is not None:
        command += ["--context", f"config={config.resolve()}"]
    if patterns is not None:
        command += ["--context", f"{CONTEXT_KEY}={','.join(sorted(patterns))}"]
    return command


def cdk_synth(
    outdir: Path, config: Path | None, patterns: frozenset[str] | None = None, *, fresh: bool = False
) -> subprocess.CompletedProcess[str]:
    """``cdk synth`` of the organization at ``config`` (the example when ``None``) into
    ``outdir``: every stack, or only those ``patterns`` need; ``fresh``: never from the
    assembly cache."""
    command = _synth_command(outdir, config, patterns)
    env = cli_environment(fresh=fresh)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def start_cdk_synth(outdir: Path, config: Path | None, *, fresh: bool = False) -> subprocess.Popen[bytes]:
    """:func:`cdk_synth` in the background; ``wait()`` gives its exit code."""
    return subprocess.Popen(
        _synth_command(outdir, config),
        cwd=ROOT,
        env=cli_environment(fresh=fresh),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def selected_config(argument: str | None) -> Path | None:
    """The config file the app will use: the argument, else ORG_CONFIG, else the example."""
    chosen = argument or os.environ.get("ORG_CONFIG") or None
    return Path(chosen) if chosen else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--config", help="the organization's config file (default: ORG_CONFIG, else the example)")
    parser.add_argument("--out", default="cdk.out", help="the cloud assembly folder to replace")
    parser.add_argument("--patterns", help=f"build only these (comma-separated: {', '.join(PATTERNS)})")
    args = parser.parse_args(argv)
    config_path = selected_config(args.config)
    try:
        patterns = parse_patterns(args.patterns)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        config = load_config(config_path)
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2

    out = Path(args.out)
    staging = out.with_name(f"{out.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    result = cdk_synth(staging, config_path, patterns)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        sys.stderr.write(result.stderr)
        print(f"synth failed; {out} is unchanged", file=sys.stderr)
        return 1
    stacks = read_assembly(staging)
    over = limits(stacks)
    if over:
        shutil.rmtree(staging, ignore_errors=True)
        for finding in over:
            print(finding, file=sys.stderr)
        print(f"synth failed; {out} is unchanged", file=sys.stderr)
        return 1

    table = summary_table(stacks, {a.id: a.name for a in config.accounts})
    previous = out.with_name(f"{out.name}.previous")
    shutil.rmtree(previous, ignore_errors=True)
    if out.exists():
        out.rename(previous)
    staging.rename(out)
    shutil.rmtree(previous, ignore_errors=True)

    chosen = f" for {', '.join(sorted(patterns))} and what it depends on" if patterns else ""
    print(f"Synthesized {len(stacks)} stack(s){chosen} into {out}:")
    print(table)
    if RESTORED_NOTE in result.stderr:
        print(f"({RESTORED_NOTE}; ASSEMBLY_CACHE=off builds it again)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
