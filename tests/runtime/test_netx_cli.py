"""lava-dl users on the CLI: netx's ``hdf5.Network`` options (``--num-layers``, ``--skip-layers``,
``--reset-interval``, ``--reset-offset``, ``--input-bias FILE.npy``) and Lava's time-last array
layout (``--layout lava``) for ``run``, ``verify`` and ``golden``, checked against lava-dl 0.6.0's
own ground truth with the options its tests use (data from the wheel: tests/conftest.py
``netx_ground_truth``):

* ``test_hdf5.py::test_tinynet``: tiny.net, input bias, reset every 17 steps; output steps 2..16;
* ``test_hdf5_nx.py::test_pilotnet_lif_spike_input``: PilotNet LIF with ``num_layers=5,
  skip_layers=1, reset_interval=16, reset_offset=1`` driven by ``input-s.npy``: the last kept
  layer's current ``u`` vs ``conv-3-u.npy`` (every one of the 16 steps, the test compares the last);
* ``test_hdf5.py::test_axonal_delay_ntidigits``: ``num_layers=5`` (the last, ``average`` layer
  left out), netx's comparison ``output[:, -1]`` vs ``gt[:, 1]``.
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc.runtime.cli import main


@pytest.fixture(scope="module")
def gt(netx_ground_truth):
    return netx_ground_truth


def test_tinynet_run_with_lava_layout_and_input_bias(gt, tmp_path):
    net = gt.extract("tiny.net", tmp_path)
    bias = gt.extract("gts/tinynet/input_bias.npy", tmp_path)          # Lava (W, H, C)
    np.save(tmp_path / "zeros.npy", np.zeros((16, 16, 3, 20), np.int64))
    out = tmp_path / "out.npz"
    assert main(["run", str(net), "--input", str(tmp_path / "zeros.npy"), "--layout", "lava", "--input-bias",
                 str(bias), "--reset-interval", "17", "--reset-offset", "0", "--out", str(out)]) == 0
    output = np.load(out)["output"]
    assert output.shape == (1, 1, 36, 20)                              # Lava's (W, H, C, T)
    want = gt.npy("gts/tinynet/output.npy")[0].transpose([2, 1, 0, 3])[..., 1:]
    assert np.array_equal(output[..., 2:17], want) and want.sum() == 92


def test_tinynet_without_reset_interval_diverges(gt, tmp_path):
    """The reason the options exist: without netx's reset the same run does not match."""
    net = gt.extract("tiny.net", tmp_path)
    bias = gt.extract("gts/tinynet/input_bias.npy", tmp_path)
    out = tmp_path / "out.npz"
    want = gt.npy("gts/tinynet/output.npy")[0].transpose([2, 1, 0, 3])[..., 1:]
    np.save(tmp_path / "zeros.npy", np.zeros((16, 16, 3, 40), np.int64))
    assert main(["run", str(net), "--input", str(tmp_path / "zeros.npy"), "--layout", "lava", "--input-bias",
                 str(bias), "--out", str(out), "--force"]) == 0
    no_reset = np.load(out)["output"]
    assert main(["run", str(net), "--input", str(tmp_path / "zeros.npy"), "--layout", "lava", "--input-bias",
                 str(bias), "--reset-interval", "17", "--out", str(out), "--force"]) == 0
    with_reset = np.load(out)["output"]
    assert np.array_equal(with_reset[..., 2:17], want)
    assert np.array_equal(with_reset[..., 19:34], want)                 # the second sample repeats the first
    assert not np.array_equal(no_reset[..., 2:17], want)


def test_pilotnet_lif_skip_layers(gt, tmp_path):
    net = gt.extract("gts/pilotnet_lif/network.net", tmp_path)
    spikes = gt.npy("gts/pilotnet_lif/input-s.npy")[..., :16].astype(np.int64)    # (W, H, C, T)
    np.save(tmp_path / "in.npy", spikes)
    out = tmp_path / "out.npz"
    assert main(["run", str(net), "--num-layers", "5", "--skip-layers", "1", "--reset-interval", "16",
                 "--reset-offset", "1", "--input", str(tmp_path / "in.npy"), "--layout", "lava", "--record", "all",
                 "--out", str(out)]) == 0
    data = np.load(out)
    assert "layer0" not in data and "layer1" in data                   # the input layer is skipped
    u = data["layer4.u"]                                               # (W, H, C, T)
    want = gt.npy("gts/pilotnet_lif/conv-3-u.npy")[..., :16]
    assert u.shape == want.shape and np.array_equal(u, want)
    assert np.abs(want).sum() > 0


def test_ntidigits_num_layers(gt, tmp_path):
    net = gt.extract("gts/ntidigits/ntidigits.net", tmp_path)
    inp = gt.extract("gts/ntidigits/input.npy", tmp_path)             # (64, 3000): what netx's net.inp reads
    out = tmp_path / "out.npz"
    assert main(["run", str(net), "--num-layers", "5", "--input", str(inp), "--layout", "lava",
                 "--out", str(out)]) == 0
    output = np.load(out)["output"]
    want = gt.npy("gts/ntidigits/output.npy")
    assert output.shape == want.shape
    assert np.abs(output[:, -1] - want[:, 1]).sum() == 0                # netx's own check
    assert output.sum() == want.sum() == 22572                          # same spike count as slayer


def test_golden_with_netx_options_and_lava_layout(gt, tmp_path, capsys):
    net = gt.extract("tiny.net", tmp_path)
    bias = gt.extract("gts/tinynet/input_bias.npy", tmp_path)
    np.save(tmp_path / "zeros.npy", np.zeros((16, 16, 3, 6), np.int64))
    gold = tmp_path / "tiny.golden.npz"
    assert main(["golden", "record", str(net), "-o", str(gold), "--input", str(tmp_path / "zeros.npy"),
                 "--layout", "lava", "--input-bias", str(bias), "--reset-interval", "17"]) == 0
    assert "reset_interval" in capsys.readouterr().out
    assert main(["golden", "check", str(net), str(gold)]) == 0


def test_verify_with_netx_options(gt, tmp_path, capsys):
    net = gt.extract("tiny.net", tmp_path)
    bias = gt.extract("gts/tinynet/input_bias.npy", tmp_path)
    assert main(["verify", str(net), "--backends", "sim,fpga", "--steps", "4", "--inputs", "1", "--layout", "lava",
                 "--input-bias", str(bias), "--reset-interval", "3"]) == 0
    assert "bit-exact" in capsys.readouterr().out


@pytest.mark.parametrize("args, text", [
    (["--skip-layers", "3"], "skips all 3 layers"),
    (["--skip-layers", "1", "--input-bias", "BIAS"], "--input-bias"),
    (["--input-shape", "3,x"], "--input-shape"),
    (["--layout", "lava", "--input-bias", "BADBIAS"], "does not broadcast"),
])
def test_refusals_name_the_option(gt, tmp_path, capsys, args, text):
    net = gt.extract("tiny.net", tmp_path)
    np.save(tmp_path / "bias.npy", np.zeros((3, 16, 16), np.int64))
    np.save(tmp_path / "badbias.npy", np.zeros((3, 16, 16), np.int64))    # snnc order given as Lava's
    args = [a.replace("BADBIAS", str(tmp_path / "badbias.npy")).replace("BIAS", str(tmp_path / "bias.npy"))
            for a in args]
    assert main(["inspect", str(net), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("snnc: error:") and text in err and "Traceback" not in err


def test_lava_layout_input_of_the_wrong_shape(gt, tmp_path, capsys):
    net = gt.extract("tiny.net", tmp_path)
    np.save(tmp_path / "x.npy", np.zeros((20, 3, 16, 16), np.int64))    # snnc order, not Lava's
    assert main(["run", str(net), "--input", str(tmp_path / "x.npy"), "--layout", "lava", "--out",
                 str(tmp_path / "o.npz")]) == 1
    err = capsys.readouterr().err
    assert "--layout lava" in err and "(16, 16, 3, T)" in err


def test_inspect_shows_netx_layers(gt, tmp_path, capsys):
    mnist = gt.extract("mnist.net", tmp_path)
    assert main(["inspect", str(mnist)]) == 0
    out = capsys.readouterr().out
    assert "netx layers:" in out
    assert "layer/0  input" in out and "in a_in (current)" in out
    assert "layer/3  dense" in out and "out v (readout: never fires)" in out
    tiny = gt.extract("tiny.net", tmp_path)
    assert main(["inspect", str(tiny), "--reset-interval", "17"]) == 0
    out = capsys.readouterr().out
    assert "LIFReset" in out and "reset_interval 17, reset_offset 1" in out and "reset_offset 3" in out
    nti = gt.extract("gts/ntidigits/ntidigits.net", tmp_path)
    assert main(["inspect", str(nti), "--num-layers", "5"]) == 0
    out = capsys.readouterr().out
    assert "delays 0..62" in out and "num_layers 5" in out
