"""LIFB -> LIF-population decoupling is lossless: the downstream synapse receives the same
integer input at every step (hypothesis over parameters and inputs: zero mismatches), and every
refused precondition gives a clear message."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc.backends.sim import simulate
from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Graph
from snnc.passes.decouple_burst import decouple_burst, decouple_node


def _graph(rng, *, n_in, n, copies, leak_mult, theta, amps, comparison, conv=False, readout=False):
    g = Graph(metadata={"level": "integer"})
    if conv:
        g.add_node("input", N.Input(shape=(2, 4, 4)))
        g.add_node("syn", IN.IntConv2d(input_shape=(4, 4), weight=rng.integers(-60, 60, (n, 2, 3, 3)),
                                       padding=(1, 1), weight_exp=0, input_kind="graded", out_bits=64))
        shape = (n, 4, 4)
        g.add_node("down", IN.IntConv2d(input_shape=(4, 4), weight=rng.integers(-9, 9, (3, n, 3, 3)),
                                        padding=(1, 1), weight_exp=0, input_kind="graded", out_bits=64))
    else:
        g.add_node("input", N.Input(shape=(n_in,)))
        g.add_node("syn", IN.IntDense(weight=rng.integers(-300, 300, (n, n_in)), weight_exp=0,
                                      input_kind="graded", acc_bits=64, out_bits=64))
        shape = (n,)
        g.add_node("down", IN.IntDense(weight=rng.integers(-50, 50, (3, n)), weight_exp=0, input_kind="graded",
                                       acc_bits=64, out_bits=64))
    g.add_node("b", INN.IntLIFB(shape=shape, leak_mult=np.array(leak_mult), threshold=np.array(theta),
                                threshold_step=np.array(theta), max_burst=copies, amplitudes=np.array(amps),
                                decay_bits=12, reset="subtract", comparison=comparison, state_bits=48))
    g.add_node("output", N.Output(shape=()))
    g.add_edge("input", "syn")
    g.add_edge("syn", "b")
    g.add_edge("b", "down")
    if readout:
        g.add_node("out_b", N.Output(shape=()))
        g.add_edge("b", "out_b")
    g.add_edge("down", "output")
    from snnc.ir.shapes import annotate_shapes
    return annotate_shapes(g)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), copies=st.integers(2, 5), n=st.integers(1, 5),
       leak64=st.integers(0, 64), theta64=st.integers(1, 40), comparison=st.sampled_from([">=", ">"]),
       signed=st.booleans(), conv=st.booleans(), floor=st.booleans())
def test_decoupling_is_lossless(seed, copies, n, leak64, theta64, comparison, signed, conv, floor):
    rng = np.random.default_rng(seed)
    amps = np.concatenate([[0], np.cumsum(rng.integers(-3, 6, copies))])  # any integer payloads
    g = _graph(rng, n_in=6, n=n, copies=copies, leak_mult=64 * leak64, theta=64 * theta64, amps=amps,
               comparison=comparison, conv=conv, readout=not conv)
    if floor:  # a lower bound (Sinabs min_v_mem = -theta style) keeps the construction exact
        g.nodes["b"].v_min = np.array(-int(rng.integers(0, 3 * 64 * theta64)))
    shape = g.nodes["input"].shape
    lo = -2 if signed else 0
    x = rng.integers(lo, 3, (3, 30, *shape))
    dec = decouple_node(g, "b")
    assert isinstance(dec.nodes["b"], INN.IntLIFB) and dec.nodes["b"].max_burst == 1
    a = simulate(g, x, record="all")
    b = simulate(dec, x, record="all")
    assert np.array_equal(a.outputs["down"], b.outputs["down"])       # downstream input, every step
    assert np.array_equal(a.outputs["output"], b.outputs["output"])
    if not conv:
        assert np.array_equal(a.outputs["out_b"], b.outputs["out_b"])  # payload recombined for the Output


def _simple(**kw):
    rng = np.random.default_rng(0)
    base = dict(n_in=4, n=3, copies=3, leak_mult=64 * 50, theta=640, amps=[0, 1, 2, 3], comparison=">=")
    base.update(kw)
    return _graph(rng, **base)


@pytest.mark.parametrize("change, field_name", [
    (dict(leak_mult=3277), "leak_mult"),      # theta * leak_mult not a multiple of 4096
])
def test_refuses_inexact_parameters(change, field_name):
    g = _simple(**change)
    with pytest.raises(UnsupportedError) as err:
        decouple_node(g, "b")
    msg = str(err.value)
    assert "node 'b'" in msg and f"field '{field_name}'" in msg and "graded-spike mapping" in msg


def test_refuses_hard_reset_and_keeps_graded_mapping():
    g = _simple()
    g.nodes["b"].reset = "zero"
    with pytest.raises(UnsupportedError, match="reset 'zero'.*graded-spike mapping"):
        decouple_node(g, "b")
    out = decouple_burst(g)          # the pass keeps the exact graded node instead
    assert isinstance(out.nodes["b"], INN.IntLIFB) and out.nodes["b"].max_burst == 3


def test_refuses_possible_saturation():
    g = _simple(leak_mult=4096)      # no leak: the membrane bound is infinite
    g.nodes["b"].state_bits = 24
    with pytest.raises(UnsupportedError, match="state_bits"):
        decouple_node(g, "b")


def test_float_lifb_compiles_to_decouplable_integer_node():
    """The lowering aligns leak and threshold so that the count neuron is decouplable."""
    from snnc.passes.targets import make_config
    from snnc.runtime.compile import compile_graph

    rng = np.random.default_rng(1)
    g = Graph(metadata={"dt": 1e-3})
    g.add_node("input", N.Input(shape=(8,)))
    g.add_node("fc", N.Linear(weight=rng.standard_normal((5, 8))))
    g.add_node("b", N.LIFB(shape=(5,), leak=np.array(0.8), v_threshold=np.array(0.5), max_burst=3))
    g.add_node("fc2", N.Linear(weight=rng.standard_normal((2, 5))))
    g.add_node("output", N.Output(shape=(2,)))
    for s, d in [("input", "fc"), ("fc", "b"), ("b", "fc2"), ("fc2", "output")]:
        g.add_edge(s, d)
    low, report = compile_graph(g, make_config("fpga"))
    assert report["nodes"]["b"]["decouplable"] is True
    low.nodes["b"].state_bits = 40     # room for the static bound
    dec = decouple_node(low, "b")
    x = (rng.random((2, 40, 8)) < 0.5).astype(np.int64)
    assert np.array_equal(simulate(low, x).outputs["output"], simulate(dec, x).outputs["output"])
