"""Hardware-aware fine-tuning (snnc.frontend.torch.finetune, .chip_lif): the chip-native torch
model of a digits example matches snnc's float simulator when the loop's quantization and timing
are off, trains (1 epoch, tiny subset), and exports a graph whose loihi2 compile has only plain
Lava LIF neurons; examples/finetune_chip.py runs end to end on a subset."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import snnc  # noqa: E402
from snnc.frontend.torch.chip_lif import ChipLIF  # noqa: E402
from snnc.frontend.torch.finetune import chip_model_from_graph, export_chip, finetune, logits  # noqa: E402
from snnc.passes.chip_native import chip_findings, lowered_chip_problems, map_chip_native  # noqa: E402
from snnc.passes.targets import make_config  # noqa: E402
from snnc.runtime.compile import compile_graph  # noqa: E402
from snnc.runtime.run import run_graph  # noqa: E402

pytest.importorskip("sklearn")

from snnc.runtime.digits import encode, encoded_test_split, load_digits_split  # noqa: E402


def _model(repo_root, kind):
    return snnc.load(str(repo_root / "examples" / "models" / f"digits_{kind}.nir"))


@pytest.mark.parametrize("kind", ["lnm", "cubalif", "clif"])
def test_float_chip_model_equals_the_mapped_graph(repo_root, kind):
    """Quantization and Lava timing off: the torch model computes the chip-native mapped graph
    (biases moved into the neurons: exact without a current decay; cubalif's b / (1 - alpha) is not)."""
    g = _model(repo_root, kind)
    x, _, _ = encoded_test_split(g, 32)
    net = chip_model_from_graph(g).double().set_mode(quantize=False, lava_timing=False)
    with torch.no_grad():
        out = net(torch.from_numpy(x.transpose(1, 0, 2)).double()).numpy().transpose(1, 0, 2)
    mapped, _ = map_chip_native(g)
    ref = run_graph(mapped, x).outputs["output"]
    exported = run_graph(export_chip(net, x.shape[1]), x).outputs["output"]
    assert np.array_equal(out, exported)
    if kind != "cubalif":           # the same sums in another order: equal up to float64 rounding
        assert np.allclose(out, ref, rtol=1e-9, atol=1e-9)


def test_quantized_loop_predicts_like_the_compiled_graph(repo_root):
    g = _model(repo_root, "lif")
    x, y, _ = encoded_test_split(g, 100)
    net = chip_model_from_graph(g)
    low, _ = compile_graph(export_chip(net, x.shape[1]), make_config("loihi2"))
    lat = int(low.nodes["output"].hw["latency"])
    compiled = run_graph(low, x, steps=x.shape[1] + lat).outputs["output"][:, lat:].sum(1)
    agree = (logits(net, x).argmax(1) == compiled.argmax(1)).mean()
    assert agree >= 0.97, agree


def test_smoke_one_epoch_tiny_subset_exports_plain_lava_lif(repo_root):
    torch.use_deterministic_algorithms(True)
    g = _model(repo_root, "rf")
    steps, mode = g.metadata["digits_steps"], g.metadata["digits_encoding"]
    x_train, y_train, _, _ = load_digits_split()
    x_train, y_train = x_train[:64], y_train[:64]
    net = chip_model_from_graph(g)
    before = [p.detach().clone() for p in net.parameters()]
    lines = []
    seconds = finetune(net, lambda e: encode(x_train, steps, mode, seed=100 + e), y_train, epochs=1,
                       log=lines.append)
    assert seconds > 0 and len(lines) == 1 and "epoch   1/1" in lines[0]
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))
    out = export_chip(net, steps)
    assert chip_findings(out) == [] and out.metadata["chip_native_source"]["rf1"]["from"].startswith("S5-RF")
    assert all(isinstance(m, ChipLIF) for m in (b.neuron for b in net.blocks.values()))
    low, _ = compile_graph(out, make_config("loihi2", {"loihi2": {"neurons": "chip"}}))
    assert lowered_chip_problems(low) == {}


@pytest.mark.slow
def test_finetune_script_on_a_subset(repo_root, tmp_path):
    proc = subprocess.run([sys.executable, "examples/finetune_chip.py", "--only", "lmht", "--epochs", "1",
                           "--samples", "64", "--out", str(tmp_path), "--quiet"], cwd=repo_root,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "digits_lmht_chip.nir").exists() and "| lmht |" in proc.stdout
    again = subprocess.run([sys.executable, "examples/finetune_chip.py", "--only", "lmht", "--out", str(tmp_path)],
                           cwd=repo_root, capture_output=True, text=True, timeout=600)
    assert again.returncode == 1 and "exists" in again.stderr
