"""Determinism (issue 8): compiling the same model twice gives byte-identical artifacts — the
lowered graph, the emitted C project (fpga), the Lava folder (network.py, params.npz, the netx
.net) — and report.json is identical apart from its ``generated`` field (timestamps)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from snnc.backends.lava.emit import emit_lava
from snnc.runtime.cli import main
from snnc.runtime.compile import load_artifact

REPO = Path(__file__).resolve().parents[2]


def _files(root: Path) -> dict[str, bytes]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = Path(dirpath) / n
            out[str(p.relative_to(root))] = p.read_bytes()
    return out


def _same(a: Path, b: Path) -> None:
    fa, fb = _files(a), _files(b)
    assert sorted(fa) == sorted(fb)
    for rel in fa:
        if rel == "report.json":
            ra, rb = json.loads(fa[rel]), json.loads(fb[rel])
            ra.pop("generated"), rb.pop("generated")
            assert ra == rb
        else:
            assert fa[rel] == fb[rel], rel


@pytest.mark.parametrize("target", ["sim", "fpga", "loihi2"])
@pytest.mark.parametrize("model", ["examples/models/quickstart_lif.nir", "examples/models/digits_lifb.nir",
                                   "examples/models/digits_rf.nir"])
def test_compile_twice_gives_identical_bytes(tmp_path, target, model):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert main(["compile", str(REPO / model), "--target", target, "-o", str(out)]) == 0
    if target == "fpga":
        assert (a / "hls" / "firmware" / "snnc_model.cpp").is_file()
    _same(a, b)
    if target == "loihi2":
        la, lb = tmp_path / "la", tmp_path / "lb"
        for src, dst in ((a, la), (b, lb)):
            emit_lava(load_artifact(str(src)), str(dst))
        assert (la / "network.py").is_file()
        _same(la, lb)
