"""fold_pooling / fold_spike_pooling: the folded graph computes the same values as the original
(exactly, on dyadic weights and integer inputs, where float64 sums are exact; to 1e-12 on random
floats), and the loihi2 pipeline compiles a Sinabs CNN with SumPool2d on its spike paths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import snnc
from snnc.backends.sim import simulate
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.graph import Graph
from snnc.passes import discretize
from snnc.passes.fold_pooling import fold_pooling, fold_spike_pooling


def _lif(shape):
    return N.DiscreteLIF(shape=shape, voltage_decay=np.array(0.5), current_gain=np.array(1.0),
                         input_gain=np.array(1.0), v_threshold=np.array(1.0), reset="subtract")


def _conv(rng, c_out, c_in, k, stride=1, padding=0, dilation=1, dyadic=True):
    w = rng.integers(-8, 9, (c_out, c_in, k, k)) / 8.0 if dyadic else rng.standard_normal((c_out, c_in, k, k))
    b = rng.integers(-4, 5, c_out) / 8.0 if dyadic else rng.standard_normal(c_out)
    return N.Conv2d(input_shape=None, weight=w, stride=(stride, stride), padding=(padding, padding),
                    dilation=(dilation, dilation), bias=b)


def _pool(kind, k, q):
    return (N.AvgPool2d if kind == "avg" else N.SumPool2d)(kernel_size=(k, k), stride=(q, q))


def _graph(chain, in_shape) -> Graph:
    g = Graph(metadata={"dt": 1e-3})
    g.add_node("x", N.Input(shape=in_shape))
    prev = "x"
    for name, node in chain:
        g.add_node(name, node)
        g.add_edge(prev, name)
        prev = name
    g.add_node("y", N.Output(shape=()))
    g.add_edge(prev, "y")
    return snnc.ir.shapes.annotate_shapes(g)


def _values(g, x):
    return simulate(g, x, record="all")


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), kind=st.sampled_from(["avg", "sum"]), k=st.integers(1, 3), q=st.integers(1, 3),
       K=st.integers(1, 3), s=st.integers(1, 2), pad=st.integers(0, 1), dil=st.integers(1, 2))
def test_fold_pooling_into_conv_is_exact(seed, kind, k, q, K, s, pad, dil):
    """Conv -> pool -> neuron == folded Conv -> neuron: every value of every step, exactly."""
    rng = np.random.default_rng(seed)
    H = 9
    conv = _conv(rng, 3, 2, K, s, pad, dil)
    try:
        shape = snnc.ir.shapes.infer_shapes(_graph([("c", conv), ("p", _pool(kind, k, q))], (2, H, H)))["p"]
    except snnc.SnncError:
        return   # kernel larger than the map: nothing to fold
    g = _graph([("c", conv), ("p", _pool(kind, k, q)), ("n", _lif(shape))], (2, H, H))
    folded = fold_pooling(g)
    assert "p" not in folded.nodes and folded.nodes["c"].metadata["folded_pool"] == "p"
    x = rng.integers(-2, 3, (2, 6, 2, H, H)).astype(np.float64)
    a, b = _values(g, x), _values(folded, x)
    if kind == "avg" and k == 3:     # 1/9 is not dyadic: equal up to float64 rounding
        np.testing.assert_allclose(b.outputs["c"], a.outputs["p"], rtol=1e-12, atol=1e-12)
        return
    assert np.array_equal(a.outputs["p"], b.outputs["c"])
    assert np.array_equal(a.outputs["n"], b.outputs["n"])


def test_fold_pooling_random_floats():
    rng = np.random.default_rng(1)
    g = _graph([("c", _conv(rng, 4, 2, 3, dyadic=False)), ("p", _pool("avg", 2, 2)), ("n", _lif((4, 5, 5)))],
               (2, 12, 12))
    x = rng.standard_normal((3, 5, 2, 12, 12))
    a, b = _values(g, x).outputs, _values(fold_pooling(g), x).outputs
    np.testing.assert_allclose(b["c"], a["p"], rtol=1e-12, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), kind=st.sampled_from(["avg", "sum"]), k=st.integers(1, 3), q=st.integers(1, 3),
       K=st.integers(1, 3), s=st.integers(1, 2), dil=st.integers(1, 2))
def test_fold_spike_pooling_into_conv_is_exact(seed, kind, k, q, K, s, dil):
    rng = np.random.default_rng(seed)
    H = 9
    try:
        g = _graph([("n0", _lif((2, H, H))), ("p", _pool(kind, k, q)), ("c", _conv(rng, 3, 2, K, s, 0, dil))],
                   (2, H, H))
    except snnc.SnncError:
        return
    folded = fold_spike_pooling(g)
    assert "p" not in folded.nodes
    x = (rng.random((2, 6, 2, H, H)) < 0.6) * 2.0
    if kind == "avg" and k == 3:
        np.testing.assert_allclose(_values(folded, x).outputs["c"], _values(g, x).outputs["c"], rtol=1e-12, atol=1e-12)
        return
    assert np.array_equal(_values(g, x).outputs["c"], _values(folded, x).outputs["c"])


def test_fold_spike_pooling_padded_conv_and_flatten_linear():
    rng = np.random.default_rng(3)
    lin = N.Affine(weight=rng.integers(-8, 9, (5, 3 * 3 * 3)) / 8.0, bias=np.ones(5) / 4)
    g = _graph([("n0", _lif((2, 12, 12))), ("p", _pool("avg", 2, 2)), ("c", _conv(rng, 3, 2, 3, 1, 1)),
                ("n1", _lif((3, 6, 6))), ("p2", _pool("sum", 2, 2)), ("f", N.Flatten(input_shape=None)), ("l", lin)],
               (2, 12, 12))
    folded = fold_spike_pooling(g)
    assert not any(isinstance(n, (N.AvgPool2d, N.SumPool2d)) for n in folded.nodes.values())
    x = (rng.random((2, 8, 2, 12, 12)) < 0.6) * 3.0
    a, b = _values(g, x).outputs, _values(folded, x).outputs
    assert np.array_equal(a["c"], b["c"]) and np.array_equal(a["l"], b["l"])


def test_padded_pool_refused_with_hint():
    g = _graph([("c", _conv(np.random.default_rng(0), 2, 2, 3)),
                ("p", N.AvgPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(1, 1))), ("n", _lif((2, 5, 5)))],
               (2, 10, 10))
    with pytest.raises(UnsupportedError, match="padded pool.*use padding 0"):
        fold_pooling(g)


def test_cnn_sinabs_loihi2_folds_sumpool_exactly(shared_models):
    """cnn_sinabs.nir (SumPool2d between IF neurons and the next conv) compiles for loihi2 with
    no pooling node left, and the folded float graph spikes exactly like the unfolded one."""
    from snnc.passes.targets import make_config
    from snnc.runtime.compile import compile_graph

    graph = snnc.load(shared_models / "cnn_sinabs.nir")
    assert any(isinstance(n, N.SumPool2d) for n in graph.nodes.values())
    lowered, report = compile_graph(graph, make_config("loihi2"))
    assert "fold_spike_pooling" in report["pipeline"]
    assert not any("Pool" in n.type_name for n in lowered.nodes.values())
    d = discretize(graph)
    x = (np.random.default_rng(0).random((2, 12, 2, 34, 34)) < 0.15).astype(np.float64)
    a, b = simulate(d, x, record="all").outputs, simulate(fold_spike_pooling(d), x, record="all").outputs
    spiking = [n for n, node in d.nodes.items() if node.metadata.get("discretized_from") == "IF"]
    assert sum(a[n].sum() for n in spiking) > 0
    for n in spiking + d.output_names():
        assert np.array_equal(a[n], b[n]), n


def test_fold_linear_merges_dense_chain():
    """Affine -> Linear -> neuron (Norse's Linear -> LIFRecurrentCell) becomes one Affine, exactly
    on dyadic weights."""
    from snnc.passes.fold_linear import fold_linear

    rng = np.random.default_rng(4)
    a = N.Affine(weight=rng.integers(-8, 9, (5, 4)) / 8.0, bias=rng.integers(-4, 5, 5) / 8.0)
    b = N.Linear(weight=rng.integers(-8, 9, (3, 5)) / 8.0)
    g = _graph([("a", a), ("b", b), ("n", _lif((3,)))], (4,))
    folded = fold_linear(g)
    assert "a" not in folded.nodes and isinstance(folded.nodes["b"], N.Affine)
    x = rng.integers(-3, 4, (2, 7, 4)).astype(np.float64)
    assert np.array_equal(_values(g, x).outputs["b"], _values(folded, x).outputs["b"])


def test_fold_spike_pooling_keeps_complex_weights():
    """A complex synapse (an S5-RF input layer) after a pool: the fold is linear, so it must fold the
    real and imaginary parts alike (casting to float would drop the imaginary part silently)."""
    rng = np.random.default_rng(5)
    re, im = rng.integers(-8, 9, (4, 2 * 3 * 3)) / 8.0, rng.integers(-8, 9, (4, 2 * 3 * 3)) / 8.0

    def folded_weight(w):
        g = _graph([("n0", _lif((2, 6, 6))), ("p", _pool("sum", 2, 2)), ("f", N.Flatten(input_shape=None)),
                    ("l", N.Linear(weight=w))], (2, 6, 6))
        return fold_spike_pooling(g).nodes["l"].weight

    w = folded_weight(re + 1j * im)
    assert np.iscomplexobj(w)
    assert np.array_equal(w.real, folded_weight(re)) and np.array_equal(w.imag, folded_weight(im))
