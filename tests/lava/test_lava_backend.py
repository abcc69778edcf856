"""The Lava backend (snnc.backends.lava) against the snnc simulator, bit for bit: every node's
output and every neuron state at every step (``np.array_equal``), on the real models compiled
for loihi2 and on hand-built graphs with each custom node kind.

Runs in the Lava env: ``.venv-lava/bin/python -m pytest tests/lava -q`` (run_lava runs the
emitted network in-process here). Each Lava run costs about a second of process start-up, so the
runs use one or two samples and few steps.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lava")

import snnc  # noqa: E402
from snnc.backends.lava.emit import emit_lava  # noqa: E402
from snnc.backends.lava.mapping import plan_network  # noqa: E402
from snnc.backends.lava.run import run_lava  # noqa: E402
from snnc.ir import intneurons as INN  # noqa: E402
from snnc.ir import nodes as N  # noqa: E402
from snnc.ir.errors import UnsupportedError  # noqa: E402
from snnc.passes.targets import make_config  # noqa: E402
from snnc.runtime.compile import compile_graph  # noqa: E402
from snnc.tests.helper_modules import load  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHARED = (REPO / ".." / "shared" / "models").resolve()


LG = load("backends/lava/lava_graphs.py")

MODELS = [REPO / "examples" / "models" / "quickstart_lif.nir", REPO / "examples" / "models" / "digits_lmht.nir"] \
    + sorted(SHARED.glob("*.nir"))
#: (batch, steps) per model: the CNN's Lava Conv on 34x34 inputs is the slow one
RUN_SIZE = {"cnn_sinabs": (1, 6)}


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_model_bit_exact(path):
    graph, _ = compile_graph(snnc.load(str(path)), make_config("loihi2"))
    batch, steps = RUN_SIZE.get(path.stem, (2, 16))
    inputs = LG.spike_inputs(graph, batch, steps, seed=3, rate=0.3)
    trace = run_lava(graph, inputs, record="all", record_states=True)
    ref = LG.assert_bit_exact(trace, graph, inputs)
    neurons = [n for n, node in graph.nodes.items() if getattr(node, "is_neuron", False)]
    assert any(ref.outputs[n].any() for n in neurons), "no neuron was active: the comparison would be weak"


# which Lava process each hand-built graph must use (both native and custom mappings are covered)
EXPECTED = {
    "lif_variants": {"soft": "SnncCubaLIF", "reset_lif": "LIFReset", "readout": "SnncCubaLIF", "lif4": "LIF",
                     "readout2": "LIF", "d4": "SnncDense", "d1": "Dense"},
    "seed_neurons": {"lifb": "SnncLIFB", "lmht": "SnncLMHT", "lnm": "SnncLNM", "clif": "SnncCLIF", "pop": "SnncLIFB"},
    "resonate": {"cd": "Dense", "cd2": "SnncComplexDense", "rf": "SnncRF", "rf2": "SnncRF"},
    "conv_pool": {"c1": "Conv", "pool": "Conv", "c2": "SnncConv", "fc": "DelayDense", "cb": "DelayDense",
                  "const": "RingBuffer", "n2": "SnncLIFB"},
    "zero_latency": {"d1": "SnncDense", "rec": "SnncDense", "n1": "SnncCubaLIF", "d2": "Dense"},
    "decoupled_burst": {"burst": "SnncLIFB", "burst.lateral": "SnncDense", "burst.payload": "SnncDense"},
    "netx_chain": {"c1": "Conv", "fc": "DelayDense", "rec": "Dense", "n3": "LIF"},
}


@pytest.mark.parametrize("name", list(LG.HAND_GRAPHS))
def test_hand_graph_bit_exact(name):
    graph = LG.HAND_GRAPHS[name]()
    graded = name in ("conv_pool", "resonate", "netx_chain")
    inputs = LG.spike_inputs(graph, 1, 14, seed=11, graded=graded)
    plan = plan_network(graph, {n: int(np.abs(a).max()) for n, a in inputs.items()})
    used = {row["node"]: row["lava"] for row in plan.table}
    for node, cls in EXPECTED[name].items():
        assert used[node] == cls, f"{node}: {used[node]} (expected {cls})"
    if name == "conv_pool":
        assert any(p.cls == "SnncDelay" for p in plan.procs.values()), "the neuron->synapse delay needs a delay line"
    trace = run_lava(graph, inputs, record="all", record_states=True)
    ref = LG.assert_bit_exact(trace, graph, inputs)
    spiking = [n for n in graph.nodes if getattr(graph.nodes[n], "is_neuron", False)]
    assert sum(int(np.abs(ref.outputs[n]).sum() > 0) for n in spiking) >= len(spiking) - 1, "too few active neurons"


def test_record_outputs_only_and_padding():
    """record='outputs' returns just the Output nodes; ``steps`` pads the input with zeros."""
    graph = LG.conv_pool()
    inputs = LG.spike_inputs(graph, 2, 5, seed=2)
    trace = run_lava(graph, inputs, steps=9, record="outputs")
    from snnc.backends.sim import simulate

    ref = simulate(graph, inputs, steps=9)
    assert set(trace.outputs) == {"output"} and not trace.states
    assert trace.outputs["output"].shape == (2, 9, 3)
    assert np.array_equal(trace.outputs["output"], ref.outputs["output"])


def test_whole_window_time_mix_is_rejected():
    """A latency-0 IntTimeMix (what sim/fpga run) is non-causal; loihi2 graphs stream it."""
    g = LG.seed_neurons()
    g.add_node("mix", INN.IntTimeMix(coefficients=np.eye(4, dtype=np.int64), frac_bits=0))
    g.add_node("o2", N.Output(shape=(12,)))
    g.add_edge("input", "mix")
    g.add_edge("mix", "o2")
    with pytest.raises(UnsupportedError, match="mix.*whole-window"):
        run_lava(g, LG.spike_inputs(g, 1, 4))


@pytest.mark.parametrize("case", [
    dict(seed=1, layers=1, window=4, leaks=[1.45, 1, 1], v_inits=[0.9, 0, 0], bias=True),
    dict(seed=2, layers=2, window=3, leaks=[0.6, 1.2, 1], v_inits=[-0.3, 0.4, 0], bias=True),
    dict(seed=3, layers=3, window=2, leaks=[1.0, 1.45, 0.9], v_inits=[0.4, 0.9, -0.3], bias=False),
], ids=["1layer-W4-growth", "2layers-W3", "3layers-W2"])
def test_streaming_lmht_bit_exact(case):
    """loihi2-lowered LM-HT chains: SnncTimeMix (streaming, one window late) and SnncLMHT with
    its phase equal the simulator on every output and state (the window buffers too), every
    step, pre-roll included."""
    graph, _ = compile_graph(load("passes/test_streaming_lmht.py").lmht_chain(**case), make_config("loihi2"))
    plan = plan_network(graph)
    used = {row["node"]: row["lava"] for row in plan.table}
    assert {used[n] for n in graph.nodes if n.startswith("mix")} == {"SnncTimeMix"}
    T = 3 * case["window"] + max(int(n.hw["latency"]) for n in graph.nodes.values())
    rng = np.random.default_rng(case["seed"])
    inputs = {"input": (rng.random((1, T, 10)) < 0.4).astype(np.int64)}
    trace = run_lava(graph, inputs, record="all", record_states=True)
    ref = LG.assert_bit_exact(trace, graph, inputs)
    assert any(ref.outputs[n].any() for n in graph.nodes if n.startswith("lmht"))


def test_emitted_module_runs_as_a_script(tmp_path):
    """network.py is self-contained: run it with the Lava interpreter from its folder and
    compare its .npz with the simulator; the folder also holds params.npz and the report."""
    graph = LG.resonate()
    emit_lava(graph, str(tmp_path / "net"), input_bounds={"input": 7})
    files = sorted(os.listdir(tmp_path / "net"))
    assert files == ["lava_report.json", "network.py", "params.npz"]   # RF: no netx file
    report = json.loads((tmp_path / "net" / "lava_report.json").read_text())
    assert report["netx"]["written"] is False and "IntComplexDense" in report["netx"]["reason"]
    source = (tmp_path / "net" / "network.py").read_text()
    assert not re.search(r"^\s*(import snnc|from snnc)", source, re.M), "network.py must not need snnc"
    inputs = LG.spike_inputs(graph, 1, 8, seed=5, graded=True)
    np.savez(tmp_path / "in.npz", **inputs)
    proc = subprocess.run([sys.executable, "network.py", "--inputs", str(tmp_path / "in.npz"), "--out",
                           str(tmp_path / "out.npz"), "--record", "all", "--states"], cwd=tmp_path / "net",
                          capture_output=True, text=True, env={k: v for k, v in os.environ.items()
                                                               if k != "PYTHONPATH"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    from snnc.backends.sim import simulate

    ref = simulate(graph, inputs, record="all", record_states=True)
    with np.load(tmp_path / "out.npz") as f:
        got = {k: f[k] for k in f.files}
    for k, v in {**ref.outputs, **ref.states}.items():
        assert np.array_equal(got[k], v), k
    big = {"input": inputs["input"] * 100}
    with pytest.raises(subprocess.CalledProcessError):
        np.savez(tmp_path / "big.npz", **big)
        subprocess.run([sys.executable, "network.py", "--inputs", str(tmp_path / "big.npz")], cwd=tmp_path / "net",
                       check=True, capture_output=True)
