#!/usr/bin/env python3
"""CDK entry point: load and validate the config, build the stacks, synthesize.

The config file comes from the context value ``config`` (``cdk synth -c config=org.yaml``)
or the ORG_CONFIG environment variable; without either, the embedded example
organization is used. An invalid config stops here with one line naming the file, the
field and the rule, before anything is written. The context value ``patterns``
(``cdk synth -c patterns=network,streaming``) builds only those patterns' stacks and the
stacks they depend on; without it, every stack. After the synth, the Control Tower
proactive controls run on every written template and fail the synth on any finding.

When nothing the synth reads has changed since an earlier synth (the code, the config,
the context, the installed libraries: ``analysis.assembly_cache``), the assembly that
synth wrote is copied instead of built again, before aws-cdk-lib is even imported; the
Control Tower check still runs on it. ``ASSEMBLY_CACHE=off`` always builds.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from analysis import control_tower
from analysis.assembly_cache import RESTORED_NOTE, AssemblyCache, synth_key

# A file to write the seconds of each phase to, for `make bench` (tools/bench.py).
TIMINGS_ENV = "SYNTH_TIMINGS"


def synthesize(outdir: str | None, phases: dict[str, float]) -> Path:
    """Build the organization and synthesize it into ``outdir``; exits on a bad config."""
    started = time.perf_counter()
    import aws_cdk as cdk  # only a synth that is not restored pays for the import

    from org_config import ConfigError, load_config
    from org_config.loader import config_source
    from org_config.patterns import CONTEXT_KEY, parse_patterns
    from stacks.organization_app import build_organization

    imported = time.perf_counter()
    app = cdk.App(outdir=outdir)
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
    phases.update(imports=imported - started, build=built - imported, synth=time.perf_counter() - built)
    return Path(assembly.directory)


def main() -> None:
    phases: dict[str, float] = {}
    started = time.perf_counter()
    outdir = os.environ.get("CDK_OUTDIR")  # set by the CLI; without it the CDK picks a folder
    cache = AssemblyCache.from_environment() if outdir else None
    if cache is None or outdir is None:
        _check_control_tower(synthesize(outdir, phases), phases)
    else:
        key = synth_key()
        if cache.restore(key, Path(outdir)):
            phases["cache"] = time.perf_counter() - started
            print(RESTORED_NOTE, file=sys.stderr)
            _check_control_tower(Path(outdir), phases)
        else:
            phases["cache"] = time.perf_counter() - started
            # A fresh folder, so that the entry holds only what this synth wrote.
            cache.directory.mkdir(parents=True, exist_ok=True)
            fresh = Path(tempfile.mkdtemp(prefix=".synth-", dir=cache.directory))
            try:
                _check_control_tower(synthesize(str(fresh), phases), phases)
                stored = time.perf_counter()
                if synth_key() == key:  # nothing was edited while the synth ran
                    cache.store(key, fresh)
                phases["cache"] += time.perf_counter() - stored
            finally:  # what the synth wrote goes to the CLI's folder, whether it passed or not
                _move_into(fresh, Path(outdir))
    if os.environ.get(TIMINGS_ENV):
        report = {**phases, "peak_mib": _peak_mib()}
        Path(os.environ[TIMINGS_ENV]).write_text(json.dumps(report), encoding="utf-8")


def _check_control_tower(directory: Path, phases: dict[str, float]) -> None:
    """The synth-time gate that reads the written templates: exits on any open finding."""
    started = time.perf_counter()
    failed = control_tower.assembly_failures(directory)
    if failed:
        sys.exit("\n".join([control_tower.FAILED_HEADER, *failed]))
    phases["control_tower"] = time.perf_counter() - started


def _peak_mib() -> float:
    """The largest resident set so far of this process or any process below it: the jsii
    runtime is two Node processes under a launcher, never waited for once this process
    leaves with ``os._exit``, so no rusage sees them. Linux only, 0 elsewhere."""
    pending, peaks = ["self"], [0]
    while pending:
        pid = pending.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
            for children in Path(f"/proc/{pid}/task").glob("*/children"):
                pending += children.read_text(encoding="utf-8").split()
        except OSError:  # already gone
            continue
        peaks += [int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")]
    return max(peaks) / 1024


def _move_into(source: Path, outdir: Path) -> None:
    """Move every file of ``source`` into ``outdir``, as a synth into it would have written them."""
    for path in sorted(source.rglob("*")):
        if path.is_file():
            target = outdir / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
    shutil.rmtree(source, ignore_errors=True)


if __name__ == "__main__":
    main()
    # Everything is written: skip the jsii runtime's orderly shutdown and the interpreter's
    # teardown of aws-cdk-lib's modules (about 0.6 s); the runtime exits when its pipe closes.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
