"""BN folding is exact in float: the simulated graph before and after agree to rounding."""

from __future__ import annotations

import numpy as np
import pytest

from snnc.backends.sim import simulate
from snnc.ir import nodes as N
from snnc.ir.graph import Graph
from snnc.passes.fold_batchnorm import fold_batchnorm

RNG = np.random.default_rng(7)


def _bn(c):
    return N.BatchNorm(mean=RNG.standard_normal(c), var=RNG.random(c) + 0.1, weight=RNG.standard_normal(c),
                       bias=RNG.standard_normal(c), eps=1e-5)


def _lif(shape):
    return N.DiscreteLIF(shape=shape, voltage_decay=np.array(0.8), current_gain=np.array(1.0),
                         input_gain=np.array(1.0), v_threshold=np.array(0.7), v_reset=np.array(0.0))


def _conv_graph(variant: str):
    g = Graph()
    g.add_node("input", N.Input(shape=(2, 6, 6)))
    bias = RNG.standard_normal(3) if variant == "conv_bias" else None
    g.add_node("conv", N.Conv2d(input_shape=(6, 6), weight=RNG.standard_normal((3, 2, 3, 3)), padding=(1, 1),
                                bias=bias))
    g.add_node("bn", _bn(3))
    g.add_node("lif", _lif((3, 6, 6)))
    g.add_node("output", N.Output(shape=(3, 6, 6)))
    for s, d in [("input", "conv"), ("conv", "bn"), ("bn", "lif"), ("lif", "output")]:
        g.add_edge(s, d)
    return g


def _compare(g, x):
    a = simulate(g, x, record="outputs", record_states=True)
    b = simulate(fold_batchnorm(g), x, record="outputs", record_states=True)
    for k in a.states:
        np.testing.assert_allclose(a.states[k], b.states[k], rtol=1e-9, atol=1e-9)
    for k in a.outputs:
        assert np.array_equal(a.outputs[k], b.outputs[k])


@pytest.mark.parametrize("variant", ["conv", "conv_bias"])
def test_fold_into_conv(variant):
    g = _conv_graph(variant)
    folded = fold_batchnorm(g)
    assert not any(isinstance(n, N.BatchNorm) for n in folded.nodes.values())
    assert "bn" not in folded.nodes
    _compare(g, RNG.standard_normal((3, 10, 2, 6, 6)))


def test_fold_into_linear_and_residual_sum():
    """BN after the sum of two linear branches: both scaled, the shift added once."""
    g = Graph()
    g.add_node("input", N.Input(shape=(5,)))
    g.add_node("a", N.Linear(weight=RNG.standard_normal((4, 5))))
    g.add_node("b", N.Affine(weight=RNG.standard_normal((4, 5)), bias=RNG.standard_normal(4)))
    g.add_node("bn", _bn(4))
    g.add_node("lif", _lif((4,)))
    g.add_node("output", N.Output(shape=(4,)))
    for s, d in [("input", "a"), ("input", "b"), ("a", "bn"), ("b", "bn"), ("bn", "lif"), ("lif", "output")]:
        g.add_edge(s, d)
    _compare(g, RNG.standard_normal((2, 12, 5)))
    assert "bn" not in fold_batchnorm(g).nodes


def test_bn_after_identity_branch_becomes_depthwise_synapse():
    """PreAct-ResNet shape: BN on (spikes + conv); the identity branch cannot absorb it."""
    g = Graph()
    g.add_node("input", N.Input(shape=(3, 5, 5)))
    g.add_node("conv", N.Conv2d(input_shape=(5, 5), weight=RNG.standard_normal((3, 3, 3, 3)), padding=(1, 1),
                                bias=None))
    g.add_node("bn", _bn(3))
    g.add_node("lif", _lif((3, 5, 5)))
    g.add_node("output", N.Output(shape=(3, 5, 5)))
    for s, d in [("input", "conv"), ("input", "bn"), ("conv", "bn"), ("bn", "lif"), ("lif", "output")]:
        g.add_edge(s, d)
    folded = fold_batchnorm(g)
    assert isinstance(folded.nodes["bn"], N.Conv2d) and folded.nodes["bn"].groups == 3
    _compare(g, RNG.standard_normal((2, 6, 3, 5, 5)))
