"""bench/lava_vs_sim.py runs at a small size and finds Lava's outputs identical to the simulator's
(no timing asserts). Skipped without the Lava env."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from snnc.backends.lava.run import DEFAULT_PYTHON


@pytest.mark.skipif(not Path(DEFAULT_PYTHON).exists(), reason=f"no Lava env at {DEFAULT_PYTHON}")
def test_lava_vs_sim_smoke(repo_root):
    proc = subprocess.run([sys.executable, "bench/lava_vs_sim.py", "--steps", "10", "--lava-samples", "1",
                           "--batch", "4"], cwd=repo_root, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "outputs identical: True" in proc.stdout and "ratio Lava/simulator" in proc.stdout
