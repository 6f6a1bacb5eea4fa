"""Benchmark: median wall time and peak memory of the full synth and of the test suite.

Run with ``make bench`` (``python tools/bench.py --runs 5`` for more runs). Each run is a
fresh process tree; peak memory is the largest resident set of any process in it (the
CDK CLI, the Python app, or the jsii Node runtime). Not a test: timings vary by machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)
"""


def measure(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak MiB of one run of ``command`` in a fresh process tree."""
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "CDK_DISABLE_VERSION_CHECK": "true",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    seconds, max_rss_kib, code = out.stdout.split()
    if code != "0":
        raise SystemExit(f"benchmark command failed ({code}): {' '.join(command)}")
    return float(seconds), int(max_rss_kib) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-tests", action="store_true", help="benchmark the synth only")
    args = parser.parse_args()
    outdir = tempfile.mkdtemp(prefix="bench-cdk-out-")
    cases = {
        "full synth (cdk synth)": [
            str(ROOT / "node_modules/.bin/cdk"),
            "synth",
            "--quiet",
            "--no-notices",
            "--output",
            outdir,
        ],
    }
    if not args.skip_tests:
        cases["test suite (pytest)"] = [str(BIN / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    rows = []
    for name, command in cases.items():
        runs = [measure(command) for _ in range(args.runs)]
        seconds = [r[0] for r in runs]
        peaks = [r[1] for r in runs]
        rows.append((name, statistics.median(seconds), min(seconds), max(seconds), statistics.median(peaks)))
        print(f"measured {name}: {', '.join(f'{s:.1f}s' for s in seconds)}", file=sys.stderr)
    print(
        f"\n{'case':<24} {'median':>8} {'min':>8} {'max':>8} {'peak MiB':>9}"
        f"   ({args.runs} runs, {os.cpu_count()} cores)"
    )
    for name, median, low, high, peak in rows:
        print(f"{name:<24} {median:>7.1f}s {low:>7.1f}s {high:>7.1f}s {peak:>9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
