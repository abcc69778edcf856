"""Every ``.net`` in lava-dl 0.6.0's tests folder through the CLI (issue 17, done-when): loads
(``snnc inspect``) with the options lava-dl's own tests use, runs (``snnc run``, a few steps),
compiles for fpga (the HLS project with testbench data) and loihi2 (the Lava folder, and its
``network.net`` where netx can hold the network), and verifies sim = C (``snnc verify --backends
sim,fpga``). The files are listed from the wheel itself (tests/conftest.py ``netx_ground_truth``),
so a file without an entry in :data:`CASES` fails the test. sim = C = Lava:
tests/lava/test_lavadl_corpus_lava.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from snnc.frontend.netx_import import load_net
from snnc.runtime.cli import main

#: file -> (CLI options as in lava-dl's tests, the same as load_net keywords, steps, network.net written?)
#: tiny: test_hdf5.py::test_tinynet (reset_interval 17, reset_offset 0, an input bias in Lava's layout);
#: PilotNet LIF: test_hdf5_nx.py::test_pilotnet_lif_spike_input; PilotNet SDNN (both files):
#: test_hdf5_nx.py skip_layers=1; ntidigits: test_axonal_delay_ntidigits num_layers=5; mnist: defaults.
CASES = {
    "tiny.net": (["--reset-interval", "17", "--reset-offset", "0", "--input-bias", "BIAS", "--layout", "lava"],
                 {"reset_interval": 17, "reset_offset": 0, "input_bias": "BIAS"}, 3,
                 "the input neuron's bias is netx's input_bias option"),
    "mnist.net": ([], {}, 3, True),
    "gts/pilotnet_lif/network.net": (["--num-layers", "5", "--skip-layers", "1", "--reset-interval", "16",
                                      "--reset-offset", "1"],
                                     {"num_layers": 5, "skip_layers": 1, "reset_interval": 16, "reset_offset": 1},
                                     2, True),
    "gts/pilotnet_sdnn/network.net": (["--skip-layers", "1"], {"skip_layers": 1}, 2, "sigma-delta (SDNN)"),
    "gts/pilotnet_sdnn/square_network.net": (["--skip-layers", "1"], {"skip_layers": 1}, 2, "sigma-delta (SDNN)"),
    "gts/ntidigits/ntidigits.net": (["--num-layers", "5"], {"num_layers": 5}, 2, True),
}
BIAS = "gts/tinynet/input_bias.npy"


@pytest.fixture(scope="module")
def gt(netx_ground_truth):
    return netx_ground_truth


def test_every_wheel_net_file_has_a_case(gt):
    prefix = "tests/lava/lib/dl/netx/"
    files = sorted(n[len(prefix):] for n in gt.zip.namelist() if n.startswith(prefix) and n.endswith(".net"))
    assert files == sorted(CASES)


def _setup(gt, tmp_path, name):
    cli, options, steps, net_written = CASES[name]
    net = tmp_path / name.replace("/", "_")
    net.write_bytes(gt.bytes(name))
    bias = gt.extract(BIAS, tmp_path)
    cli = [str(bias) if a == "BIAS" else a for a in cli]
    options = {k: (np.load(bias).transpose(2, 1, 0).astype(np.int64) if v == "BIAS" else v)
               for k, v in options.items()}
    return str(net), cli, options, steps, net_written


@pytest.mark.parametrize("name", sorted(CASES))
def test_lavadl_net_file_through_the_cli(gt, tmp_path, capsys, name):
    net, cli, options, steps, net_written = _setup(gt, tmp_path, name)
    assert main(["inspect", net, *cli]) == 0
    assert "netx layers:" in capsys.readouterr().out

    graph = load_net(net, **options)
    (inp,) = graph.input_names()
    shape = tuple(graph.nodes[inp].shape)
    x = (np.random.default_rng(1).random((1, steps, *shape)) < 0.3).astype(np.int64)
    if "lava" in cli:
        x = x[0].transpose(tuple(range(x.ndim - 2, 0, -1)) + (0,))            # Lava's (W, H, C, T)
    np.save(tmp_path / "x.npy", x)
    assert main(["run", net, *cli, "--input", str(tmp_path / "x.npy"), "--out", str(tmp_path / "out.npz")]) == 0
    out = np.load(tmp_path / "out.npz")["output"]
    assert out.shape[-1 if "lava" in cli else 1] == steps

    fpga = tmp_path / "fpga"
    assert main(["compile", net, *cli, "--target", "fpga", "-o", str(fpga)]) == 0
    assert (fpga / "hls" / "Makefile").exists() and any((fpga / "hls" / "tb_data").iterdir())

    loihi = tmp_path / "loihi2"
    assert main(["compile", net, *cli, "--target", "loihi2", "-o", str(loihi)]) == 0
    report = json.loads((loihi / "lava" / "lava_report.json").read_text())
    assert (loihi / "lava" / "network.py").exists()
    if net_written is True:
        assert report["netx"]["written"], report["netx"].get("reason")
    else:
        assert not report["netx"]["written"] and net_written in report["netx"]["reason"]

    capsys.readouterr()
    assert main(["verify", net, *cli, "--backends", "sim,fpga", "--steps", str(steps), "--inputs", "1"]) == 0
    assert "bit-exact" in capsys.readouterr().out
