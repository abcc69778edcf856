"""Pre-synthesis estimate of a design (no tools run) and its comparison with :func:`.synth`.

Memories: every ROM/RAM/buffer is counted in ECP5 DP16KD blocks (18 Kbit; a memory of ``d``
words x ``w`` bits uses ``ceil(w / width(d)) * ceil(d / depth)`` blocks over the DP16KD
aspect ratios 16K x 1 .. 512 x 36); memories under 1 Kbit are assumed in LUT RAM / registers.
Logic: LUT4s of the datapath from the plan's widths (a w-bit adder, comparator or mux ~ w LUT4s,
a multiplier on DSP blocks), plus a fixed sequencer cost per module. It is a coarse model meant
to rank design choices (parallelism) before synthesis; :func:`compare` shows its error.
"""

from __future__ import annotations

import math

import numpy as np

from snnc.ir.graph import Graph

from .emit import cycles_per_step, step_cycles
from .plan import Plan, make_plan

#: DP16KD aspect ratios (depth, width)
DP16KD = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
LUTRAM_MAX_BITS = 1024
SEQUENCER_LUTS = 40


def bram_blocks(depth: int, width: int) -> int:
    """DP16KD blocks of a depth x width memory (0 when small enough for LUT RAM)."""
    if depth * width <= LUTRAM_MAX_BITS:
        return 0
    return min(math.ceil(width / w) * math.ceil(depth / d) for d, w in DP16KD)


def _layer(plan: Plan, name: str) -> dict:
    r, s = plan.rtl[name], plan.specs[name]
    kind = type(s.node).__name__
    rom = words = 0
    if r.rom_bits:
        words = max(1, s.out_size * s.in_size // max(1, s.parallel)) if kind == "IntDense" else max(1, s.out_size)
        rom = bram_blocks(words, max(1, r.rom_bits // words))
    ram = sum(bram_blocks(st.size, st.width) for st in r.states)
    out = plan.buffers[name]
    buf = bram_blocks(out.size * out.depth, out.width)
    width = max(s.x_width, r.y_width)
    lanes = max(1, s.parallel)
    if s.spike_list:       # zero skipping: an adder per lane, a lanes-to-1 output multiplexer, no drain registers
        datapath = width * lanes + width * math.ceil(lanes / 3)
        ff = width * lanes + 2 * (r.rom_bits // max(1, words)) + 64      # accumulators, 2 ROM word registers
        rom += bram_blocks(s.in_size, max(1, (s.in_size - 1).bit_length()))      # the list of nonzero inputs
    elif kind in ("IntDense", "IntConv2d", "SumPool2d"):
        datapath = 3 * width * lanes
        ff = 2 * width * lanes + 64
    else:
        datapath = sum(st.width for st in r.states) * 6 + width
        ff = sum(st.width for st in r.states) + width + 40
    return {"node": name, "module": r.ident, "lut": SEQUENCER_LUTS + datapath, "ff": ff, "bram": rom + ram + buf,
            "dsp": r.multipliers, "cycles": r.cycles, "cycles_min": r.cycles_for(0) - plan.chain_saving(name),
            "cycles_per_nonzero_input": r.active_cycles}


def estimate(graph: Graph | Plan, parallelism: dict | int | None = None, *, steps: int = 1,
             input_bits: int | dict | None = None, in_lanes: int = 1, zero_skip: bool = True,
             input_rate: float | None = None) -> dict:
    """{'layers': [{node, module, lut, ff, bram, dsp, cycles, cycles_min, cycles_per_nonzero_input}],
    'total': {lut, ff, bram, dsp}, 'cycles_per_step', 'cycles_per_sample' (``steps`` steps),
    'cycles_per_step_min'} for a graph (or a plan). With zero skipping the cycles depend on the
    data: ``cycles_per_step`` is the bound (every input nonzero), ``cycles_per_step_min`` no input
    nonzero, and with ``input_rate`` (fraction of nonzero values feeding each skipping layer)
    ``cycles_per_step_at_rate``; exact counts of given data: :func:`.emit.step_cycles`."""
    plan = graph if isinstance(graph, Plan) else make_plan(graph, parallelism=parallelism, input_bits=input_bits,
                                                                         in_lanes=in_lanes, zero_skip=zero_skip)
    layers = [_layer(plan, n) for n in plan.order]
    top_bram = sum(bram_blocks(b.size * b.depth, b.width) for b in plan.buffers.values() if b.kind != "node")
    total = {k: sum(layer[k] for layer in layers) for k in ("lut", "ff", "bram", "dsp")}
    total["lut"] += 60 + 10 * len(plan.buffers)
    total["ff"] += 80
    total["bram"] += top_bram
    cps = cycles_per_step(plan)
    out = {"layers": layers, "total": total, "cycles_per_step": cps, "cycles_per_sample": cps * int(steps),
           "cycles_per_step_min": cps}
    if plan.spike_lists:       # data-dependent: the bound above, the count with no nonzero input, at a rate
        sizes = {src: plan.buffers[src].size for src in plan.spike_lists}
        zero = {src: np.zeros((1, 1, n)) for src, n in sizes.items()}
        out["cycles_per_step_min"] = int(step_cycles(plan, zero)[0, 0])
        if input_rate is not None:
            # every skipping layer's inputs nonzero at ``input_rate`` (spread evenly over the transfers)
            rate = {src: (np.arange(n) % max(1, round(1 / max(input_rate, 1e-9))) == 0)[None, None]
                    for src, n in sizes.items()}
            out["cycles_per_step_at_rate"] = int(step_cycles(plan, rate)[0, 0])
    return out


def compare(est: dict, syn: dict) -> dict:
    """{'lut' | 'ff' | 'bram' | 'dsp': {'estimate', 'synth', 'ratio'}} (ratio = estimate / synth;
    synthesized LUTs count LUT4s plus carry cells, as logic cells)."""
    t = syn.get("total", {})
    measured = {"lut": t.get("lut", 0) + t.get("carry", 0), "ff": t.get("ff", 0), "bram": t.get("bram", 0),
                "dsp": t.get("dsp", 0)}
    return {k: {"estimate": est["total"][k], "synth": measured[k],
                "ratio": (est["total"][k] / measured[k]) if measured[k] else None} for k in measured}
