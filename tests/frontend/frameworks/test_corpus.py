"""The framework corpus (issue 18): for each of snnTorch, Norse, Sinabs, Rockpool and Spyx, nets
built with the framework's own layers (a conv net with pooling, a recurrent net; see
``nets.py`` and the README's "From your framework" for the layers an exporter cannot write),
exported with the framework's exporter at test time, then

    from_framework (the exporter + snnc's preset) -> simulate == the framework's forward (spikes, exact)
    -> snnc.save / snnc.load round trip -> compile for sim, fpga, loihi2 -> verify sim == C.

Spyx needs jax (skipped where it is not installed, e.g. the Lava env)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import snnc
from snnc.backends.sim import simulate
from snnc.frontend.frameworks import from_framework
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph
from snnc.runtime.verify import verify
from snnc.tests.helper_modules import load

pytest.importorskip("torch")
pytestmark = [pytest.mark.torch, pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning")]

nets = load("frontend/frameworks/nets.py")

MODULES = {"snntorch": "snntorch", "norse": "norse", "sinabs": "sinabs", "rockpool": "rockpool", "spyx": "spyx.nn"}
CASES = sorted(nets.CORPUS)


def _inputs(graph, seed: int = 0, batch: int = 2, steps: int = 20) -> np.ndarray:
    shape = graph.nodes[graph.input_names()[0]].shape
    return (np.random.default_rng(seed).random((batch, steps, *shape)) < 0.4).astype(np.float32)


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def case(request):
    framework, kind = request.param
    pytest.importorskip(MODULES[framework])
    model, sample, forward = nets.CORPUS[request.param]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = from_framework(model, sample, framework)
    return framework, kind, graph, forward


def test_matches_framework_forward(case, tmp_path):
    framework, kind, graph, forward = case
    assert graph.metadata["preset"] == framework
    x = _inputs(graph)
    ref = forward(x)
    trace = simulate(graph, x.astype(np.float64), record="all")
    neurons = [n for n, node in graph.nodes.items() if node.type_name in ("DiscreteLIF", "LIFB")]
    assert len(neurons) == 2 and all(trace.outputs[n].sum() > 0 for n in neurons), "vacuous: a layer never spikes"
    out = trace.outputs[graph.output_names()[0]].reshape(ref.shape)
    assert np.array_equal(out, ref), f"{int((out != ref).sum())} of {ref.size} output values differ"
    snnc.save(graph, tmp_path / "m.nir")
    again = simulate(snnc.load(tmp_path / "m.nir"), x.astype(np.float64))
    assert np.array_equal(again.outputs[graph.output_names()[0]].reshape(ref.shape), ref)


@pytest.mark.gcc
@pytest.mark.parametrize("target", ["sim", "fpga", "loihi2"])
def test_compiles_and_sim_equals_c(case, target):
    framework, kind, graph, forward = case
    lowered, report = compile_graph(graph, make_config(target))
    assert not any("Pool" in node.type_name for node in lowered.nodes.values()) or target != "loihi2"
    cmp, _ = verify(lowered, ["sim", "fpga"], _inputs(graph, seed=1))
    assert cmp.bit_exact, cmp.first_mismatch
