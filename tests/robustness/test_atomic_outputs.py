"""Atomic outputs: an interrupted compile (SIGTERM or Ctrl-C in the middle of writing) leaves no
OUTDIR and no temporary folder; an existing OUTDIR survives an interrupted --force."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import snnc.runtime.compile as C
    real = C.write_nir
    def write_then_die(path, graph, **kw):
        real(path, graph, **kw)                      # the artifact is half written...
        os.kill(os.getpid(), getattr(signal, sys.argv[1]))   # ...when the signal arrives
    C.write_nir = write_then_die
    from snnc.runtime.cli import main
    sys.exit(main(sys.argv[2:]))
""")


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("existing", [False, True])
def test_interrupted_compile_leaves_no_partial_artifact(shared_models, tmp_path, sig, existing):
    out = tmp_path / "out"
    if existing:
        out.mkdir()
        (out / "keep.txt").write_text("user data")
    argv = ["compile", str(shared_models / "lif_norse.nir"), "--target", "fpga", "-o", str(out)]
    if existing:
        argv.append("--force")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, sig, *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == {"SIGINT": 130, "SIGTERM": 143}[sig], proc.stderr
    assert ("interrupted" in proc.stderr or "terminated by SIGTERM" in proc.stderr) and "Traceback" not in proc.stderr
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert leftovers == (["out"] if existing else []), leftovers
    if existing:
        assert (out / "keep.txt").read_text() == "user data"
