"""snnc verify (comparison, first mismatch, JSON) and golden vector files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from snnc.backends.sim import Simulator
from snnc.runtime.cli import main

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
sys.path.insert(0, str(GOLDEN_DIR))
from make_golden import GOLDEN  # noqa: E402


@pytest.fixture
def broken_backend(monkeypatch):
    """A backend equal to sim except that one value of lif1's v is off by one at step 5."""
    def run(graph, inputs, steps, record, record_states):
        tr = Simulator(graph).run(inputs, steps=steps, record=record, record_states=record_states)
        tr.states["lif1.v"] = tr.states["lif1.v"].copy()
        tr.states["lif1.v"][1, 5, 3] += 1
        return tr
    from snnc.runtime.targets import BACKENDS, Backend

    monkeypatch.setitem(BACKENDS, "broken", Backend("broken", "sim with one value off", run))
    monkeypatch.setitem(BACKENDS, "sim2", BACKENDS["sim"])


def test_verify_reports_first_mismatch(repo_root, broken_backend, capsys):
    model = str(repo_root / "examples/models/quickstart_lif.nir")
    assert main(["verify", model, "--backends", "sim,sim2", "--json"]) == 0
    ok = json.loads(capsys.readouterr().out)
    assert ok["bit_exact"] is True and ok["mismatches"] == 0 and ok["compared"] > 0 and ok["first_mismatch"] is None
    assert main(["verify", model, "--backends", "sim,broken", "--json"]) == 1
    bad = json.loads(capsys.readouterr().out)
    assert bad["bit_exact"] is False and bad["mismatches"] == 1
    m = bad["first_mismatch"]
    assert (m["array"], m["sample"], m["step"], m["neuron"]) == ("lif1.v", 1, 5, [3])
    assert m["values"]["broken"] == m["values"]["sim"] + 1
    assert main(["verify", model, "--backends", "sim,broken"]) == 1
    assert "first: state lif1.v sample 1 step 5" in capsys.readouterr().out


def test_verify_needs_two_distinct_backends(repo_root, capsys):
    model = str(repo_root / "examples/models/quickstart_lif.nir")
    assert main(["verify", model, "--backends", "sim,sim"]) == 1
    assert "listed twice" in capsys.readouterr().err
    assert main(["verify", model, "--backends", "sim,gpu"]) == 1
    assert "unknown backend 'gpu'" in capsys.readouterr().err


@pytest.mark.parametrize("fname, model, target, n, steps", GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden_files_still_match(fname, model, target, n, steps, capsys):
    assert main(["golden", "check", str(model), str(GOLDEN_DIR / fname)]) == 0, capsys.readouterr().out


def test_golden_check_catches_a_changed_model(tmp_path, repo_root, capsys):
    import snnc
    from snnc.passes.targets import make_config
    from snnc.runtime.compile import compile_graph, write_artifacts

    g = snnc.load(repo_root / "examples/models/quickstart_lif.nir")
    low, report = compile_graph(g, make_config("sim"))
    low.nodes["fc2"].weight = low.nodes["fc2"].weight.copy()
    low.nodes["fc2"].weight[0, 0] += 7
    write_artifacts(str(tmp_path / "changed"), low, report)
    rc = main(["golden", "check", str(tmp_path / "changed"), str(GOLDEN_DIR / "quickstart_lif.sim.npz")])
    assert rc == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_golden_record_refuses_overwrite(tmp_path, repo_root, capsys):
    model = str(repo_root / "examples/models/quickstart_lif.nir")
    out = tmp_path / "g.npz"
    assert main(["golden", "record", model, "-o", str(out), "--steps", "8"]) == 0
    assert main(["golden", "record", model, "-o", str(out), "--steps", "8"]) == 1
    assert "--force" in capsys.readouterr().err
    data = np.load(out)
    assert json.loads(str(data["meta"]))["steps"] == 8


def test_bad_golden_file(tmp_path, repo_root, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"nope")
    assert main(["golden", "check", str(repo_root / "examples/models/quickstart_lif.nir"), str(bad)]) == 1
    assert "bad.npz" in capsys.readouterr().err


@pytest.mark.gcc
@pytest.mark.parametrize("fname, model, target, n, steps",
                         [g for g in GOLDEN if g[0].startswith("digits_") and g[2] == "fpga"],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_golden_files_match_the_generated_c(fname, model, target, n, steps, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SNNC_CACHE_DIR", str(tmp_path))
    assert main(["golden", "check", str(model), str(GOLDEN_DIR / fname), "--backend", "fpga"]) == 0, \
        capsys.readouterr().out
