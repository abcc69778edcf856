"""Build the C simulation library of a graph with gcc, cached by content hash.

The ctypes library is built with ``-O3 -march=native -fno-thread-jumps`` (:data:`NATIVE_FLAGS`; only here, never in
the HLS project's Makefile or Vitis flags) and ``-DSNNC_FAST_CSIM`` (the fast C-simulation bodies of
:mod:`.fastpath`; ``fast=False`` builds the HLS bodies instead). The cache key is the sha256 of every generated source
file, the compiler flags, the compiler's version and this CPU's identity (``-march=native``
code runs only where it was built), so an unchanged model is compiled once; the cache folder is
``$SNNC_CACHE_DIR/fpga`` (default ``~/.cache/snnc/fpga``). A build happens in a temporary folder
that is renamed into place, so concurrent runs and interrupted builds never leave a broken entry.
After a complete build the library's sha256 is written next to it (:data:`CHECKSUM_NAME`, inside
the temporary folder, before the rename); an entry is used only when that checksum matches, so a
library damaged later (truncated by a full disk, overwritten) is moved aside and rebuilt instead
of being loaded (loading a truncated shared library kills the process with SIGBUS). gcc runs in
its own process group and ends with snnc (:func:`snnc.ir.children.run_child`).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
import uuid

from snnc.ir.children import run_child
from snnc.ir.errors import BackendError
from snnc.ir.graph import Graph

from .codegen import ModelPlan, generate_sources
from .fastpath import FAST_MACRO
from .project import CC, CFLAGS, LIB_NAME, write_sources

ENV_CACHE = "SNNC_CACHE_DIR"
#: file in a cache entry holding the sha256 (hex) of its library, written after a complete build
CHECKSUM_NAME = "libsnnc_model.so.sha256"


def cache_root() -> str:
    base = os.environ.get(ENV_CACHE) or os.path.join(os.path.expanduser("~"), ".cache", "snnc")
    return os.path.join(base, "fpga")


@functools.lru_cache(maxsize=4)
def compiler_version(cc: str) -> str:
    path = shutil.which(cc)
    if path is None:
        raise BackendError(f"the fpga backend's C simulation needs '{cc}' on PATH",
                           hint="install gcc (Debian/Ubuntu: apt install gcc g++)")
    res = run_child([path, "--version"])
    return res.stdout.splitlines()[0] if res.stdout else path


#: extra flags of the ctypes build (fast C simulation on this machine). ``-fno-thread-jumps``: with
#: the constant per-neuron tables in view (a LIF bias), gcc's jump threading splits the neuron
#: loop into branches and it is no longer vectorized (2-4x slower neuron layers on PilotNet)
NATIVE_FLAGS = ("-march=native", "-fno-thread-jumps")
DEFAULT_OPT = "-O3"


def _flags(opt: str, fast: bool = True) -> list[str]:
    """CFLAGS with the optimization level replaced by ``opt`` (e.g. '-O0' for quick test builds),
    plus -march=native at -O2 and above; ``fast``: ``-D{FAST_MACRO}`` (the fast C-simulation
    bodies of :mod:`.fastpath` instead of the HLS bodies; same values)."""
    flags = [opt if f.startswith("-O") else f for f in CFLAGS]
    flags = flags + list(NATIVE_FLAGS) if opt in ("-O2", "-O3") else flags
    return flags + [f"-D{FAST_MACRO}"] if fast else flags


@functools.lru_cache(maxsize=1)
def cpu_identity() -> str:
    """The CPU model and feature flags (Linux /proc/cpuinfo), or the platform's machine name."""
    try:
        with open("/proc/cpuinfo") as f:
            lines = [ln for ln in f if ln.startswith(("model name", "flags"))][:2]
        return "".join(lines)
    except OSError:
        import platform

        return platform.machine() + platform.processor()


def build_key(files: dict[str, str], cc: str = CC, opt: str = DEFAULT_OPT, fast: bool = True) -> str:
    h = hashlib.sha256()
    h.update(compiler_version(cc).encode())
    h.update(cpu_identity().encode())
    h.update(" ".join(_flags(opt, fast)).encode())
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + files[rel].encode() + b"\0")
    return h.hexdigest()[:32]


def compile_library(folder: str, cc: str = CC, opt: str = DEFAULT_OPT, fast: bool = True) -> str:
    """gcc the project sources in ``folder`` into ``folder/libsnnc_model.so``."""
    out = os.path.join(folder, LIB_NAME)
    cmd = [shutil.which(cc) or cc, *_flags(opt, fast), "-shared", "-o", out,
           os.path.join(folder, "firmware", "snnc_model.cpp"), os.path.join(folder, "lib", "snnc_lib.cpp")]
    res = run_child(cmd)
    if res.returncode != 0:
        raise BackendError("gcc failed on the generated C (a bug in snnc's fpga backend; please report it):\n"
                           + res.stderr[-4000:], file=folder)
    return out


def build(graph: Graph, *, opt: str = DEFAULT_OPT, reuse_factor: int | dict = 1,
          fast: bool = True) -> tuple[ModelPlan, str, bool]:
    """(plan, path of the shared library, cache hit?) for ``graph``. ``opt``: gcc optimization
    level; the generated code has no undefined behaviour (all wrapping arithmetic goes through
    ``uint64_t``), so every level computes the same values; -O3 -march=native is the default,
    lower levels only build faster (tests that build hundreds of models). ``reuse_factor``
    changes only pragmas (gcc ignores them), not values. ``fast``: the fast C-simulation bodies
    (:mod:`.fastpath`, the default) or the HLS bodies (False; the code Vitis compiles)."""
    plan, files = generate_sources(graph, reuse_factor)
    key = build_key(files, opt=opt, fast=fast)
    entry = os.path.join(cache_root(), key)
    lib = os.path.join(entry, LIB_NAME)
    if entry_ok(entry):
        return plan, lib, True
    if os.path.exists(entry):
        _discard(entry)
    os.makedirs(cache_root(), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".build-", dir=cache_root())
    try:
        write_sources(tmp, files)
        built = compile_library(tmp, opt=opt, fast=fast)
        with open(os.path.join(tmp, CHECKSUM_NAME), "w") as f:
            f.write(_sha256(built) + "\n")
        try:
            os.replace(tmp, entry)
        except OSError:                      # another process built the same entry meanwhile
            if not entry_ok(entry):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return plan, lib, False


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def entry_ok(entry: str) -> bool:
    """True when the cache entry folder holds a library whose sha256 matches its checksum file
    (False for a missing, partial or damaged entry)."""
    try:
        with open(os.path.join(entry, CHECKSUM_NAME)) as f:
            want = f.read().strip()
        return bool(want) and _sha256(os.path.join(entry, LIB_NAME)) == want
    except OSError:
        return False


def _discard(entry: str) -> None:
    """Move a damaged entry aside (one atomic rename, so a concurrent reader sees either the
    entry or nothing) and delete it."""
    if entry_ok(entry):                      # rebuilt by another process meanwhile
        return
    trash = os.path.join(cache_root(), f".discard-{uuid.uuid4().hex}")
    try:
        os.replace(entry, trash)
    except OSError:                          # another process discarded or replaced it meanwhile
        return
    shutil.rmtree(trash, ignore_errors=True)
