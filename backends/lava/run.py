"""Run a lowered integer graph on Lava (CPU, ``Loihi2SimCfg(select_tag='fixed_pt')``) and return
an snnc :class:`~snnc.backends.sim.Trace`.

``run_lava`` emits the network (:func:`.emit.emit_lava`) into a work folder and runs the emitted
``network.py`` with the Lava environment's Python as a subprocess, exchanging inputs and traces
as ``.npz`` files: the main environment (Python 3.11, torch) cannot import lava-nc (Python 3.10,
numpy < 2). Interpreter: the ``python`` argument, else ``$SNNC_LAVA_PYTHON``, else
``<repo>/.venv-lava/bin/python``. Inside the Lava environment (lava importable) and with no
interpreter asked for, the emitted module is imported and run in-process instead.

Samples run one at a time, each on a freshly built network (so every state, including the
synapse buffers, starts at zero).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
import tempfile
import uuid

import numpy as np

from snnc.ir.children import run_child
from snnc.ir.errors import BackendError, SnncError
from snnc.ir.graph import Graph
from snnc.ir.signals import prepare_inputs
from snnc.ir.trace import Trace

from .emit import emit_lava

ENV_VAR = "SNNC_LAVA_PYTHON"
_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_PYTHON = os.path.join(_REPO, ".venv-lava", "bin", "python")


def lava_python(python: str | None = None) -> str:
    """The Lava interpreter: argument, ``$SNNC_LAVA_PYTHON``, or ``<repo>/.venv-lava/bin/python``.
    Raises BackendError when it does not exist."""
    path = python or os.environ.get(ENV_VAR) or DEFAULT_PYTHON
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise BackendError(f"no Lava Python interpreter at {path}",
                           hint=f"create the Lava env (.venv-lava with lava-nc 0.10) or set {ENV_VAR}")
    return path


def lava_importable() -> bool:
    """True when lava-nc can be imported in this interpreter."""
    try:
        return importlib.util.find_spec("lava.magma") is not None
    except (ImportError, ValueError):
        return False


def lava_unavailable() -> str | None:
    """None if Lava can run here (the interpreter :func:`run_lava` would use imports lava-nc),
    else the reason."""
    if not os.environ.get(ENV_VAR) and lava_importable():
        return None
    try:
        exe = lava_python()
    except SnncError as exc:
        return exc.detail
    probe = run_child([exe, "-c", "from lava.magma.core.run_configs import Loihi2SimCfg"], env=_child_env())
    if probe.returncode != 0:
        last = (probe.stderr or probe.stdout).strip().splitlines()
        return f"{exe} cannot import lava-nc ({last[-1] if last else f'exit {probe.returncode}'})"
    return None


def _child_env() -> dict:
    """The environment of a Lava child: ours without PYTHONPATH/PYTHONHOME (the Lava env has its
    own snnc install and site-packages)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


_MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '((?:lava|numpy|scipy)[\w.]*)'")


def _prepare_inputs(graph: Graph, inputs, steps: int | None) -> tuple[dict[str, np.ndarray], int]:
    out = prepare_inputs(graph, inputs, steps, integer=True)
    for n, a in out.items():
        if a.size and (a.min() < -2 ** 31 or a.max() > 2 ** 31 - 1):
            raise SnncError("input values outside int32 (Lava's RingBuffer holds int32)", node=n)
    T = next(iter(out.values())).shape[1]
    return out, T


def run_lava(graph: Graph, inputs_BT, steps: int | None = None, record: str = "outputs",
             record_states: bool = False, python: str | None = None, workdir: str | None = None) -> Trace:
    """Run ``graph`` (a loihi2-lowered integer graph) on Lava. ``inputs_BT``: (B, T, *shape) array
    for a single-input graph, or {input name: array}. Returns a Trace with the simulator's keys:
    outputs (B, T, ...) int64 (complex128 for complex synapses), states '<node>.<state>'.

    ``python``: the Lava interpreter (see :func:`lava_python`); ``workdir``: keep the emitted
    network and exchange files there (default: a temporary folder, removed afterwards)."""
    if record not in ("outputs", "all"):
        raise SnncError(f"record must be 'outputs' or 'all', got '{record}'")
    inputs, T = _prepare_inputs(graph, inputs_BT, steps)
    in_process = python is None and not os.environ.get(ENV_VAR) and lava_importable()
    exe = None if in_process else lava_python(python)
    own = workdir is None
    work = tempfile.mkdtemp(prefix="snnc-lava-") if own else os.path.abspath(workdir)
    try:
        net_dir = os.path.join(work, "network")
        bounds = {n: max(1, int(np.abs(a).max(initial=0))) for n, a in inputs.items()}
        report = emit_lava(graph, net_dir, net=False, input_bounds=bounds)
        if in_process:
            result = _run_in_process(net_dir, inputs, T, record, record_states)
        else:
            result = _run_subprocess(exe, work, net_dir, inputs, T, record, record_states)
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
    tr = Trace(unobserved=dict(report.get("unobserved", {})) if record == "all" else {})
    for k, v in result.items():
        if k.startswith("state:"):
            tr.states[k[len("state:"):]] = v
        else:
            tr.outputs[k] = v
    return tr


def _run_subprocess(exe, work, net_dir, inputs, T, record, record_states) -> dict:
    in_path = os.path.join(work, "inputs.npz")
    out_path = os.path.join(work, "trace.npz")
    np.savez(in_path, **inputs)
    cmd = [exe, os.path.join(net_dir, "network.py"), "--inputs", in_path, "--out", out_path, "--steps", str(T),
           "--record", record] + (["--states"] if record_states else [])
    proc = run_child(cmd, cwd=net_dir, env=_child_env())
    if proc.returncode != 0 or not os.path.exists(out_path):
        missing = _MISSING_MODULE.search(proc.stderr or "")
        if missing:
            raise BackendError(f"the Lava interpreter {exe} cannot import '{missing.group(1)}'",
                               hint=f"install lava-nc 0.10 into that environment or point {ENV_VAR} at one that "
                                    "has it") from None
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise BackendError(f"the Lava run failed (exit {proc.returncode}):\n{tail}")
    with np.load(out_path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    return _label_states(arrays, net_dir, record_states)


def _label_states(arrays: dict, net_dir: str, record_states: bool) -> dict:
    """Mark the state arrays (keys listed in the network's SPEC['states'])."""
    if not record_states:
        return arrays
    states = set(_spec_states(net_dir))
    return {(f"state:{k}" if k in states else k): v for k, v in arrays.items()}


def _spec_states(net_dir: str) -> list[str]:
    import ast

    with open(os.path.join(net_dir, "network.py")) as f:
        text = f.read()
    start = text.index("\nSPEC = ") + len("\nSPEC = ")
    end = text.index("\ndef build(", start)
    return list(ast.literal_eval(text[start:end].strip())["states"])


def _run_in_process(net_dir, inputs, T, record, record_states) -> dict:
    name = f"snnc_lava_network_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, os.path.join(net_dir, "network.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        arrays = module.run(inputs, steps=T, record=record, record_states=record_states)
        states = set(module.SPEC["states"]) if record_states else set()
    finally:
        sys.modules.pop(name, None)
    return {(f"state:{k}" if k in states else k): v for k, v in arrays.items()}
