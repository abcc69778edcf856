"""SIGTERM to ``snnc verify`` while Lava runs: the Lava child's whole process group (Lava starts
about 25 processes) ends with snnc, and snnc exits 143 (SIGINT: 130). snnc runs here as a
separate process with Lava as a child process (``$SNNC_LAVA_PYTHON`` set: no in-process run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("lava")

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "examples" / "models" / "digits_lif.nir"
DEADLINE_S = 240.0


def _procs() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, pgid) of every process now."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()      # after "pid (comm) "
        out[int(d)] = (int(fields[1]), int(fields[2]))
    return out


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _lava_child(parent: int) -> int | None:
    """The Lava run: a child of snnc that leads its own process group and runs network.py (not the
    short availability probe, also a child in its own group)."""
    for pid, (ppid, pgid) in _procs().items():
        if ppid == parent and pgid == pid and "network.py" in _cmdline(pid):
            return pid
    return None


def _group(pgid: int) -> list[int]:
    return [pid for pid, (_, g) in _procs().items() if g == pgid]


def _wait_for(predicate, what: str, proc: subprocess.Popen):
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"snnc verify ended (exit {proc.returncode}) before {what}: {err[-2000:]}")
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"no {what} within {DEADLINE_S} s")


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_a_lava_run_leaves_no_process(tmp_path, sig, code):
    env = {**os.environ, "SNNC_LAVA_PYTHON": sys.executable, "SNNC_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "snnc.runtime.cli", "verify", str(MODEL), "--backends", "sim,lava",
           "--steps", "400", "--inputs", "8"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        child = _wait_for(lambda: _lava_child(proc.pid), "Lava child process", proc)
        # Lava's runtime has started its worker processes in that group
        _wait_for(lambda: len(_group(child)) >= 3, "Lava worker processes", proc)
        assert os.getpgid(proc.pid) != child
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code, err[-2000:]
    assert "Traceback" not in err
    assert _group(child) == [], f"left running in the Lava group: {_group(child)}"
