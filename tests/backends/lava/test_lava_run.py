"""run_lava from the main env: the emitted network runs under the Lava env's Python as a
subprocess and must match the simulator bit for bit (every output and state, every step).
Skipped when .venv-lava is missing (CI builds it, so these run there)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import snnc
from snnc.backends.lava.run import DEFAULT_PYTHON, ENV_VAR, lava_python, run_lava
from snnc.ir.errors import BackendError
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph
from snnc.tests.helper_modules import load

REPO = Path(__file__).resolve().parents[3]
HAVE_LAVA_ENV = Path(DEFAULT_PYTHON).exists()
needs_lava_env = pytest.mark.skipif(not HAVE_LAVA_ENV, reason=f"no Lava env at {DEFAULT_PYTHON}")


LG = load("backends/lava/lava_graphs.py")


def _compiled(path: Path):
    return compile_graph(snnc.load(str(path)), make_config("loihi2"))[0]


def test_missing_interpreter_is_a_backend_error(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(BackendError, match="no Lava Python interpreter"):
        lava_python(str(tmp_path / "nope" / "python"))
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "also-missing"))
    with pytest.raises(BackendError, match=ENV_VAR):
        run_lava(LG.zero_latency(), LG.spike_inputs(LG.zero_latency(), 1, 3))


@needs_lava_env
@pytest.mark.parametrize("model", ["quickstart_lif", "braille_noDelay_bias_zero"])
def test_models_via_subprocess(model):
    path = REPO / "examples" / "models" / f"{model}.nir"
    if not path.exists():
        path = (REPO / ".." / "shared" / "models" / f"{model}.nir").resolve()
    graph = _compiled(path)
    inputs = LG.spike_inputs(graph, 2, 12, seed=1, rate=0.3)
    trace = run_lava(graph, inputs, record="all", record_states=True, python=DEFAULT_PYTHON)   # subprocess
    LG.assert_bit_exact(trace, graph, inputs)
    assert all(v.dtype == np.int64 for v in trace.outputs.values())


@needs_lava_env
def test_custom_processes_via_subprocess_and_env_var(monkeypatch, tmp_path):
    """Custom processes through the subprocess path; the interpreter named by SNNC_LAVA_PYTHON;
    ``workdir`` keeps the emitted network and the exchange files."""
    monkeypatch.setenv(ENV_VAR, DEFAULT_PYTHON)
    graph = LG.seed_neurons()
    inputs = LG.spike_inputs(graph, 1, 10, seed=2)
    trace = run_lava(graph, inputs, record="all", record_states=True, workdir=str(tmp_path))
    LG.assert_bit_exact(trace, graph, inputs)
    assert (tmp_path / "network" / "network.py").exists() and (tmp_path / "trace.npz").exists()


@needs_lava_env
def test_verify_sim_vs_lava():
    """runtime.verify compares the simulator and Lava on every array."""
    from snnc.runtime.verify import random_inputs, verify

    graph = _compiled(REPO / "examples" / "models" / "quickstart_lif.nir")
    cmp, _ = verify(graph, ["sim", "lava"], random_inputs(graph, 2, 10, seed=7), steps=10)
    assert cmp.bit_exact, cmp.first_mismatch


def test_cli_run_compiled_folder_on_lava(tmp_path):
    """`snnc run OUTDIR --backend lava` (Lava env subprocess) equals `--backend sim`."""
    import numpy as np

    from snnc.runtime.cli import main

    root = __import__("pathlib").Path(__file__).resolve().parents[3]
    out = tmp_path / "c"
    model = str(root / "examples/models/quickstart_lif.nir")
    assert main(["compile", model, "--target", "loihi2", "-o", str(out)]) == 0
    x = root / "examples/data/quickstart_input.npy"
    for b in ("sim", "lava"):
        assert main(["run", str(out), "--backend", b, "--input", str(x), "--steps", "12",
                     "--out", str(tmp_path / f"{b}.npz")]) == 0
    assert np.array_equal(np.load(tmp_path / "sim.npz")["output"], np.load(tmp_path / "lava.npz")["output"])
