"""Emitting Lava folders from the main env (no lava-nc needed): the node -> process mapping, the
Dense weight preparation, the netx .net writer's rules, the generated module's shape."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

import snnc
from snnc.backends.lava import netx
from snnc.backends.lava.emit import emit_lava
from snnc.backends.lava.mapping import plan_network
from snnc.ir import intneurons as INN
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.netx_rules import lava_clip_truncate, lava_dense_encoding
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph

REPO = Path(__file__).resolve().parents[3]


def _quickstart():
    return compile_graph(snnc.load(str(REPO / "examples" / "models" / "quickstart_lif.nir")), make_config("loihi2"))[0]


def test_dense_weight_preparation_is_lossless():
    rng = np.random.default_rng(0)
    cases = [rng.integers(-256, 256, (5, 7)), -rng.integers(0, 257, (4, 4)), rng.integers(0, 256, (3, 3)),
             np.array([[-256, -3]]), np.array([[3, -3, 5, -7]]), 4 * rng.integers(-256, 256, (3, 3)),
             np.array([[1000, -1024]])]
    for w in cases:
        wk, k, mode, nwb = lava_dense_encoding(w)
        assert np.array_equal(lava_clip_truncate(wk, mode, nwb) << k, w)
    assert lava_dense_encoding(np.array([[257, 1]])) is None       # odd and beyond 8 bits
    # the model of Lava's clipping: -256 is lost in inhibitory mode, the LSB in 8-bit mixed mode
    assert lava_clip_truncate(np.array([-256, -3]), 3, 8).tolist() == [-255, -3]
    assert lava_clip_truncate(np.array([3, -3, 5, -7]), 1, 8).tolist() == [2, -4, 4, -8]


def test_netx_optimize_weight_bits_edge_cases():
    w, nwb, wexp = netx.netx_optimize_weight_bits(np.array([[3, -3, 5, -7]]))
    assert (nwb, wexp) == (4, -5) and w.tolist() == [[96, -96, 160, -224]]
    with pytest.raises(netx.NotExpressible, match="all-zero"):
        netx.netx_optimize_weight_bits(np.zeros((2, 2), np.int64))
    with pytest.raises(netx.NotExpressible, match="clips"):
        netx.netx_optimize_weight_bits(np.array([[255, -1]]))
    # an inhibitory matrix whose minimum is a power of two ends at -256, which Lava clips
    with pytest.raises(netx.NotExpressible, match="would change weight"):
        netx._check_dense_weights("fc", [np.array([[-128, -3]])])


def test_emit_quickstart_writes_network_and_net(tmp_path):
    report = emit_lava(_quickstart(), str(tmp_path / "q"))
    files = sorted(p.name for p in (tmp_path / "q").iterdir())
    assert files == ["lava_report.json", "network.net", "network.py", "params.npz"]
    assert report["custom_processes"] == []
    assert {r["node"]: r["lava"] for r in report["mapping"]} == {"fc1": "Dense", "fc2": "Dense", "input": "RingBuffer",
                                                                 "lif1": "LIF", "lif2": "LIF"}
    saved = json.loads((tmp_path / "q" / "lava_report.json").read_text())
    assert saved["netx"]["written"] and saved["netx"]["input_message_bits"] == 24
    with h5py.File(tmp_path / "q" / "network.net") as f:
        types = [f["layer"][str(i)]["type"][0] for i in range(len(f["layer"]))]
        assert types == [b"input", b"dense", b"dense"]
        n1 = f["layer"]["1"]["neuron"]
        assert n1["type"][0] == b"CUBA" and "vThMant" in n1 and "iDecay" in n1 and "vDecay" in n1
    src = (tmp_path / "q" / "network.py").read_text()
    compile(src, "network.py", "exec")
    assert "p['fc1'] = Dense(" in src and "p['input'].s_out.connect(p['fc1'].s_in)" in src


def test_emit_refuses_time_mix_and_float_nodes(tmp_path):
    g = _quickstart()
    g.add_node("mix", INN.IntTimeMix(coefficients=np.eye(3, dtype=np.int64), frac_bits=0))
    g.add_edge("lif2", "mix")
    with pytest.raises(UnsupportedError, match="'mix'.*non-causal"):
        plan_network(g)
    g2 = _quickstart()
    g2.add_node("thr", N.Threshold(threshold=np.zeros(4)))
    g2.add_edge("lif2", "thr")
    with pytest.raises(UnsupportedError, match="'thr'"):
        emit_lava(g2, str(tmp_path / "x"))
    assert not (tmp_path / "x").exists()
    g3 = _quickstart()
    g3.metadata["level"] = "discrete"
    with pytest.raises(UnsupportedError, match="integer graph"):
        plan_network(g3)


def test_netx_skip_reasons(tmp_path):
    models = (REPO / ".." / "shared" / "models").resolve()
    # braille's ConstantSource biases become bias units (passes/bias_units.py): a .net with an input bias
    # channel; a constant the pass cannot place keeps the file away (tests/passes/test_bias_units.py)
    g = compile_graph(snnc.load(str(models / "braille_noDelay_bias_zero.nir")), make_config("loihi2"))[0]
    report = emit_lava(g, str(tmp_path / "braille"))
    assert report["netx"]["written"] and (tmp_path / "braille" / "network.net").exists()
    assert [c["value"] for c in report["netx"]["bias_channels"]] == [1]
    # cnn_sinabs's SumPool2d is folded into the next synapse on loihi2 (passes/fold_pooling.py): a .net
    g = compile_graph(snnc.load(str(models / "cnn_sinabs.nir")), make_config("loihi2"))[0]
    assert emit_lava(g, str(tmp_path / "cnn"))["netx"]["written"]


def test_unconnected_graph_is_refused():
    g = _quickstart()
    g.add_node("spare", N.Input(shape=(3,)))
    with pytest.raises(UnsupportedError, match="unconnected parts"):
        plan_network(g)
