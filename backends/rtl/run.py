"""Run a lowered integer graph as RTL under Verilator: cycle-accurate, returning the same
:class:`Trace` as the simulator (``snnc.backends.sim.simulate``), so the two compare with exact
integer equality."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import numpy as np

from snnc.ir.errors import BackendError, SnncError
from snnc.ir.graph import Graph
from snnc.ir.signals import prepare_inputs
from snnc.ir.trace import Trace

from . import verilate
from .emit import design_files
from .harness import record_layout
from .plan import Plan, make_plan


def _check_range(plan: Plan, x: dict[str, np.ndarray]) -> None:
    for name in plan.inputs:
        b = plan.buffers[name]
        a = x[name]
        if a.size and (int(a.min()) < b.lo or int(a.max()) > b.hi):
            raise SnncError(f"input values span [{int(a.min())}, {int(a.max())}], outside the {b.width}-bit input "
                            f"port [{b.lo}, {b.hi}]", node=name, hint="pass input_bits= wide enough")


def run_rtl(graph: Graph, inputs, *, steps: int | None = None, record: str = "all", record_states: bool = True,
            workdir: str | None = None, parallelism: dict | int | None = None,
            input_bits: int | dict | None = None, stats: dict | None = None, in_lanes: int = 1,
            zero_skip: bool = True) -> Trace:
    """Simulate the RTL of ``graph`` with Verilator. ``inputs``: [B, T, *shape] or a dict per
    Input node (as the simulator takes them); ``record``: 'outputs' or 'all' nodes;
    ``record_states``: also ``'<node>.<state>'``; ``workdir``: keep the design and the
    exchanged files there (default: a temporary folder, removed). ``stats``: if a dict, gets
    ``cycles`` int64[B, T] (clock cycles of each step), ``build_cached`` and the plan's
    ``cycles_per_step``."""
    plan = make_plan(graph, parallelism=parallelism, input_bits=input_bits, in_lanes=in_lanes, zero_skip=zero_skip)
    x = prepare_inputs(graph, inputs, steps, integer=True)
    _check_range(plan, x)
    B, T = next(iter(x.values())).shape[:2]
    files = design_files(plan)
    sources = {n: t for n, t in files.items() if n.endswith(".v") or n == "harness.cpp"}
    exe, cached = verilate.build(sources)
    own = workdir is None
    folder = tempfile.mkdtemp(prefix="snnc-rtl-") if own else workdir
    try:
        os.makedirs(folder, exist_ok=True)
        for name, text in files.items():
            if name.endswith(".mem"):
                with open(os.path.join(folder, name), "w") as f:
                    f.write(text)
        flat = [x[n].reshape(B, T, -1) for n in plan.inputs]
        xin = np.concatenate(flat, axis=2) if flat else np.zeros((B, T, 0), np.int64)
        np.ascontiguousarray(xin, dtype=np.int64).tofile(os.path.join(folder, "in.bin"))
        res = subprocess.run([exe, "in.bin", "out.bin", str(B), str(T)], cwd=folder, capture_output=True, text=True)
        if res.returncode != 0:
            raise BackendError("the Verilator simulation failed:\n" + (res.stdout + res.stderr)[-4000:], file=folder)
        layout = record_layout(plan)
        rec = sum(size for _, _, size in layout)
        data = np.fromfile(os.path.join(folder, "out.bin"), dtype=np.int64).reshape(B, T, rec)
    finally:
        if own:
            shutil.rmtree(folder, ignore_errors=True)
    shapes = {n: tuple(int(s) for s in getattr(graph.nodes[n], "shape", ()) or ()) for n in graph.nodes}
    trace = Trace()
    state_shapes = {}
    for name in plan.order:
        for s in plan.rtl[name].states:
            rows = (len(s.lanes),) if s.lanes else ()
            state_shapes[f"{name}.{s.name}"] = rows + tuple(plan.specs[name].out_shape)
    pos = 0
    keep = set(graph.output_names()) if record == "outputs" else set(graph.nodes)
    for kind, key, size in layout:
        block = data[:, :, pos:pos + size]
        pos += size
        if kind == "cycles" and stats is not None:
            stats["cycles"] = block[:, :, 0].copy()
        elif kind in ("output", "buffer") and key in keep:
            shape = plan.specs[key].out_shape if key in plan.specs else shapes[key]
            if kind == "buffer" and plan.buffers[key].complex:       # real parts, then imaginary parts
                half = block.shape[2] // 2
                block = block[:, :, :half] + 1j * block[:, :, half:].astype(np.complex128)
            trace.outputs[key] = block.reshape(B, T, *shape).copy()
        elif kind == "state" and record_states:
            trace.states[key] = block.reshape(B, T, *state_shapes[key]).copy()
    for name in plan.inputs:
        if name in keep and name not in trace.outputs:
            trace.outputs[name] = x[name]
    if stats is not None:
        from .emit import cycles_per_step

        stats["build_cached"] = cached
        stats["cycles_per_step"] = cycles_per_step(plan)
    return trace
