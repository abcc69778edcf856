"""Write the RTL of a lowered integer graph into a folder.

Folder contents: ``snnc_top.v`` (buffers, sequencer, streaming interface: :mod:`.top`), one
``<module>.v`` per compute node, ``*.mem`` ($readmemh files: weights, per-neuron parameters,
constants), ``harness.cpp`` (the Verilator test bench, :mod:`.harness`), ``report.json``
(modules, widths, memories, cycles per step: :func:`design_report`).
"""

from __future__ import annotations

import json
import os

import numpy as np

from snnc.ir.files import atomic_folder
from snnc.ir.graph import Graph
from snnc.ir.version import __version__

from .harness import harness_cpp
from .inlanes import load_cycles
from .modules import hex_lines
from .plan import Plan, make_plan
from .top import top_verilog


def design_files(plan: Plan) -> dict[str, str]:
    """File name -> text of every file of the design (Verilog, memories, harness)."""
    files = {"snnc_top.v": top_verilog(plan)}
    for name in plan.order:
        r = plan.rtl[name]
        files[f"{r.ident}.v"] = r.verilog
        files.update(r.mem_files)
    for b in plan.buffers.values():
        if b.kind == "const":
            files[f"{b.ident}_value.mem"] = hex_lines(b.value, b.width)
    files["harness.cpp"] = harness_cpp(plan)
    return files


def cycles_per_step(plan: Plan) -> int:
    """Clock cycles of one time step from ``start`` to ``done`` (input transfers at one per
    cycle, the nodes one after another, 3 cycles per output value), as the sequencer runs it.
    With zero skipping (:mod:`.skipdense`) this is the bound (every input of a skipping layer
    nonzero); :func:`step_cycles` gives the exact count of given data."""
    n_out = sum(plan.size(n) for n in plan.outputs)
    return 1 + _load(plan) + sum(plan.rtl[n].cycles + 1 - plan.chain_saving(n) for n in plan.order) + 3 * n_out


def _load(plan: Plan, values: dict | None = None):
    """Cycles of the input load (:func:`.inlanes.load_cycles`; the bound without ``values``)."""
    n_in = sum(plan.buffers[n].size for n in plan.inputs)
    scanner = plan.in_lanes > 1 and plan.inputs[0] in plan.spike_lists
    v = None if values is None or not scanner else values[plan.inputs[0]]
    return load_cycles(n_in, plan.in_lanes, scanner, v)


def skipping_layers(plan: Plan) -> dict[str, str]:
    """Zero-skipping dense layer -> the node (or Input) whose nonzero values it pays for."""
    return {dst: src for src, dst in plan.spike_lists.items()}


def step_cycles(plan: Plan, values: dict) -> np.ndarray:
    """Exact clock cycles of each step, int64[B, T], given the values the skipping layers read:
    ``values`` maps each node of :func:`skipping_layers`'s values to int[B, T, ...] (e.g. a
    ``simulate(..., record='all')`` trace's outputs). Cycles grow by ``active_cycles`` per
    nonzero value (one per group of parallel outputs; the early first layer's group 0 runs
    during the input load, free) and never exceed :func:`cycles_per_step`."""
    fixed = cycles_per_step(plan) - _load(plan)
    extra = _load(plan, values)
    for dst, src in skipping_layers(plan).items():
        r = plan.rtl[dst]
        v = np.asarray(values[src])
        active = (v.reshape(v.shape[0], v.shape[1], -1) != 0).sum(axis=2)
        fixed -= r.cycles - r.fixed_cycles
        term = r.active_cycles * active
        extra = term if extra is None else extra + term
    return np.asarray(fixed + extra, np.int64)


def design_report(plan: Plan) -> dict:
    layers = []
    for name in plan.order:
        r, s = plan.rtl[name], plan.specs[name]
        layers.append({"node": name, "module": r.ident, "kind": type(s.node).__name__, "in_size": s.in_size,
                       "out_size": s.out_size, "in_bits": s.x_width, "out_bits": r.y_width, "parallel": s.parallel,
                       "cycles": r.cycles, "cycles_fixed": r.fixed_cycles, "cycles_per_nonzero_input": r.active_cycles,
                       "rom_bits": r.rom_bits, "state_bits": r.ram_bits,
                       "multipliers": r.multipliers,
                       "states": {st.name: {"size": st.size, "bits": st.width} for st in r.states}})
    buffers = [{"node": b.name, "kind": b.kind, "size": b.size, "bits": b.width, "banks": b.depth}
               for b in plan.buffers.values()]
    return {"snnc_version": __version__, "top": "snnc_top", "in_bits": plan.in_width, "in_lanes": plan.in_lanes,
            "out_bits": plan.out_width,
            "inputs": {n: plan.buffers[n].size for n in plan.inputs},
            "outputs": {n: plan.size(n) for n in plan.outputs},
            "cycles_per_step": cycles_per_step(plan),
            "zero_skipping": skipping_layers(plan),
            "chained": dict(plan.chained),
            "layers": layers, "buffers": buffers}


def write_design(plan: Plan, folder: str) -> dict[str, str]:
    files = design_files(plan)
    for name, text in files.items():
        with open(os.path.join(folder, name), "w") as f:
            f.write(text)
    return files


def emit_rtl(graph: Graph, outdir: str, *, parallelism: dict | int | None = None, input_bits: int | dict | None = None,
             force: bool = False, in_lanes: int = 1, zero_skip: bool = True) -> dict:
    """Write the RTL of ``graph`` (a lowered integer graph) into ``outdir`` atomically and
    return its report (also written as ``report.json``). ``parallelism``: output neurons a dense
    layer computes in parallel (int for all layers, or {node: int}; default 1); ``input_bits``:
    signed width of the input stream values (default: ``metadata['max_abs']`` of each Input,
    else 16); ``in_lanes``: input values per stream transfer (:mod:`.inlanes`); ``zero_skip``:
    binary dense layers read only their nonzero inputs (:mod:`.skipdense`). Raises
    UnsupportedError naming a node kind without hardware."""
    plan = make_plan(graph, parallelism=parallelism, input_bits=input_bits, in_lanes=in_lanes, zero_skip=zero_skip)
    report = design_report(plan)
    with atomic_folder(outdir, overwrite=force) as tmp:
        write_design(plan, tmp)
        with open(os.path.join(tmp, "report.json"), "w") as f:
            json.dump(report, f, indent=1)
    report["folder"] = os.path.abspath(outdir)
    return report
