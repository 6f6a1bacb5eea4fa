"""The peak memory `make bench` reports counts the synth's jsii runtime, a child of app.py
that is never waited for (app.py leaves with ``os._exit``), so no rusage ever sees it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHILD_MIB = 300

# A small app.py process with one child far larger than itself, as the jsii runtime is.
_CHILD = f"import time; b = bytearray({CHILD_MIB} << 20); print(flush=True); time.sleep(60)"
_SCRIPT = f"""
import subprocess, sys
import app
child = subprocess.Popen([sys.executable, "-c", {_CHILD!r}], stdout=subprocess.PIPE)
child.stdout.readline()  # the child holds its memory
try:
    print(app._peak_mib())
finally:
    child.kill()
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc, as the bench does on Linux")
def test_the_peak_counts_a_child_larger_than_the_app() -> None:
    out = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True)
    peak = float(out.stdout.split()[0])
    assert peak >= CHILD_MIB, out.stdout
