"""The peak memory `make bench` reports counts the synth's jsii runtime: Node processes
below app.py (a launcher, then the runtime and its kernel) that are never waited for
(app.py leaves with ``os._exit``), so no rusage ever sees them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHILD_MIB = 300

# A small app.py process with a grandchild far larger than itself, as the jsii runtime is.
_GRANDCHILD = f"import time; b = bytearray({CHILD_MIB} << 20); print(flush=True); time.sleep(60)"
_CHILD = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {_GRANDCHILD!r}])"
_SCRIPT = f"""
import os, signal, subprocess, sys
import app
child = subprocess.Popen([sys.executable, "-c", {_CHILD!r}], stdout=subprocess.PIPE, start_new_session=True)
child.stdout.readline()  # the grandchild holds its memory
try:
    print(app._peak_mib())
finally:
    os.killpg(child.pid, signal.SIGKILL)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc, as the bench does on Linux")
def test_the_peak_counts_a_grandchild_larger_than_the_app() -> None:
    out = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True)
    peak = float(out.stdout.split()[0])
    assert peak >= CHILD_MIB, out.stdout
