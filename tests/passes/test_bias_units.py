"""passes/bias_units.py: ConstantSource biases become netx bias units, exactly -- every original
node's states and outputs equal before and after on random inputs (the bias columns fed by a
unit that starts later emit from that step, with an edge that much shorter: their neuron sees
the same input), and constants the rules cannot place are kept with the reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import snnc
from snnc.backends.lava.emit import emit_lava
from snnc.backends.sim import simulate
from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir.graph import Edge
from snnc.passes.bias_units import bias_units
from snnc.passes.pipeline import PIPELINES
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph

REPO = Path(__file__).resolve().parents[2]
SHARED = (REPO / ".." / "shared" / "models").resolve()


def _before(path: Path):
    """The loihi2 graph just before bias_units."""
    pipe = PIPELINES["loihi2"]
    PIPELINES["loihi2"] = pipe[:pipe.index("bias_units")]
    try:
        return compile_graph(snnc.load(str(path)), make_config("loihi2"))[0]
    finally:
        PIPELINES["loihi2"] = pipe


def _traces(graph, x, name):
    r = simulate(graph, {name: x}, record="all", record_states=True)
    return {**r.outputs, **r.states}


@pytest.mark.parametrize("path", [REPO / "examples" / "models" / "digits_cubalif.nir",
                                  SHARED / "braille_noDelay_bias_zero.nir"])
def test_bias_units_are_exact(path):
    before = _before(path)
    after, notes = bias_units(before)
    assert not [n for n, node in after.nodes.items() if isinstance(node, INN.ConstantSource)
                and "bias_unit_of" not in node.metadata], notes
    units = [n for n, node in after.nodes.items()
             if isinstance(node, IN.IntCubaLIF) and "bias_unit_of" in node.metadata]
    assert units
    (name,) = before.input_names()
    rng = np.random.default_rng(11)
    x = (rng.random((3, 40, *before.nodes[name].shape)) < 0.35).astype(np.int64)
    t0, t1 = _traces(before, x, name), _traces(after, x, name)
    shifted = {c for c in after.nodes if any(e.src in units and e.dst == c for e in after.edges)}
    compared = 0
    for key, want in t0.items():
        if key not in t1:
            assert isinstance(before.nodes[key], INN.ConstantSource)      # replaced by a unit
            continue
        if key in shifted:
            continue
        assert np.array_equal(t1[key], want), key
        compared += want.size
    assert compared > 0
    # the units: on from their start step, at every step
    for u in units:
        start = int(u.rsplit("bias_unit", 1)[1])
        assert np.all(t1[u][:, start:] == 1) and not np.any(t1[u][:, :start]), u


def test_unplaceable_constant_is_kept_and_named(tmp_path):
    g = _before(REPO / "examples" / "models" / "digits_cubalif.nir")
    # a bias into the readout three steps after its synapse delivers: no unit starts that late there
    g.nodes["k"] = INN.ConstantSource(shape=(1,), value=np.ones(1, np.int64))
    g.nodes["k.col"] = IN.IntDense(weight=np.full((10, 1), 2, np.int64), weight_exp=0, input_kind="binary",
                                   acc_bits=32, out_bits=32)
    g.edges += [Edge("k", "k.col", 0), Edge("k.col", "cubalif2", 4)]
    out, notes = bias_units(g)
    assert "k" in out.nodes and notes["k"].startswith("kept:") and "fc2" in notes["k"]
    report = emit_lava(out, str(tmp_path / "lava"))
    assert not report["netx"]["written"] and "ConstantSource" in report["netx"]["reason"]


def test_bias_grid_is_netx_grid():
    """loihi2 quantizes neuron biases onto netx's grid (multiples of 64, int16 mantissa)."""
    low = compile_graph(snnc.load(str(REPO / "examples" / "models" / "digits_lif.nir")), make_config("loihi2"))[0]
    biases = [np.asarray(n.bias) for n in low.nodes.values() if isinstance(n, IN.IntCubaLIF) and n.bias is not None]
    assert biases and all(not np.any(b % 64) and np.abs(b >> 6).max() < 2 ** 15 for b in biases)
