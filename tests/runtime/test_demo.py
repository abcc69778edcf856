"""`snnc demo` (issue 7): the table, summary.json (bit-exact, values compared), valid PNG plots,
the atomic output folder refused without --force, Lava reported as unavailable instead of failing,
exit 1 on a mismatch. Small runs (one or two models, few samples, no Lava run: the Lava path of the
same comparison is tests/lava); the full demo is the README's first command."""

from __future__ import annotations

import importlib.util
import json

from click.testing import CliRunner

import snnc.runtime.demo as demo
from snnc.ir.errors import UnsupportedError
from snnc.runtime.cli import cli, main
from snnc.runtime.digits import encoded_test_split
from snnc.runtime.verify import Comparison

PNG = b"\x89PNG\r\n\x1a\n"


def _invoke(*args):
    return CliRunner().invoke(cli, ["demo", *args])


def test_demo_table_summary_and_plots(tmp_path):
    out = tmp_path / "demo"
    res = _invoke("-o", str(out), "--only", "lif", "--only", "lmht", "--samples", "40", "--lava-samples", "0")
    assert res.exit_code == 0, res.output
    for word in ("float acc", "8-bit acc", "bit-exact sim=C", "Lava", "neurons", "synapses", "Effective_ACs/MACs",
                 "ActivationSparsity", "ConnectionSparsity", "Footprint",
                 "Loihi 2 cores", "FPGA mem bits", "compile ms"):
        assert word in res.output
    summary = json.loads((out / "summary.json").read_text())
    head = summary["table"]["head"]
    assert head[:4] == ["model", "neuron", "float acc", "8-bit acc"] and "(values compared, 40 samples)" in head[6]
    assert head[4:6] == ["chip-native acc (fine-tuned)", "runs on Loihi 2 chip (exact loihi2 graph)"]
    assert all(len(row) == len(head) for row in summary["table"]["rows"])
    models = {m["name"]: m for m in summary["models"]}
    assert set(models) == {"digits_lif", "digits_lmht"}
    for m in models.values():
        assert m["bit_exact"] is True and m["samples"] == 40
        assert all(c["bit_exact"] and c["compared"] > 0 and c["mismatches"] == 0 and c["samples"] == 40
                   for c in m["checks"].values())
        assert 0.5 < m["float_accuracy"] <= 1 and 0.5 < m["quantized_accuracy"] <= 1
        nb = m["neurobench"]
        assert m["neurons"] > 0 and m["synapses"] > 0 and nb["Effective_ACs"] + nb["Effective_MACs"] > 0
        assert 0 < nb["ActivationSparsity"] < 1 and nb["Footprint"] == 4 * 4810 + 4 * 17 * (m["name"] == "digits_lmht")
        assert set(m["neurobench_8bit"]) == {"Effective_ACs", "Effective_MACs", "ActivationSparsity",
                                             "ConnectionSparsity"}
        assert m["fpga_resources"]["weight_bits"] > 0 and set(m["compile_seconds"]) >= {"sim", "fpga"}
        assert sorted(int(b) for b in m["accuracy_vs_bits"]) == sorted(demo.SWEEP_BITS)
    lif = models["digits_lif"]
    assert set(lif["checks"]) == {"fpga graph: sim=C", "loihi2 graph: sim=C"}      # --lava-samples 0
    assert lif["loihi2_cores"] >= 1 and lif["lava"] == "skipped (--lava-samples 0)"
    rows = {r[0]: r for r in summary["table"]["rows"]}
    assert rows["lif"][6].startswith("yes (") and rows["lif"][7].startswith("yes (")
    assert rows["lif"][8] == "skipped (--lava-samples 0)"
    assert rows["lif"][5] == "yes" and lif["chip_cpu_only"] == [] and rows["lif"][4].endswith(" %)")
    assert 0.5 < lif["chip_accuracy"] <= 1 and 0.5 < lif["chip_tuned_accuracy"] <= 1
    lmht = models["digits_lmht"]            # LM-HT's whole-window mixing: loihi2 runs it or refuses it by name
    if "loihi2" in lmht["refused"]:
        assert rows["lmht"][7].startswith("n/a (refused: ") and set(lmht["checks"]) == {"fpga graph: sim=C"}
    else:
        assert "loihi2 graph: sim=C" in lmht["checks"] and rows["lmht"][5].startswith("no (")
        assert "lmht1" in rows["lmht"][5]
    assert (out / "summary.md").read_text().startswith("| model |")
    if importlib.util.find_spec("matplotlib") is None:          # the Lava env has no matplotlib: a noted skip
        assert summary["plots"] == [] and "matplotlib is not installed" in res.output
        return
    import matplotlib.image

    assert set(summary["plots"]) == {"spike_raster.png", "membrane_float_vs_fixed.png", "accuracy_vs_bits.png"}
    for p in summary["plots"]:
        assert (out / p).read_bytes()[:8] == PNG
        img = matplotlib.image.imread(out / p)
        assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100


def test_demo_refuses_existing_outdir_without_force(tmp_path, capsys):
    out = tmp_path / "d"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["demo", "-o", str(out), "--only", "lif", "--samples", "10", "--no-lava"]) == 1
    err = capsys.readouterr().err
    assert "output folder exists" in err and "--force" in err and "Traceback" not in err
    assert (out / "keep.txt").read_text() == "mine"
    res = _invoke("-o", str(out), "--only", "lif", "--samples", "10", "--no-lava", "--no-plots", "--force")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["summary.json", "summary.md"]
    assert main(["demo", "-o", str(tmp_path / "e"), "--only", "nope", "--no-lava"]) == 1
    assert "no example model" in capsys.readouterr().err


def test_demo_without_lava_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("SNNC_LAVA_PYTHON", str(tmp_path / "no-such-python"))
    out = tmp_path / "d"
    res = _invoke("-o", str(out), "--only", "lif", "--samples", "10", "--lava-samples", "4", "--no-plots")
    assert res.exit_code == 0, res.output
    assert "lava: not available (no Lava Python interpreter" in res.output
    summary = json.loads((out / "summary.json").read_text())
    row = summary["table"]["rows"][0]
    assert row[8].startswith("lava: not available (") and summary["lava_samples"] == 0
    assert summary["models"][0]["bit_exact"] is True


def test_demo_shows_a_refused_target_as_na(tmp_path, monkeypatch):
    real = demo.compile_graph

    def refuse_loihi2(graph, config, **kw):
        if config.profile.name == "loihi2":
            raise UnsupportedError("LM-HT's T x T time mixing is non-causal (step t needs later inputs): a streaming "
                                   "target cannot run it", node="lmht1_mix", hint="compile for fpga or sim")
        return real(graph, config, **kw)

    monkeypatch.setattr(demo, "compile_graph", refuse_loihi2)
    out = tmp_path / "d"
    res = _invoke("-o", str(out), "--only", "lif", "--samples", "5", "--lava-samples", "4", "--no-plots")
    assert res.exit_code == 0, res.output
    assert "refused: digits_lif for loihi2: LM-HT's T x T time mixing is non-causal" in res.output
    summary = json.loads((out / "summary.json").read_text())
    row, head = summary["table"]["rows"][0], summary["table"]["head"]
    assert row[7] == "n/a (refused: LM-HT's T x T time mixing is non-causal)"
    assert row[5] == "n/a (refused)" and row[8] == "n/a (refused)"
    assert row[head.index("Loihi 2 cores")] == "n/a (refused)"
    assert row[-1].endswith("/n/a")
    m = summary["models"][0]
    assert m["bit_exact"] is True and set(m["checks"]) == {"fpga graph: sim=C"} and m["loihi2_cores"] is None


def test_demo_exits_1_on_mismatch(tmp_path, monkeypatch):
    def disagree(traces):
        return Comparison(backends=list(traces), compared=10, mismatches=1,
                          first_mismatch={"node": "lif1", "array": "lif1", "kind": "output", "sample": 0, "step": 3,
                                          "neuron": [5], "values": {b: 0 for b in traces}})

    monkeypatch.setattr(demo, "compare_traces", disagree)
    out = tmp_path / "d"
    res = _invoke("-o", str(out), "--only", "lif", "--samples", "5", "--no-lava", "--no-plots")
    assert res.exit_code == 1
    assert "MISMATCH" in res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["models"][0]["bit_exact"] is False
    assert summary["table"]["rows"][0][6] == "NO (10)"


def test_demo_counting_rules():
    """Loihi 2 cores follow the stated per-core limits; NeuroBench's effective ACs = non-zero inputs x
    non-zero weights of their column, per sample."""
    import numpy as np

    import snnc
    from snnc.backends.lava.resources import estimate_cores
    from snnc.passes.targets import make_config
    from snnc.runtime.compile import compile_graph
    from snnc.runtime.run import quantize_inputs
    from snnc.runtime.verify import run_backend

    path = [p for p in demo.example_models() if p.endswith("digits_lif.nir")][0]
    graph = snnc.load(path)                                 # 64-64-10 LIF, no bias
    low, _ = compile_graph(graph, make_config("loihi2"))
    cores = lambda **kw: estimate_cores(low, **kw)["total"]["cores"]  # noqa: E731
    assert cores() == 2                                     # two populations, each far below the limits
    assert cores(neurons_per_core=32) == 2 + 1              # 64 neurons -> 2 cores, 10 -> 1
    assert cores(synapses_per_core=1000) == 5 + 1           # 64 x 64 synapses in -> 5 cores, 64 x 10 -> 1

    low, _ = compile_graph(graph, make_config("fpga"))
    x, _, _ = encoded_test_split(graph, 6)
    trace = run_backend("sim", low, quantize_inputs(low, {"input": x}))
    from snnc.runtime.workload_metrics import synaptic_operations

    fan1 = np.count_nonzero(low.nodes["fc1"].weight, axis=0)      # non-zero weights per input neuron
    fan2 = np.count_nonzero(low.nodes["fc2"].weight, axis=0)
    expected = ((trace.outputs["input"] != 0).sum(axis=(0, 1)) @ fan1 + (trace.outputs["lif1"] != 0).sum(axis=(0, 1))
                @ fan2) / 6
    ops = synaptic_operations(low, trace)
    assert ops["Effective_ACs"] == expected > 0 and ops["Effective_MACs"] == 0
