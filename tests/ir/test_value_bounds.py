"""ir.value_bounds: the one rule per integer node type for "the largest |value| this node can
output". Sound against the simulator on random integer graphs (every node kind, narrow widths
that really wrap and saturate, recurrence, residual edges, delays), exact on hand-made cases,
and what the former callers (LM-HT reparameterisation, Lava planner) use; the RF readout
lowering's use is covered byte for byte by tests/passes/lowering_reference.py."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnc.backends.sim import simulate
from snnc.ir import intneurons as INN
from snnc.ir import intnodes as IN
from snnc.ir import nodes as N
from snnc.ir.graph import Graph
from snnc.ir.value_bounds import node_bound, output_bounds
from snnc.tests.helper_modules import load

REPO = Path(__file__).resolve().parents[2]


RG = load("backends/fpga/random_int_graphs.py")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_bound_is_at_least_what_the_simulator_outputs(seed):
    graph = RG.random_int_graph(seed)
    steps = 3 * RG.window_of(graph) if RG.window_of(graph) > 1 else 16
    x = RG.random_inputs(graph, seed, batch=3, steps=steps)
    bounds = output_bounds(graph, {k: float(np.abs(v).max(initial=0)) for k, v in x.items()})
    trace = simulate(graph, x, record="all")
    for name, out in trace.outputs.items():
        out = np.asarray(out)
        parts = (out.real, out.imag) if np.iscomplexobj(out) else (out,)      # complex synapses: either part
        seen = max(float(np.abs(p.astype(np.float64)).max(initial=0)) for p in parts)
        assert seen <= bounds[name], (seed, name, graph.nodes[name].type_name, seen, bounds[name])


def _dense(w, **kw) -> IN.IntDense:
    return IN.IntDense(weight=np.asarray(w, np.int64), **kw)


def test_dense_rules():
    w = [[3, -4], [1, 1]]
    assert node_bound(_dense(w, input_kind="graded", acc_bits=64, out_bits=64), 10.0) == 70.0
    assert node_bound(_dense(w, input_kind="binary", acc_bits=64, out_bits=64), 10.0) == 7.0      # 1[x != 0]
    assert node_bound(_dense(w, input_kind="graded", acc_bits=6, out_bits=64), 10.0) == 32.0      # wraps in 6 bits
    assert node_bound(_dense(w, input_kind="graded", acc_bits=64, out_bits=64, weight_exp=-2), 10.0) == 70 / 4 + 1
    assert node_bound(_dense(w, input_kind="graded", acc_bits=64, out_bits=5), 10.0) == 16.0
    assert node_bound(_dense(np.zeros((2, 2)), input_kind="graded", acc_bits=64, out_bits=64), math.inf) == 0.0


def test_neuron_and_source_rules():
    lif = IN.IntCubaLIF(shape=(2,), current_mult=np.asarray(0), voltage_mult=np.asarray(4096), threshold=None,
                        v_bits=24)
    assert node_bound(lif, math.inf) == 2.0 ** 23 - 1                  # saturating symmetrically
    lif.metadata["state_bound"] = 1000
    assert node_bound(lif, math.inf) == 1000.0                         # a proven bound wins
    lif.threshold = np.asarray(64)
    assert node_bound(lif, math.inf) == 1.0                            # spikes
    lifb = INN.IntLIFB(shape=(2,), leak_mult=np.asarray(0), threshold=np.asarray(1), threshold_step=np.asarray(1),
                       max_burst=3, amplitudes=np.asarray([0, 2, 5, -9]))
    assert node_bound(lifb, math.inf) == 9.0
    assert node_bound(INN.ConstantSource(shape=(1,), value=np.asarray([-7])), 0.0) == 7.0
    mix = INN.IntTimeMix(coefficients=np.asarray([[4, -4], [1, 0]]), frac_bits=2)
    assert node_bound(mix, 3.0) == 6.0
    assert node_bound(N.SumPool2d(kernel_size=(2, 3), stride=(1, 1), padding=(0, 0)), 2.0) == 12.0


def test_inputs_add_up_and_cycles_count_as_unbounded():
    g = Graph()
    g.add_node("a", N.Input(shape=(2,)))
    g.add_node("b", N.Input(shape=(2,), metadata={"max_abs": 5.0}))
    g.add_node("syn", _dense([[1, 2], [0, 1]], input_kind="graded", acc_bits=64, out_bits=64))
    g.add_node("v", IN.IntCubaLIF(shape=(2,), current_mult=np.asarray(0), voltage_mult=np.asarray(0),
                                  threshold=None, v_bits=16, v_overflow="wrap"))
    g.add_node("loop", _dense([[1, 0], [0, 1]], input_kind="graded", acc_bits=64, out_bits=64))
    g.add_node("out", N.Output(shape=(2,)))
    for s, d, k in [("a", "syn", 0), ("b", "syn", 0), ("syn", "v", 0), ("v", "loop", 0), ("loop", "v", 1),
                    ("v", "out", 0)]:
        g.add_edge(s, d, k)
    b = output_bounds(g, {"a": 2.0})
    assert b["a"] == 2.0 and b["b"] == 5.0 and b["syn"] == 3 * 7.0      # 2 + 5 on one synapse
    assert b["v"] == 2.0 ** 15 and b["loop"] == 2.0 ** 15 and b["out"] == b["v"]


def _compiled(target: str, model: str = "digits_lifb.nir") -> Graph:
    import snnc
    from snnc.passes.targets import make_config
    from snnc.runtime.compile import compile_graph

    return compile_graph(snnc.load(str(REPO / "examples" / "models" / model)), make_config(target))[0]


def test_the_lava_planner_uses_the_shared_bounds():
    from snnc.backends.lava.mapping import _Planner

    for model in ("digits_lifb.nir", "digits_lmht.nir", "digits_clif.nir"):
        g = _compiled("loihi2", model)
        planner = _Planner(g)
        expected = output_bounds(g, {n: float(planner._input_bound(n, g.nodes[n])) for n in g.input_names()})
        assert {n: planner.payload_max(n) for n in g.nodes} == expected


def test_the_reparameterisation_uses_the_shared_bounds():
    from snnc.passes.reparam_lmht import membrane_bound

    g = _compiled("fpga", "digits_lmht.nir")
    bounds = output_bounds(g)
    for name, node in g.nodes.items():
        if isinstance(node, INN.IntLMHT):
            assert membrane_bound(g, name) == membrane_bound(g, name, bounds)
            lam = int(node.leak_mult) / 2.0 ** node.decay_bits
            b_in = sum(bounds[e.src] for e in g.in_edges(name))
            if not node.window and lam < 1:
                assert membrane_bound(g, name) == abs(int(node.v_init)) + b_in / (1 - lam)


def _lif_state_bounds(node: IN.IntCubaLIF, a: float) -> tuple[float, float]:
    """The LIF state bounds of passes/check_ranges' docstring for an input bound ``a``."""
    a *= 2 ** node.input_shift
    full = 2 ** node.decay_bits
    cur, vol = float(np.max(node.current_mult)), float(np.max(node.voltage_mult))
    u = a / (1 - cur / full) if cur < full else (0.0 if a == 0 else math.inf)
    bias = float(np.abs(np.asarray(0 if node.bias is None else node.bias)).max())
    v = (u + bias) / (1 - vol / full) if vol < full else (0.0 if u + bias == 0 else math.inf)
    if "state_bound" in node.metadata:
        u, v = min(u, float(node.metadata["state_bound"])), min(v, float(node.metadata["state_bound"]))
    return u, v


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_check_ranges_reports_the_shared_bounds(seed):
    """check_ranges bounds each LIF's input by the sum of output_bounds over its incoming edges
    (no bound of its own), reports the resulting u/v bounds, and where it says 'none' the
    simulator's states stay within them."""
    from snnc.passes.check_ranges import check_ranges
    from snnc.passes.pipeline import CompileContext
    from snnc.passes.targets import make_config

    graph = RG.random_int_graph(seed)
    steps = 3 * RG.window_of(graph) if RG.window_of(graph) > 1 else 16
    x = RG.random_inputs(graph, seed, batch=3, steps=steps)
    for name, values in x.items():                   # what check_ranges assumes of the inputs
        graph.nodes[name].metadata["max_abs"] = float(np.abs(values).max(initial=0))
    ctx = CompileContext(config=make_config("sim"))
    check_ranges(graph, ctx)
    bounds = output_bounds(graph)
    trace = simulate(graph, x, record="all", record_states=True)
    for name, node in graph.nodes.items():
        if not isinstance(node, IN.IntCubaLIF):
            assert "u_bound" not in ctx.report.get(name, {})
            continue
        u, v = _lif_state_bounds(node, sum(bounds[e.src] for e in graph.in_edges(name)))
        found = ctx.report[name]
        assert found["u_bound"] == (None if math.isinf(u) else int(u)), (seed, name)
        assert found["v_bound"] == (None if math.isinf(v) else int(v)), (seed, name)
        if found["overflow"] == "none":
            assert np.abs(trace.states[f"{name}.u"]).max(initial=0) <= found["u_bound"], (seed, name)
            assert np.abs(trace.states[f"{name}.v"]).max(initial=0) <= found["v_bound"], (seed, name)


def test_check_ranges_bounds_the_seed_neuron_readouts():
    """The seed-neuron readouts (non-spiking IntCubaLIF after CLIF / LM-HT / LIFB layers) had no
    bound before check_ranges used ir.value_bounds; they have finite, proven ones now."""
    import snnc
    from snnc.passes.targets import make_config
    from snnc.runtime.compile import compile_graph

    _, report = compile_graph(snnc.load(str(REPO / "examples" / "models" / "digits_clif.nir")), make_config("fpga"))
    readout = report["nodes"]["readout"]
    assert readout["overflow"] == "none" and readout["u_bound"] == 193408 and readout["v_bound"] is not None
    assert "readout" not in report["totals"]["overflow_possible"]
