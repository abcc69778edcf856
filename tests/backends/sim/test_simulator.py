"""Simulator semantics: edge delays, recurrent schedule, node-major == step-major."""

from __future__ import annotations

import numpy as np

import snnc
from snnc.backends.sim import simulate
from snnc.ir import nodes as N
from snnc.ir.graph import Graph
from snnc.passes import discretize


def _lif(n, thr=1.0, beta=0.9):
    return N.DiscreteLIF(shape=(n,), voltage_decay=np.array(beta), current_gain=np.array(1.0),
                         input_gain=np.array(1.0), v_threshold=np.array(thr), v_reset=np.array(0.0))


def test_edge_delay_shifts_output():
    g = Graph()
    g.add_node("input", N.Input(shape=(3,)))
    g.add_node("output", N.Output(shape=(3,)))
    g.add_edge("input", "output", delay=2)
    x = np.random.default_rng(0).random((2, 6, 3))
    y = simulate(g, x).outputs["output"]
    assert np.array_equal(y[:, 2:], x[:, :-2]) and not y[:, :2].any()


def test_recurrent_graph_matches_hand_loop():
    rng = np.random.default_rng(3)
    w_in, w_rec = rng.standard_normal((5, 4)), rng.standard_normal((5, 5))
    g = Graph()
    g.add_node("input", N.Input(shape=(4,)))
    g.add_node("fc", N.Linear(weight=w_in))
    g.add_node("lif", _lif(5))
    g.add_node("rec", N.Linear(weight=w_rec))
    g.add_node("output", N.Output(shape=(5,)))
    for s, d, delay in [("input", "fc", 0), ("fc", "lif", 0), ("lif", "rec", 0), ("rec", "lif", 1),
                        ("lif", "output", 0)]:
        g.add_edge(s, d, delay)
    x = (rng.random((3, 20, 4)) < 0.5).astype(float)
    tr = simulate(g, x, record_states=True)
    v = np.zeros((3, 5))
    z = np.zeros((3, 5))
    for t in range(20):
        h = 0.9 * v + x[:, t] @ w_in.T + z @ w_rec.T
        z = (h > 1.0).astype(float)
        v = np.where(z > 0, 0.0, h)
        assert np.array_equal(tr.outputs["output"][:, t], z)
        np.testing.assert_allclose(tr.states["lif.v"][:, t], v, rtol=0, atol=1e-12)


def test_step_major_equals_node_major(shared_models):
    """Adding a self-loop of zero weight forces the step-by-step schedule; results must not change."""
    g = discretize(snnc.load(shared_models / "cnn_sinabs.nir"))
    x = (np.random.default_rng(0).random((2, 8, 2, 34, 34)) < 0.2).astype(float)
    ref = simulate(g, x, record="all")
    g2 = g.copy()
    g2.add_node("zero", N.Linear(weight=np.zeros((256, 256))))
    g2.add_edge("10", "zero", 0)
    g2.add_edge("zero", "10", 1)
    out = simulate(g2, x, record="all")
    for name in g.nodes:
        assert np.array_equal(ref.outputs[name], out.outputs[name]), name


def test_cycle_without_delay_is_an_error():
    g = Graph()
    g.add_node("input", N.Input(shape=(2,)))
    g.add_node("a", N.Linear(weight=np.eye(2)))
    g.add_node("b", N.Linear(weight=np.eye(2)))
    g.add_edge("input", "a")
    g.add_edge("a", "b")
    g.add_edge("b", "a")
    try:
        simulate(g, np.zeros((1, 2, 2)))
    except snnc.SnncError as exc:
        assert "cycle without delay" in str(exc) and "a" in str(exc)
    else:
        raise AssertionError("expected an error")
