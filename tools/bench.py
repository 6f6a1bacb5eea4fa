"""Benchmark: where a synth's time goes, beside the whole-process medians.

Run with ``make bench`` (``python tools/bench.py --runs 5`` for more runs). Every case is
a fresh ``cdk synth`` process tree, as ``make synth`` starts it:

- cold: an empty Control Tower cache, so every template is judged;
- nothing changed: the same organization again, every template from the cache;
- one pattern changed: the streaming pattern's config edited (each run differently), so
  its templates are judged again and the others come from the cache;
- one pattern selected: ``-c patterns=network`` with nothing changed;
- the test suite (``pytest``, as ``make test`` runs it), with an empty cache.

Beside each case's median wall time and peak memory (the largest resident set of any
process in the tree: the CLI, the Python app or the jsii Node runtime) it prints the
median of each phase: the imports (measured alone, ``import app``), building the
constructs, ``app.synth()`` with cdk-nag, the Control Tower check (``app.py`` writes
these to $SYNTH_TIMINGS), and what remains, the CLI's own overhead; then the number of
Python→Node round-trips per stack (``tools/bench_jsii.py``). The bench uses a cache folder of its own,
never the project's. Not a test: timings vary by machine.
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
PHASES = ("imports", "build", "synth", "control_tower", "cli")
# The phases as the table heads them: app.synth() includes cdk-nag; "cli" is the rest.
HEADINGS = ("imports", "build", "synth+nag", "ctrl-tower", "cli")

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
    return Run(float(seconds), int(max_rss_kib) / 1024, phases)


def _synth(outdir: Path, *context: str) -> list[str]:
    command = [str(CDK), "synth", "--quiet", "--no-notices", "--output", str(outdir)]
    for value in context:
        command += ["--context", value]
    return command


def _changed_streaming_config(folder: Path, run: int) -> Path:
    """The example with the streaming consumer's batch size changed: only the streaming
    pipeline's template changes, differently in every run."""
    text = EXAMPLE.read_text(encoding="utf-8")
    changed, count = re.subn(r"(?m)^(  batch_size: )500\b", rf"\g<1>{500 - 10 * (run + 1)}", text)
    if count != 1:
        raise SystemExit("the example's streaming.batch_size is no longer 500: update the bench")
    path = folder / f"changed-{run}.yaml"
    path.write_text(changed, encoding="utf-8")
    return path


def cases(work: Path, *, tests: bool) -> dict[str, Callable[[int], tuple[list[str], dict[str, str]]]]:
    """Case name -> (run number -> command and environment)."""
    warm = work / "cache-warm"
    out = work / "cdk.out"

    def cold(run: int) -> tuple[list[str], dict[str, str]]:
        cache = work / f"cache-cold-{run}"
        if run == 0:  # the last cold run leaves the warm cache for the cases after it
            shutil.rmtree(warm, ignore_errors=True)
        return _synth(out), {"CONTROL_TOWER_CACHE": str(warm if run == 0 else cache)}

    found: dict[str, Callable[[int], tuple[list[str], dict[str, str]]]] = {
        "cold synth": cold,
        "nothing changed": lambda run: (_synth(out), {"CONTROL_TOWER_CACHE": str(warm)}),
        "one pattern changed": lambda run: (
            _synth(out, f"config={_changed_streaming_config(work, run)}"),
            {"CONTROL_TOWER_CACHE": str(warm)},
        ),
        "patterns=network": lambda run: (_synth(out, "patterns=network"), {"CONTROL_TOWER_CACHE": str(warm)}),
    }
    if tests:
        found["test suite (pytest)"] = lambda run: (
            [str(BIN / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            {"CONTROL_TOWER_CACHE": str(work / f"cache-tests-{run}")},
        )
    return found


def import_seconds(runs: int) -> float:
    """Median seconds to start Python and import the app (aws-cdk-lib and the project)."""
    env = _environment({})
    return statistics.median(measure([str(BIN / "python"), "-c", "import app"], env).seconds for _ in range(runs))


def _breakdown(run: Run, imports: float) -> dict[str, float]:
    if not run.phases:
        return {}
    phases = {"imports": imports, **run.phases}
    phases["cli"] = run.seconds - sum(phases.values())
    return phases


def jsii_round_trips() -> dict[str, int]:
    """Python→Node round-trips while each stack is built, and for ``app.synth()``."""
    command = [str(BIN / "python"), "-m", "tools.bench_jsii"]
    out = subprocess.run(command, cwd=ROOT, env=_environment({}), capture_output=True, text=True, check=True)
    counts: dict[str, int] = json.loads(out.stdout)
    return counts


def _row(name: str, runs: list[Run], imports: float) -> str:
    seconds = [r.seconds for r in runs]
    breakdowns = [b for b in (_breakdown(r, imports) for r in runs) if b]
    cells = [
        f"{statistics.median(seconds):>9.1f}s",
        f"{min(seconds):>9.1f}s",
        f"{max(seconds):>9.1f}s",
        f"{statistics.median(r.peak_mib for r in runs):>10.0f}",
    ]
    for phase in PHASES:
        values = [b[phase] for b in breakdowns]
        cells.append(f"{statistics.median(values):>9.1f}s" if values else f"{'-':>10}")
    return f"{name:<22} " + " ".join(cells)


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
        imports = import_seconds(args.runs)
        rows = []
        for name, case in cases(work, tests=not args.skip_tests).items():
            count = args.test_runs if name.startswith("test suite") else args.runs
            runs = []
            for run in range(count):
                command, extra = case(run)
                runs.append(measure(command, {**env, **extra}))
            print(f"measured {name}: {', '.join(f'{r.seconds:.1f}s' for r in runs)}", file=sys.stderr)
            rows.append(_row(name, runs, imports))
        header = " ".join(f"{h:>10}" for h in ("median", "min", "max", "peak MiB", *HEADINGS))
        print(f"\n{'case':<22} {header}   ({args.runs} runs, {os.cpu_count()} cores; phases are medians)")
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
