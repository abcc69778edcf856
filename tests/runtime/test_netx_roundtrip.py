""".net round trips (issue 17, item 6), both ways:

* ``.net`` -> snnc graph -> ``snnc compile x.net --target loihi2 -o OUT`` -> ``OUT/lava/network.net``
  -> imported again: the same graph node by node (weights, weight_exp and formats, neuron
  parameters, delays, shapes, edges) for lava-dl 0.6.0's LIF test networks (data from the wheel,
  tests/conftest.py ``netx_ground_truth``) and the hand-written files of tests/frontend/netx_files.py;
* NIR -> ``network.net`` -> imported: simulates exactly as the compiled graph (outputs, u and v
  of every layer), and the imported graph saved as ``.nir`` (``snnc.save``) reloads unchanged.

What the writer cannot hold (SDNN, slayer's average readout, complex RF synapses, netx's
reset_interval) is refused with the reason in ``lava_report.json``:
tests/robustness/test_netx_write_refusals.py.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import snnc
from snnc.backends.lava.netx import write_net
from snnc.backends.sim import simulate
from snnc.frontend.netx_import import load_net
from snnc.runtime.cli import main
from snnc.runtime.compile import load_artifact
from snnc.tests.helper_modules import load

REPO = Path(__file__).resolve().parents[2]


NF = load("frontend/netx_files.py")
graph_difference = load("netx_graphs.py").graph_difference

#: (file in the wheel's tests/lava/lib/dl/netx/, CLI options, the same as load_net options)
WHEEL_LIF = [
    ("tiny.net", [], {}),
    ("mnist.net", [], {}),
    ("gts/pilotnet_lif/network.net", [], {}),
    ("gts/ntidigits/ntidigits.net", ["--num-layers", "5"], {"num_layers": 5}),   # 5 delayed dense layers
]


@pytest.fixture(scope="module")
def gt(netx_ground_truth):
    return netx_ground_truth


def _quiet_load(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # netx's delay clamp etc. are warnings of the import
        return load_net(path, **options)


@pytest.mark.parametrize("name, cli, options", WHEEL_LIF, ids=[w[0] for w in WHEEL_LIF])
def test_wheel_net_compiles_to_the_same_net(gt, tmp_path, name, cli, options):
    net = gt.extract(name, tmp_path)
    out = tmp_path / "out"
    assert main(["compile", str(net), "--target", "loihi2", "-o", str(out), *cli]) == 0
    report = json.loads((out / "lava" / "lava_report.json").read_text())
    assert report["netx"]["written"], report["netx"].get("reason")
    first = _quiet_load(str(net), **options)
    again = _quiet_load(str(out / "lava" / "network.net"))
    assert graph_difference(first, again) is None, graph_difference(first, again)
    assert graph_difference(first, load_artifact(str(out))) is None      # compiling changed nothing


WRITABLE = [k for k in NF.NETWORKS if not k.startswith("complex")]


@pytest.mark.parametrize("case", WRITABLE)
def test_hand_written_net_round_trip(tmp_path, case):
    """Odd and clipped weights (weight_exp != 0), per-output / per-input / full-matrix / scalar
    delays, graded input, dense_rec, conv with groups and 5-d kernels, input neurons with netx's
    unused input transform, readouts that never fire."""
    layers, opts = NF.NETWORKS[case]()
    path = NF.write_net(tmp_path / "a.net", layers)
    options = {k: v for k, v in opts.items() if k == "input_message_bits"}
    first = _quiet_load(path, **options)
    info = write_net(first, str(tmp_path / "b.net"))
    assert info["written"]
    again = _quiet_load(str(tmp_path / "b.net"), **options)
    assert graph_difference(first, again) is None, graph_difference(first, again)
    # written twice gives the same file contents
    write_net(again, str(tmp_path / "c.net"))
    assert graph_difference(again, _quiet_load(str(tmp_path / "c.net"), **options)) is None


NIR_MODELS = [REPO / "examples" / "models" / "quickstart_lif.nir", REPO / "examples" / "models" / "digits_lif_chip.nir"]


@pytest.mark.parametrize("model", NIR_MODELS, ids=[m.stem for m in NIR_MODELS])
def test_nir_to_net_and_back(tmp_path, model):
    out = tmp_path / "out"
    assert main(["compile", str(model), "--target", "loihi2", "-o", str(out)]) == 0
    info = json.loads((out / "lava" / "lava_report.json").read_text())["netx"]
    assert info["written"], info.get("reason")
    lowered = load_artifact(str(out))
    imported = _quiet_load(str(out / "lava" / "network.net"), input_message_bits=info["input_message_bits"])
    (name,) = lowered.input_names()
    x = (np.random.default_rng(3).random((2, 10, *lowered.nodes[name].shape)) < 0.3).astype(np.int64)
    ref = simulate(lowered, {name: x}, record="all", record_states=True)
    got = simulate(imported, {"input": x}, record="all", record_states=True)
    (o1,), (o2,) = lowered.output_names(), imported.output_names()
    assert np.array_equal(ref.outputs[o1], got.outputs[o2]) and ref.outputs[o1].sum() > 0
    assert len(info["neurons"]) == len(imported.metadata["netx_neurons"])
    for a, b in zip(info["neurons"], imported.metadata["netx_neurons"]):
        for var in ("u", "v"):
            assert np.array_equal(ref.states[f"{a}.{var}"], got.states[f"{b}.{var}"]), f"{a}.{var} vs {b}.{var}"
    # the imported .net graph as NIR and back
    snnc.save(imported, tmp_path / "back.nir")
    back = snnc.load(str(tmp_path / "back.nir"))
    assert graph_difference(imported, back) is None, graph_difference(imported, back)
    # and that NIR file compiles to the same .net again
    out2 = tmp_path / "out2"
    assert main(["compile", str(tmp_path / "back.nir"), "--target", "loihi2", "-o", str(out2)]) == 0
    again = _quiet_load(str(out2 / "lava" / "network.net"), input_message_bits=info["input_message_bits"])
    assert graph_difference(imported, again) is None, graph_difference(imported, again)
