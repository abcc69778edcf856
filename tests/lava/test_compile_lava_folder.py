"""``snnc compile MODEL --target loihi2 -o OUT`` leaves OUT/lava, which runs in the Lava env
unchanged (``cd OUT/lava && python network.py ...``, as the compile summary says) and equals the
simulator on every output and state at every step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lava")

from snnc.backends.sim import simulate  # noqa: E402
from snnc.runtime.cli import main  # noqa: E402
from snnc.runtime.compile import load_artifact  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("model", ["quickstart_lif", "digits_cubalif"])
def test_compiled_lava_folder_runs_unchanged_and_is_bit_exact(tmp_path, model):
    out = tmp_path / "out"
    assert main(["compile", str(REPO / "examples" / "models" / f"{model}.nir"), "--target", "loihi2",
                 "-o", str(out)]) == 0
    lowered = load_artifact(str(out))
    (name,) = lowered.input_names()
    x = (np.random.default_rng(3).random((1, 12, *lowered.nodes[name].shape)) < 0.3).astype(np.int64)
    np.savez(tmp_path / "inputs.npz", **{name: x})
    proc = subprocess.run([sys.executable, "network.py", "--inputs", str(tmp_path / "inputs.npz"), "--out",
                           str(tmp_path / "trace.npz"), "--steps", "12", "--record", "all", "--states"],
                          cwd=out / "lava", capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ref = simulate(lowered, {name: x}, record="all", record_states=True)
    got = np.load(tmp_path / "trace.npz")
    compared = 0
    for key, want in {**ref.outputs, **ref.states}.items():
        assert key in got.files, key
        assert np.array_equal(got[key], want), key
        compared += want.size
    assert compared > 0
