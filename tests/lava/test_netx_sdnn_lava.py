"""Sigma-delta (SDNN) graphs on Lava (Loihi2SimCfg fixed_pt), in the Lava env: snnc's emitted
network uses Lava's own ``Delta`` / ``SigmaDelta`` / ``Sigma`` processes (chip models exist) and
equals the simulator on every output and state at every step; it reproduces lava-dl 0.6.0's
``tinynet_sdnn`` and ``pilotnet_sdnn`` ground truth (tests/frontend/test_netx_sdnn.py checks the
simulator and C on the same data). PilotNet runs a few steps only (Lava's CPU simulation)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("lava")

from snnc.backends.lava.mapping import plan_network  # noqa: E402
from snnc.backends.lava.run import run_lava  # noqa: E402
from snnc.frontend.netx_blocks import sdn_conv_block, sdn_dense_block, sdn_input_block  # noqa: E402
from snnc.frontend.netx_import import load_net  # noqa: E402
from snnc.tests.helper_modules import load  # noqa: E402

LG = load("backends/lava/lava_graphs.py")


@pytest.fixture(scope="module")
def gt(netx_ground_truth):
    return netx_ground_truth


def _snnc(lava: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(lava.transpose(tuple(range(lava.ndim))[::-1]))[None].astype(np.int64)


def _lava(trace: np.ndarray) -> np.ndarray:
    return trace.transpose(tuple(range(trace.ndim))[::-1])


def _lava_equals_sim(graph, inputs):
    classes = {p.cls for p in plan_network(graph).procs.values()}
    assert not any(c.startswith("Snnc") for c in classes), classes      # Lava's own processes only
    lava = run_lava(graph, inputs, record="all", record_states=True)
    LG.assert_bit_exact(lava, graph, inputs)
    return lava


def test_tinynet_sdnn_blocks_on_lava(gt):
    steps = 15
    bias = gt.npy("gts/tinynet_sdnn/input_bias.npy")
    data = (np.repeat(bias[..., None], steps, axis=3) * np.sin(2 * np.pi * np.arange(steps) / steps)).astype(int)
    lava = _lava_equals_sim(sdn_input_block((3, 16, 16), vth=20, spike_exp=6, state_exp=6),
                            {"input": _snnc(data)})
    assert np.array_equal(_lava(lava.outputs["output"][0]), gt.npy("gts/tinynet_sdnn/input.npy").astype(np.int64))

    g = sdn_conv_block(gt.npy("gts/tinynet_sdnn/layer1_kernel.npy"), input_shape=(16, 16, 3), shape=(6, 6, 24),
                       stride=2, vth=20, spike_exp=6, state_exp=6, bias=gt.npy("gts/tinynet_sdnn/layer1_bias.npy"))
    x = _snnc(gt.npy("gts/tinynet_sdnn/input.npy"))[:, :3]
    lava = _lava_equals_sim(g, {"input": x})
    assert np.array_equal(_lava(lava.outputs["output"][0])[..., 0],
                          gt.npy("gts/tinynet_sdnn/layer1.npy")[..., 0].astype(np.int64))

    g = sdn_dense_block(gt.npy("gts/tinynet_sdnn/layer2_weight.npy"))
    lava = _lava_equals_sim(g, {"input": _snnc(gt.npy("gts/tinynet_sdnn/layer1.npy").reshape([-1, 16]))})
    assert np.array_equal(_lava(lava.outputs["output"][0]), gt.npy("gts/tinynet_sdnn/layer2.npy").astype(np.int64))


def test_pilotnet_sdnn_on_lava(gt, tmp_path):
    g = load_net(gt.extract("gts/pilotnet_sdnn/network.net", tmp_path))
    steps = 4
    x = np.repeat(_snnc(gt.npy("gts/pilotnet_sdnn/input.npy")), steps, axis=1)
    lava = _lava_equals_sim(g, {"input": x})
    assert np.array_equal(lava.outputs["output"][0].T, gt.npy("gts/pilotnet_sdnn/output.npy")[:, :steps])


def test_sdnn_unscaled_arguments_on_lava():
    """Thresholds and biases that are not multiples of 2**(spike_exp + state_exp) (an IR graph not
    from netx): handed to Lava's constructors as exact floats."""
    from snnc.ir import nodes as N
    from snnc.ir.graph import Graph
    from snnc.ir.intnodes import IntDense
    from snnc.ir.intsdn import IntDelta, IntSigmaDelta
    from snnc.ir.netx_rules import lava_dense_weights

    rng = np.random.default_rng(0)
    w = lava_dense_weights(rng.integers(-40, 40, (4, 5)) * 2, 8)[0]
    g = Graph(metadata={"level": "integer", "target": "loihi2"})
    g.add_node("input", N.Input(shape=(5,)))
    g.add_node("delta", IntDelta(shape=(5,), vth=np.int64(37), spike_exp=2, state_exp=3))
    g.add_node("dense", IntDense(weight=w, input_kind="graded", acc_bits=32, out_bits=32))
    g.add_node("sd", IntSigmaDelta(shape=(4,), vth=np.int64(101), bias=rng.integers(-300, 300, 4), spike_exp=2,
                                   state_exp=3, act_mode="unit", cum_error=True))
    g.add_node("output", N.Output(shape=(4,)))
    for a, b, d in (("input", "delta", 0), ("delta", "dense", 0), ("dense", "sd", 1), ("sd", "output", 0)):
        g.add_edge(a, b, d)
    _lava_equals_sim(g, {"input": rng.integers(-50, 50, (1, 12, 5))})
