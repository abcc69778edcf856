"""``load_net``: lava-dl netx ``.net`` files -> snnc's integer IR.

* Round trip: shipped models compiled for loihi2 and written by snnc's netx writer import back
  to a graph that simulates identically (outputs and u, v of every layer).
* Hand-written files in lava-dl's layout (tests/frontend/netx_files.py): structure, metadata,
  options, and the netx/Lava arithmetic corner cases checked against hand-computed values.
  The full comparison with Lava itself is tests/lava/test_netx_import_vs_lava.py.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import snnc
from snnc.backends.lava.netx import write_net
from snnc.backends.sim import simulate
from snnc.frontend.netx_import import load_net
from snnc.ir import nodes as N
from snnc.ir.errors import UnsupportedError
from snnc.ir.intneurons import IntComplexDense, IntRF
from snnc.ir.intnodes import IntConv2d, IntCubaLIF, IntDense
from snnc.passes.targets import make_config
from snnc.runtime.cli import main
from snnc.runtime.compile import compile_graph
from snnc.tests.helper_modules import load

REPO = Path(__file__).resolve().parents[2]


NF = load("frontend/netx_files.py")
LG = load("backends/lava/lava_graphs.py")


def _load(path, **opts):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_net(path, **opts)


def _sim(graph, x):
    return simulate(graph, {"input": x}, record="all", record_states=True)


# -- round trip through snnc's writer -------------------------------------------------------------

ROUND_TRIP = ["quickstart_lif", "braille_noDelay_noBias_subtract", "lif_norse", "lif_rockpool", "netx_chain"]
#: shipped models netx cannot express, with the writer's reason


def _compiled(name: str, shared_models: Path):
    if name in LG.HAND_GRAPHS:
        return LG.HAND_GRAPHS[name]()
    path = REPO / "examples" / "models" / f"{name}.nir"
    if not path.exists():
        path = shared_models / f"{name}.nir"
    return compile_graph(snnc.load(str(path)), make_config("loihi2"))[0]


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_round_trip_through_writer(name, shared_models, tmp_path):
    graph = _compiled(name, shared_models)
    info = write_net(graph, str(tmp_path / "m.net"))
    back = load_net(tmp_path / "m.net", input_message_bits=info["input_message_bits"])
    assert back.metadata["source_format"] == "netx" and back.metadata["level"] == "integer"
    (inp,) = graph.input_names()
    (out,) = graph.output_names()
    assert tuple(back.nodes["input"].shape) == tuple(graph.nodes[inp].shape)
    for seed in range(3):
        x = LG.spike_inputs(graph, 4, 40, seed=seed, graded=info["input_message_bits"] > 0)[inp]
        a = simulate(graph, {inp: x}, record="all", record_states=True)
        b = _sim(back, x)
        assert np.array_equal(a.outputs[out], b.outputs["output"])
        assert len(info["neurons"]) == len(back.metadata["netx_neurons"])
        for n, m in zip(info["neurons"], back.metadata["netx_neurons"]):
            for s in ("u", "v"):
                assert np.array_equal(a.states[f"{n}.{s}"], b.states[f"{m}.{s}"]), (seed, n, s)
    assert a.outputs[out].any(), "no activity: a weak test"


@pytest.mark.parametrize("name", ["braille_noDelay_bias_zero", "braille_noDelay_noBias_subtract", "lif_norse",
                                  "lif_rockpool", "cnn_sinabs"])
def test_every_shared_model_gets_a_net(name, shared_models, tmp_path):
    """Constant biases become netx bias units (passes/bias_units.py) and pools are folded, so every
    shared model compiled for loihi2 has a .net (checked against the real netx in tests/lava)."""
    write_net(_compiled(name, shared_models), str(tmp_path / "m.net"))
    assert (tmp_path / "m.net").stat().st_size > 0


def test_cnn_sinabs_pools_folded_for_netx(shared_models, tmp_path):
    """cnn_sinabs's SumPool2d layers (netx has none) are folded into the next synapse by the
    loihi2 pipeline (passes/fold_pooling.py), so its .net can be written."""
    write_net(_compiled("cnn_sinabs", shared_models), str(tmp_path / "m.net"))
    assert (tmp_path / "m.net").stat().st_size > 0


@pytest.mark.parametrize("case", ["dense", "dense_rec", "conv", "input_neuron"])
def test_reimport_is_stable(case, tmp_path):
    """.net -> graph -> .net (snnc's writer) -> graph: the same simulation."""
    layers, opts = NF.NETWORKS[case]()
    g1 = _load(NF.write_net(tmp_path / "a.net", layers), **opts)
    write_net(g1, str(tmp_path / "b.net"))
    g2 = _load(tmp_path / "b.net", **opts)
    x = NF.random_inputs(g1.nodes["input"].shape, 2, 30, seed=3, kind=g1.metadata["input_kind"])
    a, b = _sim(g1, x), _sim(g2, x)
    assert np.array_equal(a.outputs["output"], b.outputs["output"])
    for n, m in zip(g1.metadata["netx_neurons"], g2.metadata["netx_neurons"]):
        assert np.array_equal(a.states[f"{n}.v"], b.states[f"{m}.v"])


# -- hand-written files ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(NF.NETWORKS))
def test_hand_written_networks_load_and_run(case, tmp_path):
    layers, opts = NF.NETWORKS[case]()
    g = _load(NF.write_net(tmp_path / "m.net", layers), **opts)
    assert g.metadata["source_format"] == "netx"
    assert g.metadata["source_file"] == "m.net"
    assert g.metadata["time_convention"] == "lava"
    neurons = g.metadata["netx_neurons"]
    assert neurons and all(isinstance(g.nodes[n], (IntCubaLIF, IntRF)) for n in neurons)
    assert case.startswith("complex") == any(isinstance(g.nodes[n], IntRF) for n in neurons)
    assert all(g.nodes[n].lava_differences() == [] for n in neurons if isinstance(g.nodes[n], IntCubaLIF))
    # every synapse -> neuron edge carries Lava's one-step latency (plus the synaptic delay)
    for e in g.edges:
        if isinstance(g.nodes[e.src], (IntDense, IntConv2d, IntComplexDense)) and \
                isinstance(g.nodes[e.dst], (IntCubaLIF, IntRF)):
            assert e.delay >= 1
    x = NF.random_inputs(g.nodes["input"].shape, 2, 20, seed=1, kind=g.metadata["input_kind"])
    t = _sim(g, x)
    assert t.outputs["output"].shape == (2, 20, *g.nodes["output"].shape)


def _one_layer(tmp_path, w, *, neuron=None, **extra):
    w = np.asarray(w)
    layers = [NF.input_layer([w.shape[1]]), NF.dense(w, neuron or NF.cuba(4096, 4096, 1 << 16), **extra)]
    return NF.write_net(tmp_path / "one.net", layers)


def _first_u(graph, x_first):
    """u of the first layer at step 1 (Lava's latency) for one input vector at step 0; with iDecay
    4096 (no current memory) u = (synapse output) << 6."""
    x = np.zeros((1, 3, len(x_first)), np.int64)
    x[0, 0] = x_first
    return _sim(graph, x).states[f"{graph.metadata['netx_neurons'][0]}.u"][0, 1] >> 6


def test_inhibitory_minus_128_is_clipped_like_lava(tmp_path):
    """docs/netx_format.md#weights: W = [[-128, -3]] -> netx scales to -256 -> Lava's inhibitory clip gives -255
    and the truncation drops its LSB: the pair sums to -130, not -131."""
    g = load_net(_one_layer(tmp_path, [[-128, -3]]))
    assert _first_u(g, [1, 1]) == [-130]
    assert _first_u(g, [0, 1]) == [-3]


def test_mixed_weights_beyond_range_are_clipped_with_a_warning(tmp_path):
    path = _one_layer(tmp_path, [[300, -5], [1, 2]])
    with pytest.warns(UserWarning, match="clipped"):
        g = load_net(path)
    assert "import_warnings" in g.metadata
    assert list(_first_u(g, [1, 0])) == [254, 1]
    assert list(_first_u(g, [1, 1])) == [249, 3]


def test_graded_input_uses_lavas_int32_dot(tmp_path):
    g = load_net(_one_layer(tmp_path, [[3, -7, 10]]), input_message_bits=16)
    assert g.metadata["input_kind"] == "graded"
    assert _first_u(g, [5, -2, 1]) == [15 + 14 + 10]
    binary = load_net(_one_layer(tmp_path, [[3, -7, 10]]))
    assert _first_u(binary, [5, -2, 0]) == [3 - 7]          # any non-zero value is one spike


@pytest.mark.parametrize("delay, arrival", [([0, 3, 7], [1, 4, 8]), (np.float32(5), [6, 6, 6]),
                                            ([70, 0, 2], [63, 1, 3])])
def test_delays_arrive_at_one_plus_d(tmp_path, delay, arrival):
    path = _one_layer(tmp_path, np.full((3, 3), 20), delay=delay)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = load_net(path)
    assert any("clamped" in str(w.message) for w in caught) == (np.max(delay) > 62)
    x = np.zeros((1, 70, 3), np.int64)
    x[0, 0] = 1
    u = _sim(g, x).states["layer1.u"][0]
    assert [int(np.flatnonzero(u[:, i])[0]) for i in range(3)] == arrival


def test_delays_per_input_neuron(tmp_path):
    g = load_net(_one_layer(tmp_path, np.full((2, 4), 20), delay=[1, 1, 4, 9]))
    syn = sorted(e.delay for e in g.edges if e.dst == "layer1")
    assert syn == [2, 5, 10]
    x = np.zeros((1, 12, 4), np.int64)
    x[0, 0] = 1
    u = _sim(g, x).states["layer1.u"][0, :, 0] >> 6
    assert list(np.flatnonzero(u)) == [2, 5, 10] and list(u[[2, 5, 10]]) == [40, 20, 20]


def test_dense_without_neuron_is_a_non_spiking_readout(tmp_path):
    layers, opts = NF.net_dense_graded()
    g = load_net(NF.write_net(tmp_path / "m.net", layers), **opts)
    last = g.nodes["layer2"]
    assert last.threshold is None and int(last.current_mult) == 4096 and int(last.voltage_mult) == 0
    assert g.metadata["output_kind"] == "membrane v"
    x = NF.random_inputs((8,), 1, 20, kind="graded")
    t = _sim(g, x)
    assert np.array_equal(t.outputs["output"], t.states["layer2.v"]) and t.outputs["output"].any()


def test_input_neuron_and_its_transform(tmp_path):
    layers, opts = NF.net_input_neuron()
    path = NF.write_net(tmp_path / "m.net", layers)
    g = load_net(path)
    assert g.metadata["input_kind"] == "current"
    assert g.metadata["netx_input_transform"] == {"weight": 40, "bias": 36}
    assert [(e.src, e.delay) for e in g.in_edges("layer0")] == [("input", 0)]
    assert g.nodes["layer0"].bias is None
    b = np.arange(72).reshape(2, 6, 6) - 30
    g2 = load_net(path, input_bias=b)
    assert np.array_equal(g2.nodes["layer0"].bias, b * 64)


def test_conv_layout_and_bias(tmp_path):
    layers, _ = NF.net_conv()
    g = load_net(NF.write_net(tmp_path / "m.net", layers))
    c1, c2 = g.nodes["layer1_synapse"], g.nodes["layer2_synapse"]
    assert np.array_equal(c1.weight, layers[1]["weight"]) and tuple(c1.stride) == (2, 2)
    assert tuple(c1.padding) == (1, 1) and c2.groups == 2 and c1.out_bits == 24 and c1.weight_exp == 0
    assert np.array_equal(g.nodes["layer1"].bias, np.broadcast_to(layers[1]["bias"].reshape(-1, 1, 1) * 64,
                                                                 (4, 4, 5)))
    assert np.array_equal(g.nodes["layer2"].bias, layers[2]["bias"].transpose(2, 1, 0) * 64)
    assert isinstance(g.nodes["layer3_flatten"], N.Flatten)
    layers5, opts5 = NF.net_conv_5d()
    g5 = load_net(NF.write_net(tmp_path / "m5.net", layers5), **opts5)
    assert np.array_equal(g5.nodes["layer1_synapse"].weight, layers5[1]["weight"][..., 0])
    assert g5.nodes["layer1_synapse"].input_kind == "graded"


def test_reset_interval_and_num_layers(tmp_path):
    layers, opts = NF.net_reset()
    path = NF.write_net(tmp_path / "m.net", layers)
    g = load_net(path, **opts)
    # netx: layer k (0-based among created layers) gets reset_offset + 1 + k; Lava resets at
    # time_step % I == offset % I, i.e. 0-based step t with t % I == (offset - 1) % I
    phases = [(g.nodes[n].state_reset_interval, g.nodes[n].state_reset_phase) for n in g.metadata["netx_neurons"]]
    assert phases == [(5, 1), (5, 2), (5, 3)]
    short = load_net(path, num_layers=2)
    assert short.metadata["netx_neurons"] == ["layer0", "layer1"]


def test_fields_netx_ignores(tmp_path):
    path = _one_layer(tmp_path, [[2, 4]], neuron=NF.cuba(100, 100, 5, gradedSpike=True))
    with pytest.raises(UnsupportedError, match="gradedSpike") as exc:
        load_net(path)
    assert "layer/1" in str(exc.value) and "netx_ignored" in str(exc.value)
    with pytest.warns(UserWarning, match="gradedSpike"):
        g = load_net(path, netx_ignored="ignore")
    assert g.nodes["layer1"].threshold is not None


def test_cli_inspect_and_run(tmp_path, capsys):
    layers, opts = NF.net_dense_graded()
    path = NF.write_net(tmp_path / "m.net", layers)
    assert main(["inspect", path]) == 0
    out = capsys.readouterr().out
    assert "IntDense" in out and "IntCubaLIF" in out
    x = NF.random_inputs((8,), 1, 15, kind="graded")[0]
    np.save(tmp_path / "x.npy", x)
    args = ["run", path, "--input", str(tmp_path / "x.npy"), "--out", str(tmp_path / "o.npz"), "--record", "all"]
    assert main(args + ["--input-message-bits", "16"]) == 0
    data = np.load(tmp_path / "o.npz")
    ref = _sim(load_net(path, input_message_bits=16), x[None])
    assert np.array_equal(data["output"], ref.outputs["output"])
    assert np.array_equal(data["layer1.u"], ref.states["layer1.u"])
    capsys.readouterr()
    assert main(["compile", path, "--target", "loihi2", "-o", str(tmp_path / "c")]) == 0   # the network as is
    assert "Lava network:" in capsys.readouterr().out and (tmp_path / "c" / "lava" / "network.py").is_file()
    assert main(["compile", path, "--target", "sim", "-o", str(tmp_path / "s")]) == 1
    assert "cannot be re-lowered for sim" in capsys.readouterr().err
    assert main(["inspect", path, "--dt", "0.001"]) == 1
    assert "do not apply to .net files" in capsys.readouterr().err


def test_imported_graph_emits_for_lava(tmp_path):
    """An imported graph is an ordinary loihi2-level graph: the Lava emitter maps it to Lava processes
    and writes the .net file again (per-neuron delays, several synapses in the IR, are written back
    as one DelayDense: backends/lava/netx_exact.py)."""
    from snnc.backends.lava.emit import emit_lava

    for case, expressible in (("conv", True), ("delays", True)):
        layers, opts = NF.NETWORKS[case]()
        g = load_net(NF.write_net(tmp_path / f"{case}.net", layers), **opts)
        report = emit_lava(g, str(tmp_path / case))
        assert (tmp_path / case / "network.py").exists()
        assert report["netx"]["written"] is expressible, report["netx"]


@pytest.mark.parametrize("case", ["input_neuron", "delays", "dense_rec", "complex_rf", "complex_rf_iz"])
def test_imported_graph_saves_as_nir(case, tmp_path):
    layers, opts = NF.NETWORKS[case]()
    g = _load(NF.write_net(tmp_path / "m.net", layers), **opts)
    snnc.save(g, tmp_path / "m.nir")
    h = snnc.load(tmp_path / "m.nir")
    assert h.metadata["source_format"] == "netx" and h.metadata["level"] == "integer"
    x = NF.random_inputs(g.nodes["input"].shape, 2, 25, seed=5, kind=g.metadata["input_kind"])
    a, b = _sim(g, x), _sim(h, x)
    assert all(np.array_equal(a.states[k], b.states[k]) for k in a.states)
    assert np.array_equal(a.outputs["output"], b.outputs["output"])
