"""lava-dl 0.6.0's own netx ground truth, reproduced bit for bit by snnc.

The data come from the lava-dl 0.6.0 wheel's tests (downloaded and sha256-checked in set-up,
never committed: tests/data_sources/lavadl_wheel.py). Each test mirrors one lava-dl test and
compares exactly as it does, with ``np.array_equal`` on integer arrays:

* ``test_hdf5.py::test_tinynet``: ``tiny.net`` (input layer with a CUBA neuron, two conv layers),
  the input neuron's ``bias_mant`` set from ``gts/tinynet/input_bias.npy``, each layer i reset
  (u, v) every 17 steps after ``time_step`` i (lava ``io.reset.Reset(interval=17, offset=i-1)``
  = netx's ``reset_interval=17, reset_offset=0``), output steps 2..16 vs ``output.npy[..., 1:]``;
  and the input layer's spikes vs ``gts/tinynet/input.npy`` (``test_blocks.py::test_input``,
  one step of offset, as there);
* ``test_blocks.py::TestLIFBlocks::test_dense``: ``gts/dense`` (Dense block, LIF vth 6, du 4095,
  dv 415, 2000 steps): spikes vs ``out.npy``; the neuron current ``u`` vs ``current.npy * 64``
  at every step as well;
* ``test_blocks.py::TestRFBlocks::test_dense``: ``gts/complex_dense`` (ComplexDense block, phase RF
  vth 25, period 11, alpha 0.05, state_exp 6, decay_bits 12): spikes vs ``out.npy``, from the
  block builder and from a ``.net`` file holding the same layer;
* ``test_blocks.py::TestRFBlocks::test_input``: ``gts/complex_dense`` (ComplexInput block, RF_IZ
  vth 1.1, period 7, alpha 0.05, state_exp 6, decay_bits 12): spikes vs ``current.npy``.

The simulator is checked against the data, and the generated C against the simulator (all
outputs and states). Lava itself on the same graphs: tests/lava/test_netx_ground_truth_lava.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc.backends.sim import simulate
from snnc.frontend.netx_blocks import complex_dense_block, complex_input_block, dense_block, lava_rf_decays
from snnc.frontend.netx_import import load_net
from snnc.ir.errors import ParameterError, ShapeError, UnsupportedError
from snnc.ir.intneurons import IntRF


@pytest.fixture(scope="module")
def gt(netx_ground_truth):
    """lava-dl 0.6.0's netx test data (tests/conftest.py)."""
    return netx_ground_truth


def _sink_layout(trace_bt: np.ndarray) -> np.ndarray:
    """snnc [T, n] (one sample) -> a Lava sink's [n, T]."""
    return np.moveaxis(trace_bt, 0, -1)


def _c_equals_sim(graph, inputs, ref):
    """The generated C equals the simulator trace ``ref`` (snnc verify's exact comparison)."""
    from snnc.backends.fpga.run import run_fpga
    from snnc.runtime.verify import compare_traces

    cmp = compare_traces({"sim": ref, "fpga": run_fpga(graph, inputs, record="all", record_states=True)})
    assert cmp.bit_exact, cmp.first_mismatch            # bit_exact: zero mismatches, compared > 0


def test_tinynet(gt, tmp_path):
    net = gt.extract("tiny.net", tmp_path)
    bias = gt.npy("gts/tinynet/input_bias.npy")                 # Lava (W, H, C)
    assert np.array_equal(bias, np.round(bias))
    g = load_net(net, input_bias=bias.transpose(2, 1, 0).astype(np.int64), reset_interval=17, reset_offset=0)
    assert g.metadata["netx_neurons"] == ["layer0", "layer1", "layer2"]
    steps = 17 + 3                                              # lava-dl: steps_per_sample + len(net)
    x = np.zeros((1, steps) + tuple(g.nodes["input"].shape), np.int64)
    trace = simulate(g, {"input": x}, record="all", record_states=True)

    out = _sink_layout(trace.outputs["output"][0])              # (C, H, W, T), snnc order
    want = gt.npy("gts/tinynet/output.npy")[0][..., 1:]         # slayer (C, H, W, T)
    assert out[..., 2:17].shape == want.shape
    assert np.array_equal(out[..., 2:17].astype(np.int64), want.astype(np.int64))
    assert want.sum() == 92                                    # the comparison is not vacuous

    spikes0 = _sink_layout(trace.outputs["layer0"][0])
    want0 = gt.npy("gts/tinynet/input.npy")[0][..., 1:16]      # test_input: gt[..., 1:] vs 15 steps
    assert np.array_equal(spikes0[..., :15].astype(np.int64), want0.astype(np.int64))
    _c_equals_sim(g, {"input": x}, trace)


def test_dense_block(gt):
    g = dense_block(gt.npy("gts/dense/weight.npy"), vth=6, du=4095, dv=415, bias_exp=6)
    x = gt.npy("gts/dense/in.npy").T[None].astype(np.int64)     # RingBuffer data (200, 2000)
    trace = simulate(g, {"input": x}, record="all", record_states=True)
    want = gt.npy("gts/dense/out.npy")
    assert np.array_equal(_sink_layout(trace.outputs["neuron"][0]), want.astype(np.int64))
    assert int(want.sum()) == 1826
    current = gt.npy("gts/dense/current.npy")
    assert np.array_equal(_sink_layout(trace.states["neuron.u"][0]), (current * 64).astype(np.int64))
    short = {"input": x[:, :300]}
    _c_equals_sim(g, short, simulate(g, short, record="all", record_states=True))


def test_complex_dense_block(gt):
    g = complex_dense_block(gt.npy("gts/complex_dense/weight_r.npy"), gt.npy("gts/complex_dense/weight_img.npy"),
                            vth=25, period=11, alpha=.05, state_exp=6, decay_bits=12)
    node = g.nodes["neuron"]
    assert isinstance(node, IntRF) and node.spike_rule == "phase" and node.threshold == 25 * 64
    x = gt.npy("gts/complex_dense/in.npy").T[None].astype(np.int64)
    trace = simulate(g, {"input": x}, record="all", record_states=True)
    want = gt.npy("gts/complex_dense/out.npy")
    assert np.array_equal(_sink_layout(trace.outputs["neuron"][0]), want.astype(np.int64))
    assert int(want.sum()) == 41512
    short = {"input": x[:, :300]}
    _c_equals_sim(g, short, simulate(g, short, record="all", record_states=True))


def test_complex_dense_as_a_net_file(gt, tmp_path):
    """The same complex_dense data as a .net file (input layer + dense with weight/real,
    weight/imag and an RF_PHASE neuron whose sinDecay/cosDecay are the block's integer decays):
    netx's path (optimize_weight_bits per part, slayer's period/alpha round trip) imports to the
    same spikes."""
    from snnc.tests.helper_modules import load

    nf = load("frontend/netx_files.py")
    cos_b, sin_b = lava_rf_decays(11, .05, 12)
    neuron = nf.rf(25, int(sin_b), int(cos_b), kind="RF_PHASE")
    layers = [nf.input_layer([200]), nf.complex_dense(gt.npy("gts/complex_dense/weight_r.npy"),
                                                      gt.npy("gts/complex_dense/weight_img.npy"), neuron)]
    g = load_net(nf.write_net(tmp_path / "complex.net", layers))
    rf = g.nodes["layer1"]
    assert isinstance(rf, IntRF) and rf.spike_rule == "phase"
    assert int(rf.decay_real[0]) == int(cos_b) and int(rf.decay_imag[0]) == int(sin_b)
    x = gt.npy("gts/complex_dense/in.npy").T[None].astype(np.int64)
    trace = simulate(g, {"input": x})
    assert np.array_equal(_sink_layout(trace.outputs["output"][0]),
                          gt.npy("gts/complex_dense/out.npy").astype(np.int64))


def test_complex_input_block(gt):
    g = complex_input_block(200, vth=1.1, period=7, alpha=.05, state_exp=6, decay_bits=12)
    assert g.nodes["neuron"].spike_rule == "iz" and g.nodes["neuron"].threshold == 70
    x = gt.npy("gts/complex_dense/in.npy").T[None].astype(np.int64)
    trace = simulate(g, {"input": x}, record="all", record_states=True)
    want = gt.npy("gts/complex_dense/current.npy")             # the block's output spikes
    assert np.array_equal(_sink_layout(trace.outputs["neuron"][0]), want.astype(np.int64))
    assert int(want.sum()) == 13548
    short = {"input": x[:, :300]}
    _c_equals_sim(g, short, simulate(g, short, record="all", record_states=True))


def test_phase_rule_differs_from_s5_rule(gt):
    """The ground truth needs Lava's phase rule: the S5 rule (Re > threshold) on the same graph
    gives other spikes."""
    g = complex_dense_block(gt.npy("gts/complex_dense/weight_r.npy"), gt.npy("gts/complex_dense/weight_img.npy"),
                            vth=25, period=11, alpha=.05, state_exp=6, decay_bits=12)
    g.nodes["neuron"].spike_rule = "re"
    x = gt.npy("gts/complex_dense/in.npy").T[None, :200].astype(np.int64)
    trace = simulate(g, {"input": x})
    assert not np.array_equal(_sink_layout(trace.outputs["output"][0]),
                              gt.npy("gts/complex_dense/out.npy")[:, :200].astype(np.int64))


@pytest.mark.parametrize("call, error, field", [
    (lambda: dense_block(np.zeros((3,)), vth=1, du=0, dv=0), ShapeError, "weight"),
    (lambda: complex_input_block(0, vth=1, period=5, alpha=.1, decay_bits=12), ShapeError, "shape"),
    (lambda: complex_input_block(3, vth=1, period=5, alpha=.1, decay_bits=12, neuron="ADRF"), UnsupportedError,
     "neuron_proc"),
    (lambda: dense_block(np.full((2, 2), 0.5), vth=1, du=0, dv=0), ParameterError, "weight"),
    (lambda: complex_dense_block(np.ones((2, 2)), np.ones((2, 3)), vth=1, period=5, alpha=.1, state_exp=6,
                                 decay_bits=12), ShapeError, "weight_imag"),
    (lambda: complex_dense_block(np.ones((2, 2)), np.ones((2, 2)), vth=1, period=5, alpha=.1, state_exp=6,
                                 decay_bits=12, weight_exponent_real=-1, weight_exponent_imag=-1),
     UnsupportedError, "weight_exponent_real"),
    (lambda: complex_dense_block(np.ones((2, 2)), np.ones((2, 2)), vth=1, period=5, alpha=.1, state_exp=6,
                                 decay_bits=0), UnsupportedError, "decay_bits"),
    (lambda: complex_dense_block(np.ones((2, 2)), np.ones((2, 2)), vth=1, period=0, alpha=.1, state_exp=6,
                                 decay_bits=12), ParameterError, "period"),
])
def test_block_builders_refuse_what_is_not_exact(call, error, field):
    with pytest.raises(error) as info:
        call()
    assert info.value.field == field


def test_block_builders_refuse_what_lava_cannot_hold():
    """num_weight_bits beyond what Lava's Dense truncates in the weights' sign mode, and complex
    sums that would leave Lava's int32 ports: refused with the field named (shared with the
    .net importer: snnc.ir.netx_rules.lava_truncated_weights, netx_blocks.lava_complex_synapse)."""
    with pytest.raises(UnsupportedError) as info:
        dense_block(np.ones((2, 2)), vth=1, du=0, dv=0, num_weight_bits=9)
    assert info.value.field == "weight" and "num_weight_bits 9 exceeds" in str(info.value)
    with pytest.raises(UnsupportedError) as info:
        complex_dense_block(np.ones((2, 2)), np.ones((2, 2)), vth=1, period=5, alpha=.1, state_exp=6, decay_bits=12,
                            weight_exponent_real=30, weight_exponent_imag=30)
    assert info.value.field == "weight_real" and "int32 ports would wrap" in str(info.value)
