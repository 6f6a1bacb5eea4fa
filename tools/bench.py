"""Benchmark: where a synth's time goes, beside the whole-process medians.

Run with ``make bench`` (``python tools/bench.py --runs 5`` for more runs). Every case is
a fresh ``cdk synth`` process tree, as ``make synth`` starts it:

- cold: empty caches (Control Tower results, assemblies, Node's compiled code), so
  everything is built and every template judged;
- nothing changed: the same organization again, the assembly from its cache;
- one pattern changed: the streaming pattern's config edited (each run differently), so
  the organization is built again, its changed templates judged, the others' results
  taken from the cache;
- one pattern selected: ``-c patterns=network`` with nothing changed, and with the
  network's config edited (a firewall rule's description, each run differently);
- the test suite (``pytest``, as ``make test`` runs it), with an empty cache.

Beside each case's median wall time and peak memory (the largest resident set of any
process in the tree: the CLI, the Python app or the jsii Node runtime) it prints the
median of each phase as ``app.py`` writes them to $SYNTH_TIMINGS: the assembly cache
(computing its key, and restoring or storing an entry), importing aws-cdk-lib and the
project, building the constructs, ``app.synth()`` with cdk-nag, the Control Tower check,
and what remains, the CLI's own overhead with Python's start; then the number of
Python→Node round-trips per stack (``tools/bench_jsii.py``). The bench uses cache
folders of its own, never the project's. Not a test: timings vary by machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CDK = ROOT / "node_modules" / ".bin" / "cdk"
EXAMPLE = ROOT / "org_config" / "example_organization.yaml"
PHASES = ("cache", "imports", "build", "synth", "control_tower", "cli")
# The phases as the table heads them: app.synth() includes cdk-nag; "cli" is the rest.
HEADINGS = ("cache", "imports", "build", "synth+nag", "ctrl-tower", "cli")

_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)
"""


@dataclass
class Run:
    seconds: float
    peak_mib: float
    phases: dict[str, float] = field(default_factory=dict)


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "CDK_DISABLE_VERSION_CHECK": "true",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "AWS_EC2_METADATA_DISABLED": "true",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "true",
        **extra,
    }
    env.pop("ORG_CONFIG", None)
    return env


def measure(command: list[str], env: dict[str, str]) -> Run:
    """Wall seconds, peak MiB and the app's phases of one run of ``command``."""
    with tempfile.NamedTemporaryFile(prefix="bench-phases-", suffix=".json", delete=False) as handle:
        timings = Path(handle.name)
    try:
        out = subprocess.run(
            [sys.executable, "-c", _MEASURE, *command],
            cwd=ROOT,
            # Only a synth reports its phases (the tests start synths of their own).
            env={**env, "SYNTH_TIMINGS": str(timings)} if command[0] == str(CDK) else env,
            capture_output=True,
            text=True,
            check=True,
        )
        seconds, max_rss_kib, code = out.stdout.split()
        if code != "0":
            raise SystemExit(f"benchmark command failed ({code}): {' '.join(command)}")
        text = timings.read_text(encoding="utf-8")
        phases: dict[str, float] = json.loads(text) if text.strip() else {}
    finally:
        timings.unlink(missing_ok=True)
    # The app reports its jsii runtime's peak itself: that process is never waited for.
    return Run(float(seconds), max(int(max_rss_kib) / 1024, phases.pop("peak_mib", 0.0)), phases)


def _synth(outdir: Path, *context: str) -> list[str]:
    command = [str(CDK), "synth", "--quiet", "--no-notices", "--output", str(outdir)]
    for value in context:
        command += ["--context", value]
    return command


def _edited(folder: Path, name: str, pattern: str, replacement: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    changed, count = re.subn(pattern, replacement, text)
    if count != 1:
        raise SystemExit(f"the example no longer matches {pattern!r}: update the bench")
    path = folder / f"{name}.yaml"
    path.write_text(changed, encoding="utf-8")
    return path


def _changed_streaming_config(folder: Path, run: int) -> Path:
    """The example with the streaming consumer's batch size changed: only the streaming
    pipeline's template changes, differently in every run."""
    return _edited(folder, f"streaming-{run}", r"(?m)^(  batch_size: )500\b", rf"\g<1>{500 - 10 * (run + 1)}")


def _changed_network_config(folder: Path, run: int) -> Path:
    """The example with a firewall rule's description changed: the network hub's template
    changes, differently in every run."""
    rule = r"description: DNS to on-premises resolvers\}"
    return _edited(folder, f"network-{run}", rule, f"description: DNS {run}}}")


def cases(work: Path, *, tests: bool) -> dict[str, Callable[[int], tuple[list[str], dict[str, str]]]]:
    """Case name -> (run number -> command and environment)."""
    warm = {"CONTROL_TOWER_CACHE": str(work / "ct-warm"), "ASSEMBLY_CACHE": str(work / "assembly-warm")}
    out = work / "cdk.out"

    def cold(run: int) -> tuple[list[str], dict[str, str]]:
        if run == 0:  # the last cold run leaves the warm caches for the cases after it
            for folder in warm.values():
                shutil.rmtree(folder, ignore_errors=True)
            shutil.rmtree(work / "node-warm", ignore_errors=True)
            return _synth(out), {**warm, "NODE_COMPILE_CACHE": str(work / "node-warm")}
        return _synth(out), {
            "CONTROL_TOWER_CACHE": str(work / f"ct-cold-{run}"),
            "ASSEMBLY_CACHE": str(work / f"assembly-cold-{run}"),
            "NODE_COMPILE_CACHE": str(work / f"node-cold-{run}"),
        }

    node = {"NODE_COMPILE_CACHE": str(work / "node-warm")}
    found: dict[str, Callable[[int], tuple[list[str], dict[str, str]]]] = {
        "cold synth": cold,
        "nothing changed": lambda run: (_synth(out), {**warm, **node}),
        "one pattern changed": lambda run: (
            _synth(out, f"config={_changed_streaming_config(work, run)}"),
            {**warm, **node},
        ),
        "patterns=network": lambda run: (_synth(out, "patterns=network"), {**warm, **node}),
        "network changed, selected": lambda run: (
            _synth(out, "patterns=network", f"config={_changed_network_config(work, run)}"),
            {**warm, **node},
        ),
    }
    if tests:
        found["test suite (pytest)"] = lambda run: (
            [str(BIN / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            {"CONTROL_TOWER_CACHE": str(work / f"cache-tests-{run}"), "ASSEMBLY_CACHE": "off", **node},
        )
    return found


def _breakdown(run: Run) -> dict[str, float]:
    if not run.phases:
        return {}
    phases = {name: run.phases.get(name, 0.0) for name in PHASES if name != "cli"}
    phases["cli"] = run.seconds - sum(phases.values())
    return phases


def jsii_round_trips() -> dict[str, int]:
    """Python→Node round-trips while each stack is built, and for ``app.synth()``."""
    command = [str(BIN / "python"), "-m", "tools.bench_jsii"]
    out = subprocess.run(command, cwd=ROOT, env=_environment({}), capture_output=True, text=True, check=True)
    counts: dict[str, int] = json.loads(out.stdout)
    return counts


def _row(name: str, runs: list[Run]) -> str:
    seconds = [r.seconds for r in runs]
    breakdowns = [b for b in (_breakdown(r) for r in runs) if b]
    cells = [
        f"{statistics.median(seconds):>9.1f}s",
        f"{min(seconds):>9.1f}s",
        f"{max(seconds):>9.1f}s",
        f"{statistics.median(r.peak_mib for r in runs):>10.0f}",
    ]
    for phase in PHASES:
        values = [b[phase] for b in breakdowns]
        cells.append(f"{statistics.median(values):>9.1f}s" if values else f"{'-':>10}")
    return f"{name:<26} " + " ".join(cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="runs of each synth case (default 3)")
    parser.add_argument("--test-runs", type=int, default=1, help="runs of the test suite (default 1)")
    parser.add_argument("--skip-tests", action="store_true", help="benchmark the synth only")
    parser.add_argument("--no-jsii", action="store_true", help="skip counting Python→Node round-trips per stack")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    env = _environment({})
    try:
        rows = []
        for name, case in cases(work, tests=not args.skip_tests).items():
            count = args.test_runs if name.startswith("test suite") else args.runs
            runs = []
            for run in range(count):
                command, extra = case(run)
                runs.append(measure(command, {**env, **extra}))
            print(f"measured {name}: {', '.join(f'{r.seconds:.1f}s' for r in runs)}", file=sys.stderr)
            rows.append(_row(name, runs))
        header = " ".join(f"{h:>10}" for h in ("median", "min", "max", "peak MiB", *HEADINGS))
        print(f"\n{'case':<26} {header}   ({args.runs} runs, {os.cpu_count()} cores; phases are medians)")
        print("\n".join(rows))
        if not args.no_jsii:
            print("\njsii round-trips (Python→Node calls)")
            for name, calls in jsii_round_trips().items():
                print(f"{name:<40} {calls:>8,}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
