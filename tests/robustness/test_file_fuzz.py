"""Fuzzing the model reader: random byte mutations and random structural edits of valid
``.nir`` files must give a clean load or an SnncError naming the file — never another
exception. Structural edits that still load must also simulate or fail cleanly."""

from __future__ import annotations

import shutil

import h5py
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import snnc
from snnc.runtime.run import run_graph

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
MODELS = ["braille_noDelay_bias_zero.nir", "cnn_sinabs.nir", "lif_rockpool.nir"]


def _load_clean(path):
    try:
        return snnc.load(path)
    except snnc.SnncError as exc:
        assert str(path) in str(exc), str(exc)
        return None


@SETTINGS
@given(model=st.sampled_from(MODELS), data=st.data())
def test_random_byte_mutations(shared_models, tmp_path, model, data):
    raw = bytearray((shared_models / model).read_bytes())
    n = data.draw(st.integers(1, 16))
    for _ in range(n):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    p = tmp_path / "m.nir"
    p.write_bytes(bytes(raw))
    _load_clean(p)


def _datasets(group, prefix=""):
    out = []
    for k, v in group.items():
        if isinstance(v, h5py.Group):
            out += _datasets(v, f"{prefix}{k}/")
        else:
            out.append(f"{prefix}{k}")
    return out


@SETTINGS
@given(model=st.sampled_from(MODELS), data=st.data())
def test_random_structural_edits(shared_models, tmp_path, model, data):
    p = tmp_path / "m.nir"
    shutil.copy(shared_models / model, p)
    with h5py.File(p, "r+") as f:
        names = sorted(_datasets(f))
        target = data.draw(st.sampled_from(names))
        action = data.draw(st.sampled_from(["delete", "scalar", "string", "reshape", "nan", "negative", "big"]))
        old = f[target][()]
        del f[target]
        if action == "scalar":
            f[target] = 3
        elif action == "string":
            f.create_dataset(target, data="garbage", dtype=h5py.string_dtype())
        elif action == "reshape" and isinstance(old, np.ndarray) and old.dtype.kind in "fi" and old.size > 1:
            f[target] = old.reshape(-1)[:-1]
        elif action in ("nan", "negative", "big") and isinstance(old, np.ndarray) and old.dtype.kind == "f":
            new = old.copy()
            new.reshape(-1)[0] = {"nan": np.nan, "negative": -abs(new.reshape(-1)[0]) - 1, "big": 1e30}[action]
            f[target] = new
        elif action != "delete":
            f[target] = old if not isinstance(old, bytes) else old.decode()
    g = _load_clean(p)
    if g is not None:
        shape = g.nodes[g.input_names()[0]].shape
        try:
            run_graph(g, np.ones((1, 3, *shape)))
        except snnc.SnncError:
            pass
