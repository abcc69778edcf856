"""Benchmark scripts run (small sizes, no timing asserts) and check their own outputs."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(repo_root, *args):
    return subprocess.run([sys.executable, *args], cwd=repo_root, capture_output=True, text=True, timeout=600)


def test_sim_vs_numpy_smoke(repo_root):
    proc = _run(repo_root, "bench/sim_vs_numpy.py", "--steps", "3", "--batch", "8")
    assert proc.returncode == 0, proc.stderr
    assert "outputs identical: True" in proc.stdout


def test_compile_scaling_smoke(repo_root):
    proc = _run(repo_root, "bench/compile_scaling.py", "--sizes", "1e4", "--targets", "fpga", "loihi2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("fpga") >= 1 and "loihi2" in proc.stdout


def test_fpga_vs_sim_smoke(repo_root):
    proc = _run(repo_root, "bench/fpga_vs_sim.py", "--steps", "20")
    assert proc.returncode == 0, proc.stderr
    assert "True" in proc.stdout and "C speed-up" in proc.stdout


@pytest.mark.torch
def test_run_all_smoke(repo_root):
    pytest.importorskip("torch")      # sim_networks measures the float32 torch limit
    proc = _run(repo_root, "bench/run_all", "--quick", "--no-lava")
    assert proc.returncode == 0, proc.stderr
    assert "benchmark" in proc.stdout and "generated C vs simulator" in proc.stdout
    assert "simulator vs float32 torch, batch 32" in proc.stdout and "pilotnet" in proc.stdout


def test_chip_native_accuracy_smoke(repo_root):
    proc = _run(repo_root, "bench/chip_native_accuracy.py", "--samples", "20", "--mappings")
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ") and "%" in line]
    assert len(rows) == 7 and all(line.count("%") == 5 for line in rows)      # fine-tuned models present
    assert "digits_clif clif1: CLIF" in proc.stdout and "hard reset to 0" in proc.stdout


@pytest.mark.torch
def test_sim_networks_smoke(repo_root):
    pytest.importorskip("torch")
    proc = _run(repo_root, "bench/sim_networks.py", "--quick", "--networks", "digits_lif", "sinabs")
    assert proc.returncode == 0, proc.stderr
    assert "generated C identical to the simulator, every network True" in proc.stdout


def test_sim_blocking_smoke(repo_root):
    proc = _run(repo_root, "bench/sim_blocking.py", "--network", "sinabs", "--settings", "0x0,2x3,1x1",
                "--rounds", "2", "--steps", "4")
    assert proc.returncode == 0, proc.stderr
    assert "2x3" in proc.stdout and "1x1" in proc.stdout and "batch 1" in proc.stdout
