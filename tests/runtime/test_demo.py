"""`snnc demo` (issue 7): the table, summary.json (bit-exact, values compared), valid PNG plots,
atomic output folder refused without --force. Small runs here (two models, 60 samples, no Lava:
the Lava path of the same comparison is tests/lava); the full demo is the README's first command."""

from __future__ import annotations

import importlib.util
import json

from click.testing import CliRunner

from snnc.runtime.cli import cli, main

PNG = b"\x89PNG\r\n\x1a\n"


def test_demo_small_run(tmp_path):
    out = tmp_path / "demo"
    runner = CliRunner()
    res = runner.invoke(cli, ["demo", "-o", str(out), "--only", "lif", "--only", "lmht", "--samples", "60",
                              "--no-lava"])
    assert res.exit_code == 0, res.output
    for word in ("float acc", "8-bit acc", "bit-exact sim=C", "Loihi 2 cores", "FPGA mem bits", "synops/sample"):
        assert word in res.output
    summary = json.loads((out / "summary.json").read_text())
    models = {m["name"]: m for m in summary["models"]}
    assert set(models) == {"digits_lif", "digits_lmht"}
    for m in models.values():
        assert m["bit_exact"] is True
        assert all(c["compared"] > 0 and c["mismatches"] == 0 for c in m["checks"].values())
        assert 0.5 < m["float_accuracy"] <= 1 and 0.5 < m["quantized_accuracy"] <= 1
        assert m["neurons"] > 0 and m["synapses"] > 0 and m["synops_per_sample"] > 0 and m["fpga_memory_bits"] > 0
    assert models["digits_lif"]["loihi2_cores"] >= 1
    assert "non-causal" in models["digits_lmht"]["refused"]["loihi2"]          # refused by design, shown as n/a
    if importlib.util.find_spec("matplotlib") is None:          # the Lava env has no matplotlib: a noted skip
        assert summary["plots"] == [] and "matplotlib is not installed" in res.output
        return
    assert set(summary["plots"]) == {"spike_raster.png", "membrane_float_vs_fixed.png", "accuracy_vs_bits.png"}
    for p in summary["plots"]:
        assert (out / p).read_bytes()[:8] == PNG
    assert (out / "summary.md").read_text().startswith("| model |")


def test_demo_errors_are_one_line(tmp_path, capsys):
    out = tmp_path / "d"
    out.mkdir()
    assert main(["demo", "-o", str(out), "--only", "lif", "--samples", "10", "--no-lava"]) == 1
    err = capsys.readouterr().err
    assert "--force" in err and "Traceback" not in err
    assert main(["demo", "-o", str(tmp_path / "e"), "--only", "nope", "--no-lava"]) == 1
    assert "no example model" in capsys.readouterr().err
