"""Pre-synthesis resource estimate of a generated HLS model, per layer.

The rules (simple, stated, and the same for every layer; real numbers come from Vitis HLS's
csynth report):

* **weight memory**: every constant array (weights, LUTs, per-neuron parameters) at its stored
  width (``firmware/snnc_types.h``); ``weight_bits`` = elements x width.
* **BRAM18**: an array is split into ``lanes`` banks (one read per lane per cycle); a bank
  above :data:`LUTRAM_MAX_BITS` goes to block RAM and takes the fewest 18 Kb blocks for its
  depth and width (aspect ratios 16K x 1, 8K x 2, 4K x 4, 2K x 9, 1K x 18, 512 x 36; wider words
  use several blocks side by side).
* **multipliers**: products of two variables per step (spike inputs need none: their synapses
  add weights) divided by the reuse factor R: ``ceil(products / R)`` (a DSP48 each, up to 18x27).
* **state bits**: neuron state (elements x width) plus the output buffers of the window and of
  delays.
* **cycles per step**: ``lanes = ceil(work / R)`` operators work in parallel, so a layer takes
  ``ceil(work / lanes) + PIPELINE_DEPTH`` cycles; layers run one after another (no dataflow), and a
  whole-window layer's cycles are spread over its window.
"""

from __future__ import annotations

import math

#: arrays of at most this many bits are assumed to go to LUTs/registers, not BRAM
LUTRAM_MAX_BITS = 1024
#: assumed latency of a pipelined layer loop, in cycles
PIPELINE_DEPTH = 8
BRAM18_SHAPES = ((1, 16384), (2, 8192), (4, 4096), (9, 2048), (18, 1024), (36, 512))


def bram18_blocks(depth: int, width: int) -> int:
    """18 Kb blocks holding ``depth`` words of ``width`` bits."""
    if depth <= 0 or width <= 0:
        return 0
    for w, d in BRAM18_SHAPES:
        if width <= w:
            return math.ceil(depth / d)
    return math.ceil(width / 36) * math.ceil(depth / 512)


def estimate_resources(plan, *, reuse_factor: int = 1, clock_ns: float = 5.0) -> dict:
    """{'layers': {node: {...}}, 'total': {...}, 'rules': ...} for a :class:`~.codegen.ModelPlan`."""
    R = max(1, int(reuse_factor))
    layers = {}
    total = {"weight_bits": 0, "bram18": 0, "multipliers": 0, "state_bits": 0, "cycles_per_step": 0}
    for name, code in plan.codes.items():
        spec = plan.specs[name]
        lanes = max(1, math.ceil(code.work / R)) if code.work else 1
        weight_bits = sum(size * bits for _, size, bits in spec.memories)
        bram = 0
        for _, size, bits in spec.memories:
            banks = min(lanes, size)
            depth = math.ceil(size / banks)
            if depth * bits > LUTRAM_MAX_BITS:          # small banks stay in LUTs / registers
                bram += banks * bram18_blocks(depth, bits)
        state_bits = sum(size * plan.types.bits[f"{cname}_t"] for _, cname, size in code.states)
        state_bits += (plan.history[name] + plan.window) * plan.size(name) * code.out_bits
        cycles = 0
        if code.work and not code.source:
            cycles = math.ceil(code.work / lanes) + PIPELINE_DEPTH
            if code.whole_window:
                cycles = math.ceil(cycles / code.whole_window)
        row = {"kind": type(spec.node).__name__, "weight_bits": weight_bits, "bram18": bram,
               "multipliers": math.ceil(code.multipliers / R), "state_bits": state_bits,
               "cycles_per_step": cycles, "parallel_lanes": lanes if code.work else 0}
        layers[name] = row
        for k in total:
            total[k] += row[k]
    total["time_per_step_us"] = total["cycles_per_step"] * clock_ns / 1000.0
    return {"reuse_factor": R, "clock_ns": clock_ns, "window": plan.window, "layers": layers, "total": total,
            "rules": "pre-synthesis estimate; see snnc/backends/fpga/resources.py"}


def format_resources(res: dict) -> str:
    """A small table for the terminal."""
    head = f"{'layer':<24} {'kind':<16} {'weight bits':>12} {'BRAM18':>7} {'mult':>6} {'state bits':>11} {'cycles':>7}"
    lines = [head, "-" * len(head)]
    for name, r in res["layers"].items():
        if not any(r[k] for k in ("weight_bits", "bram18", "multipliers", "state_bits", "cycles_per_step")):
            continue
        lines.append(f"{name[:24]:<24} {r['kind'][:16]:<16} {r['weight_bits']:>12} {r['bram18']:>7} "
                     f"{r['multipliers']:>6} {r['state_bits']:>11} {r['cycles_per_step']:>7}")
    t = res["total"]
    lines.append(f"{'total':<24} {'':<16} {t['weight_bits']:>12} {t['bram18']:>7} {t['multipliers']:>6} "
                 f"{t['state_bits']:>11} {t['cycles_per_step']:>7}")
    lines.append(f"reuse factor {res['reuse_factor']}, clock {res['clock_ns']} ns: "
                 f"{t['time_per_step_us']:.3f} us per time step (pre-synthesis estimate)")
    return "\n".join(lines)
