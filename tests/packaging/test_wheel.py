"""The wheel is self-contained: the example models, the digits data and the docs ship as package
data, so ``pip install`` + ``snnc demo`` works outside a checkout. Built here without network
(``pip wheel --no-build-isolation`` with this env's setuptools), installed with ``--target`` into
a temporary folder that shadows the checkout, and run from another folder."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# the wheel is built with this env's setuptools (no network): the main env's (Python 3.11); the Lava
# env's setuptools 65 cannot build it without isolation
pytest.importorskip("tomllib")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("setuptools")
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                           "--disable-pip-version-check", "-w", str(out), str(REPO)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (whl,) = out.glob("snnc-*.whl")
    return whl


def test_wheel_carries_models_data_and_docs(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    models = {p.name for p in (REPO / "examples" / "models").glob("*.nir")}
    assert models and {f"snnc/examples/models/{m}" for m in models} <= names
    assert "snnc/examples/data/digits.npz" in names
    assert "snnc/runtime/cli.py" in names and "snnc/ir/version.py" in names
    assert not any(n.startswith("snnc/tests/") for n in names)


def test_installed_wheel_runs_the_demo_from_another_folder(wheel, tmp_path):
    site = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
                           "--target", str(site), str(wheel)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = subprocess.run([sys.executable, "-c", "import snnc; print(snnc.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True)
    assert probe.stdout.strip().startswith(str(site)), probe.stdout + probe.stderr
    proc = subprocess.run([sys.executable, "-m", "snnc.runtime.cli", "demo", "--no-lava", "--no-plots", "--samples",
                           "8", "--only", "lif", "--only", "cubalif", "-o", "demo_out"], cwd=work, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (work / "demo_out" / "summary.json").is_file()


def test_every_subpackage_is_listed_in_pyproject():
    """pyproject lists the packages by hand (the repository root is the package): a new subpackage
    must be added there or the wheel silently lacks it."""
    tomllib = pytest.importorskip("tomllib")    # Python >= 3.11 (the main env)
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(["snnc", *p.parent.relative_to(REPO).parts]) for p in REPO.rglob("__init__.py")
             if not ({"tests", "build", "examples", "bench"} & set(p.relative_to(REPO).parts))
             and not any(part.startswith(".") for part in p.relative_to(REPO).parts)}
    assert found == listed, f"missing from pyproject: {sorted(found - listed)}; stale: {sorted(listed - found)}"
