"""lava-dl 0.6.0's netx ground truth on Lava (Loihi2SimCfg fixed_pt), in the Lava env.

Same data and graphs as tests/frontend/test_netx_ground_truth.py (which checks the snnc
simulator and the generated C): here snnc's emitted Lava network reproduces the ground truth and
equals the simulator on every output and state at every step; and lava-nc's own processes
(Dense, RF, RF_IZ) built as netx's ComplexDense / ComplexInput blocks build them reproduce it
too, so the RF readings of the data are Lava's, not ours.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("lava")

from snnc.backends.lava.run import run_lava  # noqa: E402
from snnc.backends.sim import simulate  # noqa: E402
from snnc.frontend.netx_blocks import complex_dense_block, complex_input_block, dense_block  # noqa: E402
from snnc.frontend.netx_import import load_net  # noqa: E402
from snnc.ir.netx_rules import lava_dense_weights  # noqa: E402
from snnc.tests.helper_modules import load  # noqa: E402

STEPS = 400
LG = load("backends/lava/lava_graphs.py")


@pytest.fixture(scope="module")
def gt(netx_ground_truth):
    """lava-dl 0.6.0's netx test data (tests/conftest.py)."""
    return netx_ground_truth


def _run_rf(data: np.ndarray, rf, *inports) -> np.ndarray:
    """Send ``data`` [n, T] from a RingBuffer into ``inports``, run ``rf``'s network for T steps
    on Loihi2SimCfg fixed_pt, return the spikes of ``rf.s_out`` [n, T]."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source

    src = Source(data=data)
    for port in inports:
        src.s_out.connect(port)
    sink = Sink(shape=rf.s_out.shape, buffer=data.shape[1])
    rf.s_out.connect(sink.a_in)
    try:
        rf.run(condition=RunSteps(num_steps=data.shape[1]), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        return sink.data.get().astype(np.int64)
    finally:
        rf.stop()


def _lava_equals_sim(graph, inputs):
    """Run the emitted Lava network; it must equal the simulator on every output and state."""
    lava = run_lava(graph, inputs, record="all", record_states=True)
    LG.assert_bit_exact(lava, graph, inputs)
    return lava


def test_tinynet_on_lava(gt, tmp_path):
    bias = gt.npy("gts/tinynet/input_bias.npy")
    g = load_net(gt.extract("tiny.net", tmp_path), input_bias=bias.transpose(2, 1, 0).astype(np.int64),
                 reset_interval=17, reset_offset=0)
    x = np.zeros((1, 20) + tuple(g.nodes["input"].shape), np.int64)
    lava = _lava_equals_sim(g, {"input": x})
    out = np.moveaxis(lava.outputs["output"][0], 0, -1)
    assert np.array_equal(out[..., 2:17], gt.npy("gts/tinynet/output.npy")[0][..., 1:].astype(np.int64))


def test_dense_block_on_lava(gt):
    g = dense_block(gt.npy("gts/dense/weight.npy"), vth=6, du=4095, dv=415, bias_exp=6)
    x = gt.npy("gts/dense/in.npy").T[None, :STEPS].astype(np.int64)
    lava = _lava_equals_sim(g, {"input": x})
    assert np.array_equal(lava.outputs["neuron"][0].T, gt.npy("gts/dense/out.npy")[:, :STEPS].astype(np.int64))


@pytest.mark.parametrize("neuron", ["RF", "RF_IZ"])
def test_complex_dense_block_on_lava(gt, neuron):
    """RF: the ground truth; RF_IZ (no ground truth for this block): snnc's emitted SnncRF with
    the 'iz' rule equals the simulator, outputs and states."""
    g = complex_dense_block(gt.npy("gts/complex_dense/weight_r.npy"), gt.npy("gts/complex_dense/weight_img.npy"),
                            vth=25, period=11, alpha=.05, state_exp=6, decay_bits=12, neuron=neuron)
    x = gt.npy("gts/complex_dense/in.npy").T[None, :STEPS].astype(np.int64)
    lava = _lava_equals_sim(g, {"input": x})
    assert lava.outputs["neuron"].sum() > 0
    if neuron == "RF":
        want = gt.npy("gts/complex_dense/out.npy")[:, :STEPS].astype(np.int64)
        assert np.array_equal(lava.outputs["neuron"][0].T, want)


def test_lava_own_rf_iz_process_reproduces_the_input_block_data(gt):
    """netx's ComplexInput block = the input port connected to both inputs of a lava RF_IZ; the
    snnc graph's RF_IZ rule equals it (its delay-0 identity synapse has no Lava counterpart, so
    this case is checked against Lava's own process, not snnc's emitted network)."""
    from lava.proc.rf_iz.process import RF_IZ

    data = gt.npy("gts/complex_dense/in.npy")[:, :STEPS]
    rf = RF_IZ(shape=(data.shape[0],), vth=1.1, period=7, alpha=.05, state_exp=6, decay_bits=12)
    spikes = _run_rf(data, rf, rf.a_real_in, rf.a_imag_in)
    want = gt.npy("gts/complex_dense/current.npy")[:, :STEPS].astype(np.int64)
    assert np.array_equal(spikes.astype(np.int64), want)
    g = complex_input_block(data.shape[0], vth=1.1, period=7, alpha=.05, state_exp=6, decay_bits=12)
    ref = simulate(g, {"input": data.T[None].astype(np.int64)})
    assert np.array_equal(ref.outputs["output"][0].T, want)


def test_lava_own_rf_processes_reproduce_the_data(gt):
    """netx's ComplexDense block = two lava Dense (num_weight_bits 8, weight_exp 0) into a lava RF;
    built here from lava-nc's processes directly (lava-dl itself is not installed)."""
    from lava.proc.dense.process import Dense
    from lava.proc.rf.process import RF

    wr, wi = gt.npy("gts/complex_dense/weight_r.npy"), gt.npy("gts/complex_dense/weight_img.npy")
    data = gt.npy("gts/complex_dense/in.npy")[:, :STEPS]
    real, imag = Dense(weights=wr, num_weight_bits=8), Dense(weights=wi, num_weight_bits=8)
    rf = RF(shape=(wr.shape[0],), vth=25, period=11, alpha=.05, state_exp=6, decay_bits=12)
    real.a_out.connect(rf.a_real_in)
    imag.a_out.connect(rf.a_imag_in)
    spikes = _run_rf(data, rf, real.s_in, imag.s_in)
    assert np.array_equal(spikes.astype(np.int64), gt.npy("gts/complex_dense/out.npy")[:, :STEPS].astype(np.int64))
    # and snnc's truncation of the block's weights is Lava Dense's
    assert np.array_equal(lava_dense_weights(wr.astype(np.int64), 8)[0], wr.astype(np.int64))
