"""The C build cache (backends/fpga/build.py): an entry is used only when its library matches the
checksum written after the build; a truncated, corrupted or partial entry is rebuilt (a
truncated library used to kill the process with SIGBUS), and concurrent builds of one model
both succeed. Each run is a separate Python process, as a user's next ``snnc verify`` is."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gcc
REPO = Path(__file__).resolve().parents[3]
MODEL = REPO / "examples" / "models" / "quickstart_lif.nir"

SCRIPT = r"""
import hashlib, sys
import snnc
from snnc.backends.fpga.run import CModel
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph
from snnc.runtime.verify import random_inputs

low, _ = compile_graph(snnc.load(sys.argv[1]), make_config("fpga"))
model = CModel(low, opt="-O0")
trace = model.run(random_inputs(low, 2, 16, 0), record="all", record_states=True)
h = hashlib.sha256()
for key in sorted(trace.outputs):
    h.update(key.encode() + trace.outputs[key].tobytes())
for key in sorted(trace.states):
    h.update(key.encode() + trace.states[key].tobytes())
print(model.cache_hit, model.lib_path, h.hexdigest())
"""


@pytest.fixture
def cache(tmp_path):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")
    return tmp_path / "cache"


def _env(cache: Path) -> dict:
    return {**os.environ, "SNNC_CACHE_DIR": str(cache)}


def _start(cache: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(MODEL)], env=_env(cache), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _run(cache: Path) -> tuple[bool, str, str]:
    proc = _start(cache)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, f"exit {proc.returncode}: {err[-2000:]}"
    hit, lib, digest = out.split()
    return hit == "True", lib, digest


def _damage_truncate(lib: Path) -> None:
    data = lib.read_bytes()
    lib.write_bytes(data[: len(data) // 2])


def _damage_corrupt(lib: Path) -> None:
    data = bytearray(lib.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 4096] = bytes(len(data[mid:mid + 4096]))     # same size, a page of zeros in the middle
    lib.write_bytes(bytes(data))


def _damage_no_checksum(lib: Path) -> None:
    (lib.parent / "libsnnc_model.so.sha256").unlink()           # a partial entry (no checksum yet)


def _damage_empty(lib: Path) -> None:
    lib.write_bytes(b"")


@pytest.mark.parametrize("damage", [_damage_truncate, _damage_corrupt, _damage_no_checksum, _damage_empty],
                         ids=["truncated", "corrupted", "partial", "empty"])
def test_a_damaged_entry_is_rebuilt(cache, damage):
    hit, lib, digest = _run(cache)
    assert not hit
    assert (Path(lib).parent / "libsnnc_model.so.sha256").read_text().strip()
    assert _run(cache) == (True, lib, digest)          # an intact entry is used as it is
    damage(Path(lib))
    hit2, lib2, digest2 = _run(cache)
    assert (hit2, lib2, digest2) == (False, lib, digest)  # rebuilt at the same key, same results
    assert _run(cache) == (True, lib, digest)
    assert not [p for p in os.listdir(cache / "fpga") if p.startswith(".")]   # no temporary folder left


def test_concurrent_builds_of_one_model(cache):
    procs = [_start(cache) for _ in range(3)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"exit {proc.returncode}: {err[-2000:]}"
        results.append(out.split())
    assert len({(lib, digest) for _, lib, digest in results}) == 1
    entries = [p for p in os.listdir(cache / "fpga")]
    assert len(entries) == 1, entries
    assert _run(cache)[0] is True
