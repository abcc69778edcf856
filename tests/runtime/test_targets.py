"""The target and backend registry, and what ``snnc compile`` writes for each target."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from snnc.passes.pipeline import PIPELINES
from snnc.passes.targets import PROFILES
from snnc.runtime.cli import main
from snnc.runtime.targets import BACKENDS, TARGETS, target


def test_every_target_has_one_profile_pipeline_and_backend():
    assert set(TARGETS) == set(PROFILES) == set(PIPELINES)
    for t in TARGETS.values():
        assert t.backend in BACKENDS
        assert t.profile is PROFILES[t.name] and t.pipeline == PIPELINES[t.name]
        assert (t.emit is None) == (t.artifact_dir is None)
    assert TARGETS["fpga"].artifact_dir == "hls" and TARGETS["loihi2"].artifact_dir == "lava"


def test_unknown_target_names_the_choices():
    with pytest.raises(Exception, match="choose from sim, fpga, rtl, loihi2"):
        target("vitis")


def test_cli_choices_come_from_the_registry(capsys):
    assert main(["compile", "--help"]) == 0
    out = capsys.readouterr().out
    assert "[" + "|".join(TARGETS) + "]" in out


def test_compile_fpga_writes_the_hls_project(repo_root, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compile", str(repo_root / "examples/models/quickstart_lif.nir"), "--target", "fpga",
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert (out / "hls" / "firmware").is_dir() and (out / "hls" / "tb_data").is_dir()
    assert f"HLS project: {out / 'hls'}" in text and "next: snnc verify" in text
    assert "resources" in json.loads((out / "report.json").read_text())


def test_compile_loihi2_writes_the_lava_folder(repo_root, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compile", str(repo_root / "examples/models/quickstart_lif.nir"), "--target", "loihi2",
                 "-o", str(out), "--input-max-abs", "1"]) == 0
    text = capsys.readouterr().out
    files = sorted(os.listdir(out / "lava"))
    assert files == ["lava_report.json", "network.net", "network.py", "params.npz"]
    assert f"Lava network: {out / 'lava'}" in text and "netx .net:" in text
    report = json.loads((out / "report.json").read_text())
    assert report["lava"]["netx"]["written"] is True


def test_compile_reports_a_skipped_net_with_its_reason(repo_root, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compile", str(repo_root / "examples/models/digits_clif.nir"), "--target", "loihi2",
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "no netx .net: node 'clif1' (IntCLIF)" in text
    assert not (out / "lava" / "network.net").exists() and (out / "lava" / "network.py").is_file()
    # the chip verdict: printed, one line per cpu-only node with its dynamics and the mode that maps it
    assert "Loihi 2 chip: no (1 node(s)" in text
    assert "cpu-only: node 'clif1': CLIF" in text and "loihi2: {neurons: chip} maps it to LIF" in text
    report = json.loads((out / "report.json").read_text())
    chip = report["lava"]["chip"]
    assert chip["verdict"] == "cpu-only" and chip["cpu_only"] == ["clif1"]
    assert report["nodes"]["clif1"]["loihi2_chip"] == "cpu-only" and report["nodes"]["fc2"]["loihi2_chip"] == "chip"
    assert report["nodes"]["readout"]["loihi2_chip"] == "chip"      # a never-firing readout is a plain Lava LIF


def test_compile_chip_native_model_says_yes(repo_root, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compile", str(repo_root / "examples/models/digits_cubalif.nir"), "--target", "loihi2",
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Loihi 2 chip: yes" in text and (out / "lava" / "network.net").is_file()
    report = json.loads((out / "report.json").read_text())
    assert report["lava"]["chip"]["verdict"] == "chip" and report["chip_findings"] == {}
    assert {report["nodes"][n]["loihi2_chip"] for n in ("cubalif1", "cubalif1.bias_unit0", "fc2")} == {"chip"}


def test_no_artifacts_writes_only_the_graph_and_report(repo_root, tmp_path):
    out = tmp_path / "out"
    assert main(["compile", str(repo_root / "examples/models/quickstart_lif.nir"), "--target", "fpga",
                 "-o", str(out), "--no-artifacts"]) == 0
    assert sorted(os.listdir(out)) == ["model.nir", "report.json"]


def test_compile_to_an_existing_file_says_it_is_a_file(repo_root, tmp_path, capsys):
    f = tmp_path / "taken"
    f.write_text("mine")
    assert main(["compile", str(repo_root / "examples/models/quickstart_lif.nir"), "--target", "sim",
                 "-o", str(f)]) == 1
    assert "output path exists (a file)" in capsys.readouterr().err
    assert f.read_text() == "mine"


def test_outputs_honour_the_umask(repo_root, tmp_path):
    old = os.umask(0o027)
    try:
        out = tmp_path / "out"
        assert main(["compile", str(repo_root / "examples/models/quickstart_lif.nir"), "--target", "loihi2",
                     "-o", str(out)]) == 0
    finally:
        os.umask(old)
    assert oct(out.stat().st_mode & 0o777) == oct(0o750)
    assert oct((out / "model.nir").stat().st_mode & 0o777) == oct(0o640)
    assert oct((out / "lava").stat().st_mode & 0o777) == oct(0o750)


def test_run_golden_and_demo_outputs_honour_the_umask(repo_root, tmp_path):
    """``snnc run --out``, ``golden record -o`` and ``snnc demo -o`` (folder, summaries, PNGs) get the
    modes the umask gives (027: files 640, folders 750), not tempfile's 600/700."""
    import numpy as np

    model = str(repo_root / "examples/models/quickstart_lif.nir")
    np.save(tmp_path / "x.npy", np.ones((6, 16)))
    old = os.umask(0o027)
    try:
        assert main(["run", model, "--input", str(tmp_path / "x.npy"), "--out", str(tmp_path / "t.npz")]) == 0
        assert main(["golden", "record", model, "-o", str(tmp_path / "g.npz"), "--steps", "4"]) == 0
        assert main(["demo", "-o", str(tmp_path / "demo"), "--only", "lif", "--samples", "8", "--lava-samples", "0",
                     "--quiet"]) == 0
    finally:
        os.umask(old)
    for f in ("t.npz", "g.npz"):
        assert oct((tmp_path / f).stat().st_mode & 0o777) == oct(0o640), f
    demo = tmp_path / "demo"
    assert oct(demo.stat().st_mode & 0o777) == oct(0o750)
    files = sorted(demo.iterdir())
    assert {"summary.json", "summary.md"} <= {f.name for f in files}
    for f in files:
        assert oct(f.stat().st_mode & 0o777) == oct(0o640), f.name


def _tiny_net(tmp_path) -> str:
    """A small hand-written lava-dl .net file (tests/frontend/netx_files.py)."""
    from snnc.tests.helper_modules import load

    netx_files = load("frontend/netx_files.py")
    return netx_files.write_net(str(tmp_path / "tiny.net"), netx_files.net_dense()[0])


@pytest.mark.gcc
def test_a_net_file_compiles_to_an_hls_project_whose_csim_passes(tmp_path):
    """An imported lava-dl .net is already a lowered integer graph: --target fpga writes the HLS
    project of exactly that network, with testbench data, and its C simulation passes."""
    if shutil.which("gcc") is None or shutil.which("make") is None:
        pytest.skip("gcc/make missing")
    net = _tiny_net(tmp_path)
    out = tmp_path / "out"
    assert main(["compile", str(net), "--target", "fpga", "-o", str(out)]) == 0
    proc = subprocess.run(["make", "-C", str(out / "hls"), "csim"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_a_net_file_does_not_compile_for_a_foreign_target(tmp_path, capsys):
    net = _tiny_net(tmp_path)
    assert main(["compile", str(net), "--target", "sim", "-o", str(tmp_path / "o")]) == 1
    assert "--target fpga or --target loihi2 or --target rtl" in capsys.readouterr().err
