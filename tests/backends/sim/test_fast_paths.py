"""The simulator's fast paths give the reference results bit for bit: event-driven vs dense
binary synapses (forced on and off), batch chunks of the neuron loops and of the conv im2col,
batch 1 vs batch N, node-major (all T steps of a layer at once) vs step by step, float32 BLAS vs
int64 conv, the proven-identity wraps the LIF kernel skips."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnc.backends.sim import Simulator, events, kernels, ops
from snnc.tests.helper_modules import load

RG = load("backends/fpga/random_int_graphs.py")


def _run(graph, x, **options):
    return Simulator(graph, **options).run(x, record="all", record_states=True)


def _assert_same(a, b, what):
    assert a.outputs.keys() == b.outputs.keys() and a.states.keys() == b.states.keys(), what
    for part in ("outputs", "states"):
        for k, v in getattr(a, part).items():
            w = getattr(b, part)[k]
            assert v.shape == w.shape and np.array_equal(v, w), f"{what}: {part} {k} differs"


def _case(seed):
    g = RG.random_int_graph(seed)
    steps = RG.window_of(g) * 3
    return g, RG.random_inputs(g, seed, batch=3, steps=steps)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000))
def test_fast_paths_equal_reference(seed, monkeypatch):
    g, x = _case(seed)
    ref = _run(g, x, event_driven=False)
    _assert_same(ref, _run(g, x, event_driven=True), "events forced on")
    _assert_same(ref, _run(g, x), "events chosen from activity")
    with monkeypatch.context() as m:            # one sample per neuron chunk, one per conv chunk
        m.setattr(kernels, "CHUNK_ELEMENTS", 1)
        m.setattr(ops, "CONV_CHUNK_ELEMENTS", 1)
        _assert_same(ref, _run(g, x), "batch chunks")
    for b in range(3):                          # batch 1 == row b of batch N
        one = _run(g, {k: v[b:b + 1] for k, v in x.items()})
        for part in ("outputs", "states"):
            for k, v in getattr(one, part).items():
                assert np.array_equal(v[0], getattr(ref, part)[k][b]), f"batch 1, sample {b}: {k}"
    if not any(getattr(k, "whole_window", False) for k in Simulator(g).kernels.values()):
        _assert_same(ref, _run(g, x, step_by_step=True), "step by step")


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(0, 40), n_in=st.integers(1, 30), n_out=st.integers(1, 12),
       density=st.sampled_from([0.0, 0.01, 0.1, 0.5, 1.0]), mag=st.sampled_from([3, 2 ** 20, 2 ** 62]),
       seed=st.integers(0, 2 ** 31))
def test_event_sum_equals_int64_matmul(rows, n_in, n_out, density, mag, seed):
    rng = np.random.default_rng(seed)
    s = rng.random((rows, n_in)) < density
    w = rng.integers(-mag, mag, (n_in, n_out), dtype=np.int64)
    want = s.astype(np.int64) @ w                    # modulo 2**64, like C
    assert np.array_equal(events.event_sum(s, w), want)
    if np.abs(w.astype(np.float64)).sum(axis=0).max(initial=0) < 2 ** 31 - 1:
        assert np.array_equal(events.event_sum(s, w.astype(np.int32)), want)


def test_dense_kernel_takes_every_way_with_identical_sums():
    from snnc.ir import nodes as N
    from snnc.ir.graph import Graph
    from snnc.ir.intnodes import IntDense

    rng = np.random.default_rng(3)
    g = Graph(metadata={"level": "integer"})
    g.add_node("input", N.Input(shape=(64,)))
    g.add_node("fc", IntDense(weight=rng.integers(-128, 128, (16, 64)), acc_bits=32, out_bits=32))
    g.add_node("output", N.Output(shape=(16,)))
    g.add_edge("input", "fc")
    g.add_edge("fc", "output")
    x_sparse = (rng.random((4, 50, 64)) < 0.005).astype(np.int64)
    x_live = np.zeros((4, 50, 64), np.int64)
    x_live[..., :8] = rng.random((4, 50, 8)) < 0.5              # 8 of 64 inputs ever spike
    x_dense = (rng.random((4, 50, 64)) < 0.5).astype(np.int64)
    for x, way in ((x_sparse, "events"), (x_live, "columns"), (x_dense, "dense")):
        sim = Simulator(g)
        got = sim.run(x).outputs["output"]
        assert sim.kernels["fc"].last_way == way
        assert np.array_equal(got, Simulator(g, event_driven=False).run(x).outputs["output"])
        assert np.array_equal(got, Simulator(g, event_driven=True).run(x).outputs["output"])


@pytest.mark.parametrize("groups,stride,pad,dil", [(1, (1, 1), (1, 1), (1, 1)), (2, (2, 1), (0, 2), (1, 2))])
def test_conv_float32_equals_int64(groups, stride, pad, dil):
    rng = np.random.default_rng(4)
    x = rng.integers(-3, 4, (5, 4, 9, 11))
    w = rng.integers(-200, 200, (6, 4 // groups, 3, 3))
    exact = ops.conv2d(x, w, stride, pad, dil, groups, (4, 9, 11))
    fast = ops.conv2d(x, w, stride, pad, dil, groups, (4, 9, 11), compute_dtype=np.float32, out_dtype=np.int64)
    assert exact.dtype == np.int64 and fast.dtype == np.int64 and np.array_equal(exact, fast)


def test_sum_pool_equals_window_sums():
    rng = np.random.default_rng(5)
    x = rng.integers(-50, 50, (2, 3, 3, 7, 8))
    y = ops.sum_pool2d(x, (2, 3), (2, 2), (1, 1), (3, 7, 8))
    xp = np.pad(x, ((0, 0), (0, 0), (0, 0), (1, 1), (1, 1)))
    ho, wo = (9 - 2) // 2 + 1, (10 - 3) // 2 + 1
    want = np.array([[[[[xp[a, b, c, 2 * i:2 * i + 2, 2 * j:2 * j + 3].sum() for j in range(wo)] for i in range(ho)]
                       for c in range(3)] for b in range(3)] for a in range(2)])
    assert np.array_equal(y, want)


def test_step_by_step_refuses_whole_window_nodes():
    from snnc.ir.errors import UnsupportedError

    for seed in range(200):
        g = RG.random_int_graph(seed)
        if any(type(n).__name__ == "IntTimeMix" for n in g.nodes.values()):
            break
    with pytest.raises(UnsupportedError, match="whole-window"):
        Simulator(g, step_by_step=True)
