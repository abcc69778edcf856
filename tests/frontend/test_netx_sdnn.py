"""Sigma-delta (SDNN) networks from lava-dl: ``.net`` import (input ``Delta``, ``SigmaDelta`` hidden
layers, ``Sigma`` output) and netx's SDNN blocks, reproducing lava-dl 0.6.0's own ground truth bit
for bit (data from the wheel, tests/conftest.py ``netx_ground_truth``), and the generated C equal to
the simulator on every output and state:

* ``test_blocks.py::TestSDNBlocks``: ``gts/tinynet_sdnn`` (Delta input block driven by
  ``int(input_bias * sin(2 pi t / 15))``; SigmaDelta conv block, binary input, one step; Sigma
  dense block, binary input, 16 steps);
* ``test_hdf5.py::test_pilotnet_sdnn``: ``gts/pilotnet_sdnn/network.net`` driven through the input
  Delta's ``a_in`` for ``len(net.layers)`` = 9 steps, output exact; ``..._spike_exp``: with
  ``spike_exp=0`` within netx's tolerance;
* ``test_hdf5_nx.py::test_pilotnet_sdnn_square`` / ``test_pilotnet_sdnn``: ``skip_layers=1``, graded
  ``act0.npy`` into the first synapse: the Sigma states of the four conv layers after 5 steps, and
  the output (24-bit messages, as the chip's adapter sign-extends them) after 9 steps.
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc.backends.sim import simulate
from snnc.frontend.netx_blocks import sdn_conv_block, sdn_dense_block, sdn_input_block
from snnc.frontend.netx_import import load_net
from snnc.ir.errors import ConfigError, ParameterError, UnsupportedError
from snnc.ir.intsdn import IntDelta, IntSigma, IntSigmaDelta
from snnc.tests.helper_modules import load

NF = load("frontend/netx_files.py")


@pytest.fixture(scope="module")
def gt(netx_ground_truth):
    return netx_ground_truth


def _snnc(lava: np.ndarray) -> np.ndarray:
    """One sample in Lava's (W, H, C, T) / (N, T) -> snnc's (1, T, C, H, W) / (1, T, N)."""
    return np.ascontiguousarray(lava.transpose(tuple(range(lava.ndim))[::-1]))[None].astype(np.int64)


def _lava(trace: np.ndarray) -> np.ndarray:
    """snnc's (T, C, H, W) of one sample -> Lava's (W, H, C, T)."""
    return trace.transpose(tuple(range(trace.ndim))[::-1])


def _c_equals_sim(graph, inputs):
    from snnc.backends.fpga.run import run_fpga
    from snnc.runtime.verify import compare_traces

    ref = simulate(graph, inputs, record="all", record_states=True)
    cmp = compare_traces({"sim": ref, "fpga": run_fpga(graph, inputs, record="all", record_states=True)})
    assert cmp.bit_exact, cmp.first_mismatch
    return ref


def test_tinynet_sdnn_input_block(gt):
    steps = 15
    bias = gt.npy("gts/tinynet_sdnn/input_bias.npy")
    data = (np.repeat(bias[..., None], steps, axis=3) * np.sin(2 * np.pi * np.arange(steps) / steps)).astype(int)
    g = sdn_input_block((3, 16, 16), vth=20, spike_exp=6, state_exp=6)
    assert isinstance(g.nodes["neuron"], IntDelta) and int(g.nodes["neuron"].vth) == 20 << 12
    trace = _c_equals_sim(g, {"input": _snnc(data)})
    want = gt.npy("gts/tinynet_sdnn/input.npy")
    assert np.array_equal(_lava(trace.outputs["output"][0]), want.astype(np.int64))
    assert np.abs(want).sum() > 0


def test_tinynet_sdnn_conv_block(gt):
    g = sdn_conv_block(gt.npy("gts/tinynet_sdnn/layer1_kernel.npy"), input_shape=(16, 16, 3), shape=(6, 6, 24),
                       stride=2, vth=20, spike_exp=6, state_exp=6, bias=gt.npy("gts/tinynet_sdnn/layer1_bias.npy"))
    assert isinstance(g.nodes["neuron"], IntSigmaDelta)
    x = _snnc(gt.npy("gts/tinynet_sdnn/input.npy"))
    trace = _c_equals_sim(g, {"input": x[:, :1]})                       # lava-dl runs one step
    want = gt.npy("gts/tinynet_sdnn/layer1.npy")                        # (W, H, C, 16): the sink's buffer
    assert np.array_equal(_lava(trace.outputs["output"][0])[..., 0], want[..., 0].astype(np.int64))
    assert not want[..., 1:].any() and np.abs(want[..., 0]).sum() == 423936


def test_tinynet_sdnn_dense_block(gt):
    g = sdn_dense_block(gt.npy("gts/tinynet_sdnn/layer2_weight.npy"))
    assert isinstance(g.nodes["neuron"], IntSigma)
    data = gt.npy("gts/tinynet_sdnn/layer1.npy").reshape([-1, 16])       # binary input, as the block reads it
    trace = _c_equals_sim(g, {"input": _snnc(data)})
    want = gt.npy("gts/tinynet_sdnn/layer2.npy")
    assert np.array_equal(_lava(trace.outputs["output"][0]), want.astype(np.int64))
    assert np.abs(want).sum() == 404880


def _pilotnet_input(gt, steps):
    x = gt.npy("gts/pilotnet_sdnn/input.npy")                           # (W, H, C, 1): a RingBuffer repeats it
    return np.repeat(_snnc(x), steps, axis=1)


def test_pilotnet_sdnn(gt, tmp_path):
    g = load_net(gt.extract("gts/pilotnet_sdnn/network.net", tmp_path))
    assert g.metadata["netx_neurons"] == ["layer0", "layer1", "layer2", "layer3", "layer4", "layer6", "layer7",
                                          "layer8", "layer9"]
    kinds = [type(g.nodes[n]).__name__ for n in g.metadata["netx_neurons"]]
    assert kinds == ["IntDelta"] + ["IntSigmaDelta"] * 7 + ["IntSigma"]
    assert g.nodes["layer1_synapse"].input_kind == "graded" and g.nodes["layer6_synapse"].input_kind == "graded"
    want = gt.npy("gts/pilotnet_sdnn/output.npy")
    steps = want.shape[-1]                                              # len(net.layers) = 9
    out = simulate(g, {"input": _pilotnet_input(gt, steps)}).outputs["output"][0]
    assert np.array_equal(out.T, want.astype(np.int64))
    assert np.abs(want).sum() > 0
    _c_equals_sim(g, {"input": _pilotnet_input(gt, 3)})


def test_pilotnet_sdnn_spike_exp(gt, tmp_path):
    g = load_net(gt.extract("gts/pilotnet_sdnn/network.net", tmp_path), spike_exp=0)
    assert g.nodes["layer1"].spike_exp == 0
    want = gt.npy("gts/pilotnet_sdnn/output.npy") / 64
    out = simulate(g, {"input": _pilotnet_input(gt, want.shape[-1])}).outputs["output"][0].T
    assert np.abs(out - want).mean() < 2 * 64                            # netx's own tolerance


def test_pilotnet_sdnn_square_skip_layers(gt, tmp_path):
    g = load_net(gt.extract("gts/pilotnet_sdnn/square_network.net", tmp_path), skip_layers=1)
    assert g.metadata["netx_neurons"] == ["layer1", "layer2", "layer3", "layer4"]
    assert g.nodes["layer1_synapse"].input_kind == "graded"            # the skipped Delta sent 16-bit messages
    steps = 5
    x = _snnc(gt.npy("gts/pilotnet_sdnn/act0.npy")[:33, :33])[:, :steps]
    trace = simulate(g, {"input": x}, record="all", record_states=True)
    for k, name in enumerate(g.metadata["netx_neurons"]):
        sigma = _lava(trace.states[f"{name}.sigma"][0])[..., steps - 1]
        want = gt.npy(f"gts/pilotnet_sdnn/sigma{k + 1}_square.npy")[..., steps - 1]
        assert np.array_equal(sigma, want.astype(np.int64)), name
        assert np.abs(want).sum() > 0


def test_pilotnet_sdnn_skip_layers_output(gt, tmp_path):
    g = load_net(gt.extract("gts/pilotnet_sdnn/network.net", tmp_path), skip_layers=1)
    steps = len(g.metadata["netx_neurons"]) + 1
    x = _snnc(gt.npy("gts/pilotnet_sdnn/act0.npy"))[:, :steps]
    out = simulate(g, {"input": x}).outputs["output"][0].T
    out24 = ((out.astype(np.int32) << 8) >> 8).astype(np.int64)          # the chip adapter's 24-bit messages
    assert np.array_equal(out24, gt.npy("gts/pilotnet_sdnn/output.npy").astype(np.int64))


# -- hand-written SDNN files: what netx builds, and the refusals -------------------------------


def _sdnn(vth=3, **extra):
    return {"type": "SDNN", "activation": "relu", "vThMant": vth, **extra}


def _net(tmp_path, *, hidden=None, out=None, inp=None, name="s.net"):
    rng = np.random.default_rng(0)
    layers = [NF.input_layer([6], inp if inp is not None else _sdnn(1)),
              {"type": "dense", "shape": [5], "weight": rng.integers(-30, 30, (5, 6)) * 2,
               "bias": rng.integers(-4, 4, 5) * 2, "neuron": hidden if hidden is not None else _sdnn(2)},
              {"type": "dense", "shape": [3], "weight": rng.integers(-30, 30, (3, 5)) * 2,
               "neuron": out if out is not None else _sdnn(1, sigma_output=True)}]
    return NF.write_net(tmp_path / name, layers)


def test_sdnn_dense_chain_sim_equals_c(tmp_path):
    g = load_net(_net(tmp_path))
    assert [type(g.nodes[n]).__name__ for n in g.metadata["netx_neurons"]] == ["IntDelta", "IntSigmaDelta", "IntSigma"]
    sd = g.nodes["layer1"]
    assert int(sd.vth) == 2 << 12 and sd.bias.shape == (5,) and np.all(sd.bias % (1 << 12) == 0)
    x = np.random.default_rng(1).integers(-60, 60, (2, 12, 6))
    trace = _c_equals_sim(g, {"input": x})
    assert np.abs(trace.outputs["output"]).sum() > 0


@pytest.mark.parametrize("kw, opts, error, field, text", [
    (dict(out=_sdnn(1, sigma_output=True)), dict(input_bias=np.ones(6, np.int64)), ConfigError, None, "Delta"),
    (dict(hidden=_sdnn(2, activation="tanh")), {}, UnsupportedError, "neuron/activation", "--netx-ignored"),
    (dict(), dict(reset_interval=4), UnsupportedError, "reset_interval", "--netx-ignored"),
    (dict(hidden=_sdnn(2, messageBits=16)), {}, UnsupportedError, "neuron/messageBits", "messageBits"),
    (dict(hidden=_sdnn(1 << 20)), {}, ParameterError, "neuron/vThMant", "int32"),
])
def test_sdnn_refusals(tmp_path, kw, opts, error, field, text):
    with pytest.raises(error) as info:
        load_net(_net(tmp_path, **kw), **opts)
    assert info.value.field == field and text in str(info.value)


def test_sdnn_ignored_fields_import_as_netx_builds_them(tmp_path):
    with pytest.warns(UserWarning, match="activation"):
        g = load_net(_net(tmp_path, hidden=_sdnn(2, activation="tanh")), netx_ignored="ignore")
    assert g.nodes["layer1"].act_mode == "relu"


def test_sigma_output_with_bias_is_refused(tmp_path):
    path = _net(tmp_path)
    import h5py

    with h5py.File(path, "r+") as f:
        f.create_dataset("layer/2/bias", data=np.zeros(3, np.float32))
    with pytest.raises(UnsupportedError) as info:
        load_net(path)
    assert info.value.field == "bias" and "Sigma" in str(info.value)
