"""HLS options of ``snnc compile`` and the config's ``fpga:`` section: ``--layer-reuse NODE=R``
(repeatable) on top of ``--reuse-factor``, ``--hls-interface axis|ap_memory``, the YAML section
``fpga: {reuse_factor, layer_reuse, part, clock_ns, interface}`` (validated; errors name the
field) applied by the fpga emitter with the command line winning, and the part budget warnings
printed by compile."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from snnc.ir.errors import ConfigError
from snnc.passes.targets import HLS_INTERFACES, make_config
from snnc.runtime.cli import main
from snnc.runtime.targets import EmitOptions

REPO = Path(__file__).resolve().parents[2]
QUICK = str(REPO / "examples" / "models" / "quickstart_lif.nir")


@pytest.mark.parametrize("section, field", [
    ({"reuse_factor": 0}, "fpga.reuse_factor"),
    ({"reuse_factor": True}, "fpga.reuse_factor"),
    ({"layer_reuse": {"fc1": -2}}, "fpga.layer_reuse.fc1"),
    ({"layer_reuse": [1, 2]}, "fpga.layer_reuse"),
    ({"part": ""}, "fpga.part"),
    ({"clock_ns": 0}, "fpga.clock_ns"),
    ({"interface": "bram"}, "fpga.interface"),
    ({"reuse": 2}, "fpga"),
    ("fast", "fpga"),
])
def test_fpga_section_errors_name_the_field(section, field):
    with pytest.raises(ConfigError) as err:
        make_config("fpga", {"fpga": section})
    assert err.value.field == field


def test_fpga_section_parsed_and_fpga_only():
    cfg = make_config("fpga", {"fpga": {"reuse_factor": 4, "layer_reuse": {"fc1": 16}, "part": "xc7z020clg400-1",
                                        "clock_ns": 4, "interface": "ap_memory"}})
    assert cfg.fpga == {"reuse_factor": 4, "layer_reuse": {"fc1": 16}, "part": "xc7z020clg400-1", "clock_ns": 4.0,
                        "interface": "ap_memory"}
    assert make_config("fpga").fpga == {}
    with pytest.raises(ConfigError, match="fpga only"):
        make_config("loihi2", {"fpga": {"reuse_factor": 2}})


def test_interfaces_match_the_backend():
    from snnc.backends.fpga.codegen import INTERFACES

    assert tuple(HLS_INTERFACES) == tuple(INTERFACES)


def test_emit_options_command_line_wins_over_config():
    cfg = {"reuse_factor": 4, "layer_reuse": {"fc1": 16, "fc2": 2}, "part": "xc7z020", "clock_ns": 4.0,
           "interface": "ap_memory"}
    assert EmitOptions(fpga=cfg).hls_settings() == {
        "reuse_factor": {"default": 4, "fc1": 16, "fc2": 2}, "part": "xc7z020", "clock_ns": 4.0,
        "interface": "ap_memory"}
    got = EmitOptions(reuse_factor=8, layer_reuse={"fc1": 32}, fpga_part="xczu9eg", clock_ns=3.0,
                      hls_interface="axis", fpga=cfg).hls_settings()
    assert got == {"reuse_factor": {"default": 8, "fc1": 32, "fc2": 2}, "part": "xczu9eg", "clock_ns": 3.0,
                   "interface": "axis"}
    plain = EmitOptions().hls_settings()
    assert plain["reuse_factor"] == 1 and plain["interface"] == "axis" and plain["clock_ns"] == 5.0


def _compile(tmp_path, *args, name="out"):
    out = tmp_path / name
    rc = main(["compile", QUICK, "--target", "fpga", "-o", str(out), "--quiet", *args])
    return rc, out


def test_cli_layer_reuse_and_interface(tmp_path, capsys):
    rc, out = _compile(tmp_path, "--reuse-factor", "2", "--layer-reuse", "fc1=8", "--layer-reuse", "fc2=4",
                       "--hls-interface", "ap_memory")
    assert rc == 0, capsys.readouterr().err
    res = json.loads((out / "hls" / "resources.json").read_text())
    assert res["layers"]["fc1"]["reuse_factor"] == 8 and res["layers"]["fc2"]["reuse_factor"] == 4
    assert res["layers"]["lif1"]["reuse_factor"] == 2
    src = (out / "hls" / "firmware" / "snnc_model.cpp").read_text()
    assert "mode=ap_memory port=in_" in src and "mode=axis" not in src
    assert f"#pragma HLS PIPELINE II={res['layers']['fc1']['ii']}" in src
    proj = (out / "hls" / "project.tcl").read_text()
    assert "set reuse_factor 2" in proj and "#   fc1: 8" in proj and "set interface ap_memory" in proj
    # a bad value and an unknown node are one clear line each
    rc, _ = _compile(tmp_path, "--layer-reuse", "fc1=0", name="bad")
    assert rc == 1 and "--layer-reuse" in capsys.readouterr().err
    rc, _ = _compile(tmp_path, "--layer-reuse", "nosuch=4", name="bad2")
    err = capsys.readouterr().err
    assert rc == 1 and "nosuch" in err and "Traceback" not in err


def test_cli_config_fpga_section_applied_and_overridden(tmp_path, capsys):
    cfg = tmp_path / "fpga.yaml"
    cfg.write_text("target: fpga\nfpga:\n  reuse_factor: 4\n  layer_reuse: {fc1: 16}\n  part: xczu9eg-ffvb1156-2-e\n"
                   "  clock_ns: 4.0\n  interface: ap_memory\n")
    rc, out = _compile(tmp_path, "--config", str(cfg))
    assert rc == 0, capsys.readouterr().err
    res = json.loads((out / "hls" / "resources.json").read_text())
    assert res["layers"]["fc1"]["reuse_factor"] == 16 and res["layers"]["fc2"]["reuse_factor"] == 4
    assert res["clock_ns"] == 4.0 and res["part"]["device"] == "xczu9eg"
    assert "mode=ap_memory" in (out / "hls" / "firmware" / "snnc_model.cpp").read_text()
    rc, out2 = _compile(tmp_path, "--config", str(cfg), "--reuse-factor", "1", "--hls-interface", "axis",
                        "--clock-ns", "2.5", name="out2")
    assert rc == 0
    res = json.loads((out2 / "hls" / "resources.json").read_text())
    assert res["layers"]["fc1"]["reuse_factor"] == 16 and res["layers"]["fc2"]["reuse_factor"] == 1
    assert res["clock_ns"] == 2.5
    assert "mode=axis" in (out2 / "hls" / "firmware" / "snnc_model.cpp").read_text()
    cfg.write_text("target: fpga\nfpga: {interface: bram}\n")
    rc, _ = _compile(tmp_path, "--config", str(cfg), name="out3")
    assert rc == 1 and "fpga.interface" in capsys.readouterr().err


def test_cli_prints_part_budget_warnings(tmp_path, capsys):
    model = str(REPO / "examples" / "models" / "digits_rf.nir")
    rc = main(["compile", model, "--target", "fpga", "-o", str(tmp_path / "rf"), "--quiet", "--fpga-part",
               "xc7z020clg400-1"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    warns = [line for line in cap.err.splitlines() if line.startswith("warning: ")]
    assert len(warns) == 1 and re.search(r"xc7z020: \d+ multipliers exceed the 220 DSP48", warns[0])
    assert "reuse factor of" in warns[0]
    assert "WARNING" not in cap.out          # printed once, as a warning line
    report = json.loads((tmp_path / "rf" / "report.json").read_text())
    assert report["resources"]["warnings"] and warns[0].endswith(report["resources"]["warnings"][0])
