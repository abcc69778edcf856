"""Pre-synthesis resource estimate of a generated HLS model, per layer, from the same numbers the
pragmas use (:class:`~.pragmas.LayerHW` of each layer: lanes, II, trips, multipliers).

The rules (simple, stated, and the same for every layer; real numbers come from Vitis HLS's
csynth report):

* **multipliers** (DSP48, up to 18 x 27 each): ``lanes x multiplies per lane`` — spike inputs
  need none (their synapses add weights), a neuron update needs its decay multiplies.
* **weight bits**: every constant array (weights, per-neuron parameters, LUTs) at its stored
  width (``firmware/snnc_types.h``); **state bits**: neuron states, accumulators, window buffers
  and the node's output buffer (history + window rows).
* **BRAM18**: an array partitioned on its lane dimension (``ARRAY_PARTITION cyclic
  factor=lanes``) becomes ``min(lanes, extent)`` banks; a bank above :data:`LUTRAM_MAX_BITS` goes
  to block RAM and takes the fewest 18 Kb blocks for its depth and width (aspect ratios 16K x 1,
  8K x 2, 4K x 4, 2K x 9, 1K x 18, 512 x 36; wider words use several blocks side by side).
* **cycles per step**: ``trips x II + PIPELINE_DEPTH`` per layer, the *worst case* (every input
  non-zero); layers run one after another (no dataflow), a whole-window layer's cycles are spread
  over its window. Conv layers are event-driven (their tap pipeline runs only for non-zero
  inputs): with ``activity`` (the expected fraction of non-zero inputs) the estimate adds
  ``cycles_per_step_expected`` per layer and in total (:meth:`~.pragmas.LayerHW.expected_cycles`).

``part``: checked against :data:`PARTS` (DSP48 / BRAM18 / LUT counts of a few common devices);
``warnings`` says which budget the design exceeds and the smallest uniform reuse factor that would
bring the multipliers within the DSPs.
"""

from __future__ import annotations

import math

from .codegen import plan_model
from .pragmas import PIPELINE_DEPTH, banks

#: arrays of at most this many bits are assumed to go to LUTs/registers, not BRAM
LUTRAM_MAX_BITS = 1024
BRAM18_SHAPES = ((1, 16384), (2, 8192), (4, 4096), (9, 2048), (18, 1024), (36, 512))

#: device budgets (AMD data sheets DS190, DS962, DS891, DS180): DSP48 slices, 18 Kb block RAMs, LUTs
PARTS = {
    "xc7a100t": {"family": "Artix-7", "dsp": 240, "bram18": 270, "lut": 63400},
    "xc7z020": {"family": "Zynq-7000", "dsp": 220, "bram18": 280, "lut": 53200},
    "xczu9eg": {"family": "Zynq UltraScale+", "dsp": 2520, "bram18": 1824, "lut": 274080},
    "xcvu9p": {"family": "Virtex UltraScale+", "dsp": 6840, "bram18": 4320, "lut": 1182240},
    "xcu250": {"family": "Alveo U250 (xcu250)", "dsp": 12288, "bram18": 5376, "lut": 1728000},
}


#: what ``cycles_per_step`` means (written into the estimate and printed under its table)
CYCLES_NOTE = ("cycles_per_step is the worst case (every input non-zero); event-driven conv layers take fewer "
               "at sparse input (cycles_per_step_expected at the given activity)")


def part_budget(part: str | None) -> tuple[str, dict] | None:
    """(table key, budget) of the device named by ``part`` (a full part number such as
    'xczu9eg-ffvb1156-2-e' matches its prefix 'xczu9eg'), or None when not in :data:`PARTS`."""
    if not part:
        return None
    p = part.lower()
    for key in sorted(PARTS, key=len, reverse=True):
        if p.startswith(key):
            return key, PARTS[key]
    return None


def bram18_blocks(depth: int, width: int) -> int:
    """18 Kb blocks holding ``depth`` words of ``width`` bits."""
    if depth <= 0 or width <= 0:
        return 0
    for w, d in BRAM18_SHAPES:
        if width <= w:
            return math.ceil(depth / d)
    return math.ceil(width / 36) * math.ceil(depth / 512)


def array_bram18(size: int, bits: int, n_banks: int) -> int:
    n_banks = max(1, min(n_banks, size)) if size else 1
    depth = math.ceil(size / n_banks)
    if depth * bits <= LUTRAM_MAX_BITS:                 # small banks stay in LUTs / registers
        return 0
    return n_banks * bram18_blocks(depth, bits)


def estimate_resources(plan, *, reuse_factor=None, clock_ns: float = 5.0, part: str | None = None,
                       activity: float | None = None) -> dict:
    """{'layers': {node: {...}}, 'total': {...}, 'part': ..., 'warnings': [...], 'rules': ...} for
    a :class:`~.codegen.ModelPlan` (its layers' reuse factors were fixed when it was planned;
    ``reuse_factor``, when given, re-plans the graph with it). ``cycles_per_step`` is the worst
    case; ``activity`` (0..1, fraction of non-zero inputs) adds ``cycles_per_step_expected``."""
    if reuse_factor is not None:
        plan = plan_model(plan.graph, reuse_factor)
    layers = {}
    keys = ("weight_bits", "state_bits", "bram18", "multipliers", "cycles_per_step")
    total = dict.fromkeys(keys, 0)
    for name, code in plan.codes.items():
        spec, hw = plan.specs[name], code.hw
        lanes = hw.lanes if hw is not None else 1
        row = {"kind": type(spec.node).__name__, "reuse_factor": spec.reuse,
               "lanes": lanes if hw is not None else 0, "ii": hw.ii if hw is not None else 0,
               "trips": hw.trips if hw is not None else 0}
        weight_bits = state_bits = bram = 0
        for a in spec.arrays:
            n_banks = banks(hw, a.lane_extent) if (hw is not None and a.lane_extent) else 1
            if a.const:
                weight_bits += a.size * a.bits
            else:
                state_bits += a.size * a.bits
            bram += array_bram18(a.size, a.bits, n_banks)
        out_rows = plan.history[name] + plan.window
        out_banks = banks(hw, plan.size(name)) if (hw is not None and hw.style == "unroll") else 1
        state_bits += out_rows * plan.size(name) * code.out_bits
        bram += out_rows * array_bram18(plan.size(name), code.out_bits, out_banks)
        cycles = expected = 0
        if hw is not None and not code.source:
            cycles = hw.cycles
            expected = hw.expected_cycles(activity) if activity is not None else cycles
            if code.whole_window:
                cycles = math.ceil(cycles / code.whole_window)
                expected = math.ceil(expected / code.whole_window)
        row.update({"weight_bits": weight_bits, "state_bits": state_bits, "bram18": bram,
                    "multipliers": hw.multipliers if hw is not None else 0, "cycles_per_step": cycles,
                    "event_driven": bool(hw is not None and hw.event_driven)})
        if activity is not None:
            row["cycles_per_step_expected"] = expected
        layers[name] = row
        for k in keys:
            total[k] += row[k]
    total["memory_bits"] = total["weight_bits"] + total["state_bits"]
    total["time_per_step_us"] = total["cycles_per_step"] * clock_ns / 1000.0
    if activity is not None:
        total["cycles_per_step_expected"] = sum(r["cycles_per_step_expected"] for r in layers.values())
        total["time_per_step_expected_us"] = total["cycles_per_step_expected"] * clock_ns / 1000.0
    reuse = sorted({plan.specs[n].reuse for n in plan.codes})
    res = {"reuse_factor": reuse[0] if len(reuse) == 1 else {n: plan.specs[n].reuse for n in plan.codes},
           "clock_ns": clock_ns, "window": plan.window, "pipeline_depth": PIPELINE_DEPTH, "layers": layers,
           "total": total, "part": None, "warnings": [], "activity": activity,
           "cycles": CYCLES_NOTE,
           "rules": "pre-synthesis estimate from the pragmas' numbers; see snnc/backends/fpga/resources.py"}
    res["part"], res["warnings"] = check_part(part, total, plan)
    return res


def check_part(part: str | None, total: dict, plan) -> tuple[dict | None, list[str]]:
    """The part's budget and utilisation, and one warning per exceeded DSP / BRAM budget."""
    found = part_budget(part)
    if found is None:
        return ({"name": part, "known": False} if part else None), []
    key, budget = found
    info = {"name": part, "known": True, "device": key, **budget,
            "dsp_used_pct": round(100.0 * total["multipliers"] / budget["dsp"], 1),
            "bram18_used_pct": round(100.0 * total["bram18"] / budget["bram18"], 1)}
    warnings = []
    if total["multipliers"] > budget["dsp"]:
        need = _uniform_reuse_for_dsp(plan, budget["dsp"])
        hint = f"; a reuse factor of {need} for every layer would fit" if need else ""
        warnings.append(f"{key}: {total['multipliers']} multipliers exceed the {budget['dsp']} DSP48 slices "
                        f"({info['dsp_used_pct']}%){hint}")
    if total["bram18"] > budget["bram18"]:
        warnings.append(f"{key}: {total['bram18']} BRAM18 blocks exceed the {budget['bram18']} on the device "
                        f"({info['bram18_used_pct']}%); weights this large need external memory or a larger part")
    return info, warnings


def _uniform_reuse_for_dsp(plan, dsp: int) -> int | None:
    """Smallest power-of-two reuse factor R (up to 2**20) with sum of ceil(P / R) x mults <= dsp."""
    per_layer = [(c.hw.parallel, c.hw.multipliers // max(1, c.hw.lanes)) for c in plan.codes.values() if c.hw]
    R = 1
    while R <= 2 ** 20:
        if sum(math.ceil(p / R) * m for p, m in per_layer if p) <= dsp:
            return R
        R *= 2
    return None


def format_resources(res: dict, warnings: bool = True) -> str:
    """A small table for the terminal (and the part check's warnings unless ``warnings`` is False:
    a caller that prints ``res['warnings']`` itself)."""
    head = (f"{'layer':<24} {'kind':<14} {'R':>4} {'lanes':>6} {'II':>4} {'weight bits':>12} {'BRAM18':>7} "
            f"{'mult':>7} {'state bits':>11} {'cycles':>8}")
    lines = [head, "-" * len(head)]
    for name, r in res["layers"].items():
        if not any(r[k] for k in ("weight_bits", "bram18", "multipliers", "state_bits", "cycles_per_step")):
            continue
        lines.append(f"{name[:24]:<24} {r['kind'][:14]:<14} {r['reuse_factor']:>4} {r['lanes']:>6} {r['ii']:>4} "
                     f"{r['weight_bits']:>12} {r['bram18']:>7} {r['multipliers']:>7} {r['state_bits']:>11} "
                     f"{r['cycles_per_step']:>8}")
    t = res["total"]
    lines.append(f"{'total':<24} {'':<14} {'':>4} {'':>6} {'':>4} {t['weight_bits']:>12} {t['bram18']:>7} "
                 f"{t['multipliers']:>7} {t['state_bits']:>11} {t['cycles_per_step']:>8}")
    lines.append(f"clock {res['clock_ns']} ns: {t['time_per_step_us']:.3f} us per time step, worst case "
                 "(pre-synthesis estimate)")
    if "cycles_per_step_expected" in t:
        lines.append(f"at input activity {res['activity']:g}: {t['cycles_per_step_expected']} cycles, "
                     f"{t['time_per_step_expected_us']:.3f} us per time step "
                     "(event-driven conv layers skip zero inputs)")
    elif any(r.get("event_driven") for r in res["layers"].values()):
        lines.append("cycles are the worst case: the event-driven conv layers run only for non-zero inputs "
                     "(estimate_resources(..., activity=a) gives the expected figure)")
    p = res.get("part")
    if p and p.get("known"):
        lines.append(f"part {p['name']} ({p['family']}): {p['dsp']} DSP48, {p['bram18']} BRAM18, {p['lut']} LUT; "
                     f"uses {p['dsp_used_pct']}% DSP, {p['bram18_used_pct']}% BRAM18")
    elif p:
        lines.append(f"part {p['name']}: not in the budget table ({', '.join(PARTS)}); no budget check")
    for w in res.get("warnings", []) if warnings else []:
        lines.append(f"WARNING: {w}")
    return "\n".join(lines)
