"""The RTL target through the CLI: compile --target rtl writes OUT/rtl, verify --backends sim,rtl
is bit-exact, snnc synth reads OUT (synthesis only here; place and route runs in
test_rtl_backend.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from snnc.runtime.cli import main

pytestmark = pytest.mark.rtl
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _tools():
    from snnc.runtime.targets import BACKENDS

    why = BACKENDS["rtl"].unavailable()
    if why or shutil.which("g++") is None:
        pytest.skip(why or "g++ not found")


def test_compile_verify_and_synth_through_the_cli(tmp_path, capsys):
    out = tmp_path / "out"
    model = str(REPO / "examples" / "models" / "quickstart_lif.nir")
    assert main(["compile", model, "--target", "rtl", "-o", str(out), "--parallel", "2"]) == 0
    text = capsys.readouterr().out
    assert f"Verilog: {out / 'rtl'}" in text and "snnc synth" in text
    assert (out / "rtl" / "report.json").is_file() and (out / "model.nir").is_file()
    assert main(["verify", str(out), "--backends", "sim,rtl", "--inputs", "2", "--steps", "6", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["bit_exact"] and res["compared"] > 0
    assert main(["synth", str(out), "--family", "ecp5", "--no-pnr", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["total"]["ff"] > 0 and (out / "rtl" / "synth_ecp5.json").is_file()
    design = json.loads((out / "rtl" / "report.json").read_text())
    assert rep["cycles_are_bound"] is bool(design["zero_skipping"])


def test_bad_parallel_value_names_the_option(tmp_path, capsys):
    model = str(REPO / "examples" / "models" / "quickstart_lif.nir")
    assert main(["compile", model, "--target", "rtl", "-o", str(tmp_path / "o"), "--parallel", "x=0"]) == 1
    assert "--parallel 'x=0'" in capsys.readouterr().err


def test_in_lanes_and_zero_skip_options_reach_the_design(tmp_path, capsys):
    model = str(REPO / "examples" / "models" / "digits_lif.nir")
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["compile", model, "--target", "rtl", "-o", str(a), "--in-lanes", "4", "-q"]) == 0
    assert main(["compile", model, "--target", "rtl", "-o", str(b), "--no-zero-skip", "-q"]) == 0
    rep_a = json.loads((a / "rtl" / "report.json").read_text())
    rep_b = json.loads((b / "rtl" / "report.json").read_text())
    assert rep_a["in_lanes"] == 4 and rep_b["in_lanes"] == 1
    assert rep_a["zero_skipping"] and rep_b["zero_skipping"] == {}
    capsys.readouterr()
    assert main(["verify", str(a), "--backends", "sim,rtl", "--inputs", "1", "--steps", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["bit_exact"]


def test_too_many_input_lanes_is_refused_by_name(tmp_path, capsys):
    model = str(REPO / "examples" / "models" / "digits_lif.nir")
    assert main(["compile", model, "--target", "rtl", "-o", str(tmp_path / "o"), "--in-lanes", "64", "-q"]) == 1
    assert "in_lanes" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
