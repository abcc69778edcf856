"""The ``snnc`` CLI: inspect and run on real models; bad files give one clear line, exit 1,
no traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

from snnc.runtime.cli import main

MODELS = ["braille_noDelay_bias_zero.nir", "braille_noDelay_noBias_subtract.nir", "cnn_sinabs.nir",
          "lif_norse.nir", "lif_rockpool.nir"]


@pytest.mark.parametrize("fname", MODELS)
def test_inspect_shared_models(shared_models, capsys, fname):
    assert main(["inspect", str(shared_models / fname)]) == 0
    out = capsys.readouterr().out
    assert "totals:" in out and "neurons" in out and "synapses" in out
    if fname.startswith("braille"):
        assert "(recurrent)" in out


@pytest.mark.parametrize("batched", [False, True])
def test_run_writes_traces(shared_models, tmp_path, capsys, batched):
    shape = (3, 25, 12) if batched else (25, 12)
    x = (np.random.default_rng(0).random(shape) < 0.3).astype(np.float32)
    np.save(tmp_path / "in.npy", x)
    out = tmp_path / "out.npz"
    model = str(shared_models / "braille_noDelay_bias_zero.nir")
    assert main(["run", model, "--input", str(tmp_path / "in.npy"), "--steps", "30", "--out", str(out),
                 "--record", "all"]) == 0
    data = np.load(out)
    b = 3 if batched else 1
    assert data["output"].shape == (b, 30, 7)
    assert data["lif1.lif"].shape == (b, 30, 38)
    assert data["lif1.lif.v"].shape == (b, 30, 38)
    assert set(np.unique(data["output"])) <= {0.0, 1.0}
    # existing output is refused without --force, accepted with it
    assert main(["run", model, "--input", str(tmp_path / "in.npy"), "--out", str(out)]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["run", model, "--input", str(tmp_path / "in.npy"), "--out", str(out), "--force"]) == 0


def _copy(shared_models, tmp_path, name="braille_noDelay_bias_zero.nir"):
    dst = tmp_path / "m.nir"
    shutil.copy(shared_models / name, dst)
    return dst


def _bad_unknown_type(p):
    with h5py.File(p, "r+") as f:
        del f["node/nodes/fc2/type"]
        f["node/nodes/fc2"].create_dataset("type", data="Frobnicate", dtype=h5py.string_dtype())


def _bad_nan_weight(p):
    with h5py.File(p, "r+") as f:
        w = f["node/nodes/fc1/weight"][()]
        w[3, 2] = np.nan
        del f["node/nodes/fc1/weight"]
        f["node/nodes/fc1"].create_dataset("weight", data=w)


def _bad_shape(p):
    with h5py.File(p, "r+") as f:
        w = f["node/nodes/fc2/weight"][()]
        del f["node/nodes/fc2/weight"]
        f["node/nodes/fc2"].create_dataset("weight", data=w[:, :5])


def _bad_missing_field(p):
    with h5py.File(p, "r+") as f:
        del f["node/nodes/lif2/tau_mem"]


def _bad_dangling_edge(p):
    with h5py.File(p, "r+") as f:
        e = f["node/edges"][()]
        e[0, 0] = b"ghost"
        del f["node/edges"]
        f["node"].create_dataset("edges", data=e.astype(object), dtype=h5py.string_dtype())


def _bad_truncated(p):
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


def _bad_random_bytes(p):
    p.write_bytes(np.random.default_rng(0).bytes(3000))


def _bad_empty(p):
    p.write_bytes(b"")


def _bad_zero_size(p):
    with h5py.File(p, "r+") as f:
        del f["node/nodes/fc2/weight"]
        f["node/nodes/fc2"].create_dataset("weight", data=np.zeros((0, 38), np.float32))
        del f["node/nodes/fc2/bias"]
        f["node/nodes/fc2"].create_dataset("bias", data=np.zeros((0,), np.float32))


def _bad_threshold(p):
    with h5py.File(p, "r+") as f:
        t = f["node/nodes/lif2/v_threshold"][()]
        t[2] = -0.5
        del f["node/nodes/lif2/v_threshold"]
        f["node/nodes/lif2"].create_dataset("v_threshold", data=t)


def _set_weight(p, value):
    with h5py.File(p, "r+") as f:
        w = f["node/nodes/fc1/weight"][()].astype(np.float64)
        w[3, 2] = value
        del f["node/nodes/fc1/weight"]
        f["node/nodes/fc1"].create_dataset("weight", data=w)


def _bad_inf_weight(p):
    _set_weight(p, np.inf)


def _bad_huge_weight(p):
    _set_weight(p, 1e300)


def _bad_zero_delay_cycle(p):
    """A loop lif2 -> fc1 in an snnc file (snnc_version set: its edge delays are explicit, no
    NIR convention applies) whose delays (snnc_edge_delays) are all 0: no node can go first."""
    with h5py.File(p, "r+") as f:
        e = [list(r) for r in f["node/edges"][()]]
        e.append([b"lif2", b"fc1"])
        del f["node/edges"]
        f["node"].create_dataset("edges", data=np.array(e, dtype=object), dtype=h5py.string_dtype())
        meta = f["node"].require_group("metadata")
        if "snnc_edge_delays" in meta:
            del meta["snnc_edge_delays"]
        meta.create_dataset("snnc_edge_delays", data=np.zeros(len(e), np.int64))
        if "snnc_version" not in meta:
            meta.create_dataset("snnc_version", data="0.1.0", dtype=h5py.string_dtype())


def _bad_wrong_node_type(p):
    """fc2 claims to be a LIF neuron: its fields are a Linear's."""
    with h5py.File(p, "r+") as f:
        del f["node/nodes/fc2/type"]
        f["node/nodes/fc2"].create_dataset("type", data="LIF", dtype=h5py.string_dtype())


BAD_FILES = {
    # case: (mutator, words that must appear in the message)
    "unknown_type": (_bad_unknown_type, ["fc2", "Frobnicate", "type"]),
    "nan_weight": (_bad_nan_weight, ["fc1", "weight", "nan"]),
    "shape_mismatch": (_bad_shape, ["fc2", "weight"]),
    "missing_field": (_bad_missing_field, ["lif2", "tau_mem"]),
    "dangling_edge": (_bad_dangling_edge, ["ghost"]),
    "truncated": (_bad_truncated, ["m.nir"]),
    "random_bytes": (_bad_random_bytes, ["m.nir", "HDF5"]),
    "empty": (_bad_empty, ["m.nir"]),
    "zero_size_layer": (_bad_zero_size, ["fc2"]),
    "negative_threshold": (_bad_threshold, ["lif2", "v_threshold", "> 0"]),
    "inf_weight": (_bad_inf_weight, ["fc1", "weight", "inf"]),
    "huge_weight": (_bad_huge_weight, ["fc1", "weight", "1e+300"]),
    "zero_delay_cycle": (_bad_zero_delay_cycle, ["cycle without delay", "delay"]),
    "wrong_node_type": (_bad_wrong_node_type, ["fc2"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_gives_one_clear_line(shared_models, tmp_path, capsys, case):
    mutate, words = BAD_FILES[case]
    p = _copy(shared_models, tmp_path)
    mutate(p)
    for argv in (["inspect", str(p)],
                 ["run", str(p), "--input", str(tmp_path / "x.npy"), "--out", str(tmp_path / "o.npz")]):
        np.save(tmp_path / "x.npy", np.zeros((4, 12)))
        assert main(argv) == 1, case
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert err.startswith("snnc: error: file ") and str(p) in err
        for w in words:
            assert w.lower() in err.lower(), (case, w, err)
        assert "Traceback" not in err
    assert not (tmp_path / "o.npz").exists()


def test_missing_file(capsys, tmp_path):
    assert main(["inspect", str(tmp_path / "nope.nir")]) == 1
    assert "not found" in capsys.readouterr().err


def test_bad_input_array_shape(shared_models, tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((4, 11)))
    argv = ["run", str(shared_models / "lif_norse.nir"), "--input", str(tmp_path / "x.npy"),
            "--out", str(tmp_path / "o.npz")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "x.npy" in err and "(T, (1,))" in err


def test_console_script_prints_no_traceback(tmp_path):
    bad = tmp_path / "bad.nir"
    bad.write_bytes(b"not hdf5")
    proc = subprocess.run([sys.executable, "-m", "snnc.runtime.cli", "inspect", str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "bad.nir" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "snnc.runtime.cli", "--debug", "inspect", str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_unwritable_output_folder(shared_models, tmp_path, capsys, monkeypatch):
    """CI runs as root, who may write anywhere: os.access is patched to report the folder as
    read-only, which is what the check consults."""
    import os

    ro = tmp_path / "ro"
    ro.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(ro) else real(p, mode))
    for argv in (["compile", str(shared_models / "lif_norse.nir"), "--target", "fpga", "-o", str(ro / "out")],
                 ["run", str(shared_models / "lif_norse.nir"), "--input", str(tmp_path / "x.npy"), "--out",
                  str(ro / "o.npz")]):
        np.save(tmp_path / "x.npy", np.zeros((3, 1)))
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "not writable" in err and str(ro) in err
    assert list(ro.iterdir()) == []


def test_missing_output_parent(shared_models, tmp_path, capsys):
    rc = main(["compile", str(shared_models / "lif_norse.nir"), "--target", "fpga", "-o",
               str(tmp_path / "no" / "such" / "out")])
    assert rc == 1
    err = capsys.readouterr().err
    assert "parent folder does not exist" in err and "Traceback" not in err


def test_fractional_input_to_a_spike_input_is_refused(tmp_path, capsys):
    """A compiled graph whose Input expects spikes / integers refuses real-valued data instead of
    silently rounding it (0.3 -> 0)."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    out = tmp_path / "q"
    assert main(["compile", str(repo / "examples/models/quickstart_lif.nir"), "--target", "sim", "-o", str(out)]) == 0
    np.save(tmp_path / "x.npy", np.full((8, 16), 0.3))
    assert main(["run", str(out), "--input", str(tmp_path / "x.npy"), "--out", str(tmp_path / "o.npz")]) == 1
    err = capsys.readouterr().err
    assert "non-integer input values" in err and "Traceback" not in err
    np.save(tmp_path / "x.npy", np.ones((8, 16)))
    assert main(["run", str(out), "--input", str(tmp_path / "x.npy"), "--out", str(tmp_path / "o.npz")]) == 0


def test_preset_choices_are_the_registered_presets(capsys):
    from snnc.frontend.presets import PRESETS

    assert main(["inspect", "--help"]) == 0
    assert "[" + "|".join(["snntorch", "norse", "sinabs", "rockpool", "spyx"]) + "]" in capsys.readouterr().out
    assert set(PRESETS) == {"snntorch", "norse", "sinabs", "rockpool", "spyx"}
