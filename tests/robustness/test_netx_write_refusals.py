"""What the ``.net`` writer (``backends/lava/netx.write_net``) cannot write back from an imported
graph is refused with a ``NotExpressible`` naming the reason (and, where one exists, the option
that gets past it); ``snnc compile x.net --target loihi2`` still writes the Lava folder, says
why there is no ``network.net`` and puts the reason in ``lava_report.json``."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pytest

from snnc.backends.lava.netx import NotExpressible, write_net
from snnc.frontend.netx_import import load_net
from snnc.ir.errors import SnncError
from snnc.ir.intnodes import IntDense
from snnc.runtime.cli import main
from snnc.tests.helper_modules import load

NF = load("frontend/netx_files.py")


def _load(tmp_path, case, **options):
    layers, _ = NF.NETWORKS[case]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_net(NF.write_net(tmp_path / f"{case}.net", layers), **options)


def _sdnn(tmp_path):
    sd = {"type": "SDNN", "activation": "relu", "vThMant": 2}
    rng = np.random.default_rng(0)
    return load_net(NF.write_net(tmp_path / "s.net", [
        NF.input_layer([6], {**sd, "vThMant": 1}),
        {"type": "dense", "shape": [3], "weight": rng.integers(-30, 30, (3, 6)) * 2, "neuron": sd}]))


def _average(tmp_path):
    return load_net(NF.write_net(tmp_path / "a.net", [NF.input_layer([6]), NF.dense(np.full((6, 6), 4), NF.cuba()),
                                                      {"type": "average", "shape": [3, 1, 1]}]))


def _input_bias(tmp_path):
    return _load(tmp_path, "reset", input_bias=np.arange(6))


def _reset_not_netx(tmp_path):
    g = _load(tmp_path, "reset", reset_interval=5, reset_offset=1)
    g.nodes["layer2"].state_reset_phase = (g.nodes["layer2"].state_reset_phase + 2) % 5    # not one step later
    return g


def _with_unit(g, layer):
    """A bias unit (as the bias_units pass makes) attached to ``layer``."""
    unit = dataclasses.replace(g.nodes[layer], shape=(1,), bias=None, metadata={"bias_unit_of": layer})
    syn = g.in_edges(layer)[0].src
    src = g.in_edges(syn)[0].src
    n_in = int(np.prod(g.nodes[src].shape))
    g.add_node(f"{layer}_unit", unit)
    g.add_node(f"{layer}_unit_in", IntDense(weight=np.zeros((1, n_in), np.int64)))
    g.add_edge(src, f"{layer}_unit_in", 0)
    g.add_edge(f"{layer}_unit_in", f"{layer}_unit", 1)
    return g


def _reset_with_unit(tmp_path):
    return _with_unit(_load(tmp_path, "reset", reset_interval=5, reset_offset=1), "layer1")


def _delays_with_unit(tmp_path):
    return _with_unit(_load(tmp_path, "delays"), "layer1")


def _shared_entry(tmp_path):
    g = _load(tmp_path, "delays")
    parts = sorted(n for n in g.nodes if n.startswith("layer1_synapse_d"))
    a, b = g.nodes[parts[0]], g.nodes[parts[1]]
    r, c = np.argwhere(np.asarray(a.weight) != 0)[0]
    w = np.array(b.weight)
    w[r, c] = 2
    b.weight = w
    return g


def _acc_bits(tmp_path):
    g = _load(tmp_path, "dense")
    g.nodes["layer1_synapse"].acc_bits = 64          # netx's Dense sums binary spikes in int32 range here
    return g


CASES = {
    "sdnn": (_sdnn, "sigma-delta (SDNN)"),
    "average readout": (_average, "--num-layers"),
    "input neuron bias": (_input_bias, "input_bias"),
    "reset not netx's pattern": (_reset_not_netx, "reset_interval pattern"),
    "reset on a layer with bias units": (_reset_with_unit, "bias units"),
    "bias units on a netx-form dense": (_delays_with_unit, "bias units on a delayed"),
    "delayed parts share an entry": (_shared_entry, "share a weight entry"),
    "acc_bits netx does not build": (_acc_bits, "acc_bits"),
    "complex synapse": (lambda p: _load(p, "complex_rf"), "IntComplexDense"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_write_refusal_names_the_reason(tmp_path, case):
    make, text = CASES[case]
    graph = make(tmp_path)
    with pytest.raises(NotExpressible) as err:
        write_net(graph, str(tmp_path / "out.net"))
    assert isinstance(err.value, SnncError) and text in str(err.value)
    assert not (tmp_path / "out.net").exists()                 # refused before the file is opened


def test_compile_reports_why_there_is_no_net_file(tmp_path, capsys):
    layers, _ = NF.NETWORKS["reset"]()
    net = NF.write_net(tmp_path / "r.net", layers)
    np.save(tmp_path / "bias.npy", np.arange(6))
    out = tmp_path / "out"
    assert main(["compile", net, "--input-bias", str(tmp_path / "bias.npy"), "--target", "loihi2", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "no netx .net:" in text and "input_bias" in text and "Traceback" not in text
    report = json.loads((out / "lava" / "lava_report.json").read_text())
    assert report["netx"]["written"] is False and "input_bias" in report["netx"]["reason"]
    assert (out / "lava" / "network.py").exists() and not (out / "lava" / "network.net").exists()
