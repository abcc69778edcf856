"""Layer types slayer exports and netx 0.6.0 does not build (frontend/netx/slayer_layers.py):
``pool`` (per-channel pooling synapse + neuron) and ``average`` (the readout mean) imported with
slayer's semantics, run in the simulator and in C (bit-exact); ``concat`` and the pools slayer's
merged-axis pooling does not make per-channel are refused with the field named."""

from __future__ import annotations

import numpy as np
import pytest

from snnc.backends.sim import simulate
from snnc.frontend.netx_import import load_net
from snnc.ir.errors import ParameterError, ShapeError, UnsupportedError
from snnc.ir.intnodes import IntConv2d
from snnc.runtime.cli import main
from snnc.tests.helper_modules import load

NF = load("frontend/netx_files.py")


def pool_layer(shape, weight=6, kernel=(2, 2), neuron=None, **extra) -> dict:
    return {"type": "pool", "shape": list(shape), "kernelSize": list(kernel), "stride": list(kernel),
            "padding": [0, 0], "dilation": [1, 1], "weight": np.full((1, 1) + tuple(kernel), weight),
            "neuron": neuron or NF.cuba(1024, 512, 10), **extra}


def _pool_net(tmp_path, name="p.net", **kw):
    rng = np.random.default_rng(0)
    layers = [NF.input_layer([2, 4, 6]), pool_layer([2, 2, 3], **kw), {"type": "flatten", "shape": [12]},
              NF.dense(rng.integers(-60, 60, (5, 12)) * 2, NF.cuba(1024, 512, 6))]
    return NF.write_net(tmp_path / name, layers)


def _c_equals_sim(graph, inputs):
    from snnc.backends.fpga.run import run_fpga
    from snnc.runtime.verify import compare_traces

    ref = simulate(graph, inputs, record="all", record_states=True)
    cmp = compare_traces({"sim": ref, "fpga": run_fpga(graph, inputs, record="all", record_states=True)})
    assert cmp.bit_exact, cmp.first_mismatch
    return ref


def test_pool_is_a_per_channel_sum(tmp_path):
    g = load_net(_pool_net(tmp_path))
    syn = g.nodes["layer1_synapse"]
    assert isinstance(syn, IntConv2d) and syn.groups == 2 and syn.weight.shape == (2, 1, 2, 2)
    x = (np.random.default_rng(1).random((2, 10, 2, 4, 6)) < 0.4).astype(np.int64)
    trace = _c_equals_sim(g, {"input": x})
    # the pool's current is slayer's per-channel window sum times the weight (one step later, as a conv)
    u = trace.states["layer1.u"]
    window = x.reshape(2, 10, 2, 2, 2, 3, 2).sum(axis=(4, 6)) * 6 << 6
    lif = g.nodes["layer1"]
    expect = np.zeros_like(u)
    for t in range(1, 10):
        expect[:, t] = (expect[:, t - 1] * int(lif.current_mult.reshape(-1)[0])) // 4096 + window[:, t - 1]
    assert np.array_equal(u, expect)                                   # non-negative: floor = Lava's rtz
    assert trace.outputs["output"].any()


def test_pool_with_sdnn_neuron(tmp_path):
    sd = {"type": "SDNN", "activation": "relu", "vThMant": 1}
    g = load_net(_pool_net(tmp_path, neuron=sd))
    assert type(g.nodes["layer1"]).__name__ == "IntSigmaDelta"
    _c_equals_sim(g, {"input": (np.random.default_rng(2).random((1, 6, 2, 4, 6)) < 0.5).astype(np.int64)})


def test_average_readout(netx_ground_truth, tmp_path, capsys):
    path = netx_ground_truth.extract("gts/ntidigits/ntidigits.net", tmp_path)
    g = load_net(path)                                                  # the whole file, average included
    assert g.nodes["output"].shape == (11,) and g.nodes["output"].metadata["scale"] == 22.0
    x = netx_ground_truth.npy("gts/ntidigits/input.npy").T[None, :200].astype(np.int64).reshape(1, 200, 1, 1, 64)
    trace = _c_equals_sim(g, {"input": x})
    five = simulate(load_net(path, num_layers=5), {"input": x}).outputs["output"]
    assert np.array_equal(trace.outputs["output"], five.reshape(1, 200, 11, 22).sum(-1))
    assert trace.outputs["output"].sum() > 0
    np.save(tmp_path / "x.npy", x[0])
    assert main(["run", str(path), "--input", str(tmp_path / "x.npy"), "--out", str(tmp_path / "o.npz"),
                 "--backend", "sim", "--dequantize"]) == 0
    mean = np.load(tmp_path / "o.npz")["output"]
    assert np.allclose(mean, five.reshape(1, 200, 11, 22).mean(-1))   # slayer's mean
    assert main(["inspect", str(path)]) == 0
    assert "average readout" in capsys.readouterr().out


@pytest.mark.parametrize("make, error, field, text", [
    (lambda p: _pool_net(p, kernel=(3, 3)), UnsupportedError, "kernelSize", "remainder"),
    (lambda p: NF.write_net(p / "s.net", [NF.input_layer([2, 4, 6]), {**pool_layer([2, 2, 3]), "stride": [1, 1]}]),
     UnsupportedError, "stride", "merged"),
    (lambda p: NF.write_net(p / "w.net", [NF.input_layer([2, 4, 6]),
                                          {**pool_layer([2, 2, 3]), "weight": np.arange(4).reshape(1, 1, 2, 2)}]),
     ParameterError, "weight", "equal weights"),
    (lambda p: NF.write_net(p / "a.net", [NF.input_layer([7]), NF.dense(np.full((7, 7), 4), NF.cuba()),
                                          {"type": "average", "shape": [3, 1, 1]}]),
     ShapeError, "shape", "multiple"),
    (lambda p: NF.write_net(p / "b.net", [NF.input_layer([6]), NF.dense(np.full((6, 6), 4), NF.cuba()),
                                          {"type": "average", "shape": [3, 1, 1]},
                                          NF.dense(np.full((2, 3), 4), NF.cuba())]),
     UnsupportedError, "type", "--num-layers 3"),
    (lambda p: NF.write_net(p / "c.net", [NF.input_layer([6]), NF.dense(np.full((6, 6), 4), NF.cuba()),
                                          {"type": "concat", "shape": [6]}]),
     UnsupportedError, "type", "--num-layers 2"),
])
def test_refusals(tmp_path, make, error, field, text):
    with pytest.raises(error) as info:
        load_net(make(tmp_path))
    assert info.value.field == field and text in str(info.value)
