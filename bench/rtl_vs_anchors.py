"""snnc's RTL (yosys + nextpnr, ECP5; yosys synth_xilinx) on the topologies of the published
SNN-on-FPGA anchors, resources and latency side by side with their published numbers
(BENCHMARKS.md, RTL section).

Anchors (what was verified, and where; the accuracy is not compared, only hardware; random weights):

* Spiker+ MNIST (Carpegna, Savino, Di Carlo, IEEE TETC 2024, arXiv 2401.01141): published 7,612
  logic cells, 18 BRAM, 180 mW, 780 us per image, 93.85 % (abstract). Topology, steps and
  widths from the authors' repository github.com/smilies-polito/Spiker at commit 2ca660d (the
  MNIST tutorial, removed in d55a0a4, 2024-09): ``Tutorials/Mnist/single_image_test.py``
  ``networkList = [784, 128, 10]`` (parameters ``Parameters128``), ``Tutorials/Mnist/vhdl_gen.py``
  ``n_cycles = 100`` time steps, 4-bit excitatory weights (``w_bitwidth1 = 4``), 6-bit membrane
  (``bitwidth1 = 6``, 4 fractional bits), subtractive reset, leak as a shift; the board
  constraints ``Tutorials/pynq_z2.xdc``: 10 ns clock (100 MHz) on a PYNQ-Z2 (Zynq-7020, Artix-7
  fabric). Whether "BRAM" means RAMB36 or RAMB18 is not stated in what was found.
* Flexi-NeurA (Farahani, Roshanshah, Safari, arXiv 2602.18140): 256-128-10 LIF on two cores,
  1,623 logic cells, 7 BRAM, 111 mW, 1.1 ms per image, 97.23 % (abstract). Time steps, weight
  widths, clock and device were not found (only the abstract was retrievable): the same 100
  steps and 4-bit weights are used here.

Each network is a float NIR graph (Linear + DiscreteLIF, binary spike input), compiled for the
rtl target with ``--weight-bits`` (default 4, Spiker+'s) and 24-bit states, emitted with
``--parallel`` output neurons per dense layer (all 128: one group), zero skipping (binary dense
layers pay one cycle per nonzero input) and ``--in-lanes`` input spikes per stream transfer;
checked bit-exact against the simulator under Verilator (1 sample x 4 steps, outputs and the
exact cycle count of every step), synthesized and placed (``synth_ecp5``, nextpnr on the
smallest ECP5 that fits) and synthesized for Xilinx 7-series (``synth_xilinx``, no open place
and route: no fmax). The cycle count depends on the spikes: it is taken from the cycle model
(``step_cycles``, equal to Verilator's count) over ``--steps`` steps of Bernoulli(``--rate``)
input spikes (MNIST's mean pixel intensity is 0.13; rate coding gives about that fraction of
spiking inputs per step); latency per sample = those cycles / fmax. Logic cells: ECP5 LUT4 +
CCU2C (a CCU2C is 2 bits of carry chain in one slice); Xilinx LUT1..6 (+ CARRY4). BRAM: ECP5
DP16KD is 18 Kbit; Xilinx RAMB36 = 36 Kbit, RAMB18 = 18 Kbit.

    .venv/bin/python bench/rtl_vs_anchors.py [--parallel 128] [--steps 100] [--in-lanes 16]
        [--weight-bits 4] [--rate 0.2] [--no-xilinx] [--smoke]

``--smoke``: tiny sizes (32-8-4), synthesis without place and route, for tests.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

from snnc.backends.rtl import emit_rtl, make_plan, run_rtl, synth
from snnc.backends.rtl.emit import step_cycles
from snnc.backends.sim import simulate
from snnc.ir.graph import Graph
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp import lif_mlp  # noqa: E402

#: name -> (layer sizes, published {logic cells, BRAM, latency us per sample, note})
ANCHORS = {
    "Spiker+ MNIST": ((784, 128, 10), {"cells": 7612, "bram": 18, "us": 780.0,
                                        "note": "Artix-7 (PYNQ-Z2) 100 MHz, 100 steps, 4-bit weights, 93.85 %"}),
    "Flexi-NeurA": ((256, 128, 10), {"cells": 1623, "bram": 7, "us": 1100.0, "note": "97.23 %; steps not found"}),
}


def lif_network(sizes, seed: int = 0) -> Graph:
    """A float LIF MLP with binary spike input: Linear + DiscreteLIF per layer."""
    return lif_mlp(sizes, np.random.default_rng(seed), 3.0)[0]


def measure(name: str, sizes, parallel: int, steps: int, folder: str, *, place_route: bool = True,
            in_lanes: int = 16, weight_bits: int = 4, rate: float = 0.2, xilinx: bool = True) -> dict:
    lowered, _ = compile_graph(lif_network(sizes), make_config("rtl", {"weights": {"bits": weight_bits}}))
    # the input is a spike train (0/1): the first synapse selects weights instead of multiplying
    # (IntDense 'binary' is 1[x != 0], the same values for 0/1 inputs) and skips zeros
    lowered.nodes["fc0"].input_kind = "binary"
    par = {n: min(parallel, int(np.shape(lowered.nodes[n].weight)[0])) for n in lowered.nodes
           if type(lowered.nodes[n]).__name__ == "IntDense"}
    kw = {"parallelism": par, "input_bits": 2, "in_lanes": in_lanes}
    plan = make_plan(lowered, **kw)
    rng = np.random.default_rng(1)
    x = (rng.random((1, 4, sizes[0])) < rate).astype(np.int64)
    t0 = time.time()
    ref = simulate(lowered, x, record="all")
    stats = {}
    got = run_rtl(lowered, x, record="outputs", record_states=False, stats=stats, **kw)
    exact = all(np.array_equal(got.outputs[k], ref.outputs[k]) for k in got.outputs)
    exact = exact and bool(np.array_equal(stats["cycles"], step_cycles(plan, ref.outputs)))
    t_verify = time.time() - t0
    xs = (rng.random((1, steps, sizes[0])) < rate).astype(np.int64)
    cyc = step_cycles(plan, simulate(lowered, xs, record="all").outputs)
    design = os.path.join(folder, name.replace(" ", "_").replace("+", "p"))
    rep = emit_rtl(lowered, design, force=True, **kw)
    res = synth(design, "ecp5", place_route=place_route)
    t = res["total"]
    fmax = res["fmax_mhz"]
    row = {"name": name, "sizes": "-".join(map(str, sizes)), "parallel": par, "in_lanes": in_lanes,
           "weight_bits": weight_bits, "rate": rate, "bit_exact": exact, "verify_s": round(t_verify, 1),
           "part": res["part"], "lut4": t["lut"], "ccu2c": t["carry"], "cells": t["lut"] + t["carry"], "ff": t["ff"],
           "bram": t["bram"], "dsp": t["dsp"], "lutram": t.get("lutram", 0), "fmax_mhz": fmax,
           "cycles_per_step_bound": rep["cycles_per_step"], "cycles_per_step_mean": float(cyc.mean()),
           "cycles_per_sample": int(cyc.sum()), "us_per_sample": cyc.sum() / fmax if fmax else None,
           "us_per_sample_at_100mhz": cyc.sum() / 100.0, "steps": steps, "seconds": res["seconds"]}
    if xilinx:
        xr = synth(design, "xilinx")["total"]
        row["xilinx"] = {"lut": xr["lut"], "carry4": xr["carry"], "ff": xr["ff"], "lutram": xr["lutram"],
                         "bram18_equiv": xr.get("bram18", 0), "bram_cells": xr["bram"], "dsp": xr["dsp"]}
        with open(os.path.join(design, "stat_xilinx.json")) as f:
            text = f.read()
        cells = json.loads(text[text.index("{"):]).get("design", {}).get("num_cells_by_type", {})
        row["xilinx"]["ramb36"] = int(cells.get("RAMB36E1", 0))
        row["xilinx"]["ramb18"] = int(cells.get("RAMB18E1", 0))
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parallel", type=int, default=128, help="output neurons per dense layer in parallel")
    ap.add_argument("--steps", type=int, default=100, help="time steps per sample")
    ap.add_argument("--in-lanes", type=int, default=16, help="input spikes per stream transfer")
    ap.add_argument("--weight-bits", type=int, default=4, help="weight bits of the quantizer")
    ap.add_argument("--rate", type=float, default=0.2, help="fraction of inputs spiking per step")
    ap.add_argument("--no-xilinx", action="store_true", help="skip synth_xilinx")
    ap.add_argument("--only", default=None, help="run only this anchor (name prefix)")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, synthesis only (for tests)")
    ap.add_argument("--json", default=None, help="also write the rows to this file")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="snnc-rtl-bench-") as folder:
        for name, (sizes, pub) in ANCHORS.items():
            if args.only and not name.lower().startswith(args.only.lower()):
                continue
            if args.smoke:
                sizes = (32, 8, 4)
            row = measure(name, sizes, args.parallel, args.steps, folder, place_route=not args.smoke,
                          in_lanes=args.in_lanes, weight_bits=args.weight_bits, rate=args.rate,
                          xilinx=not args.no_xilinx)
            row["published"] = pub
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print(f"{'network':<14} {'topology':<11} {'P':>4} | {'ECP5 LUT4+CCU2C':>15} {'FF':>5} {'DP16KD':>6} {'fmax':>5} "
          f"{'cyc/step':>8} {'us/sample':>9} | {'7-series LUT':>12} {'FF':>5} {'RAMB36':>6} {'RAMB18':>6} | "
          f"{'published cells':>15} {'BRAM':>4} {'us':>5}  exact")
    for r in rows:
        p = r["published"]
        fmax = f"{r['fmax_mhz']:.1f}" if r["fmax_mhz"] else "-"
        us = f"{r['us_per_sample']:.0f}" if r["us_per_sample"] else "-"
        x = r.get("xilinx") or {}
        pmax = max(r["parallel"].values())
        print(f"{r['name']:<14} {r['sizes']:<11} {pmax:>4} | {r['cells']:>15} {r['ff']:>5} {r['bram']:>6} {fmax:>5} "
              f"{r['cycles_per_step_mean']:>8.0f} {us:>9} | {x.get('lut', '-'):>12} {x.get('ff', '-'):>5} "
              f"{x.get('ramb36', '-'):>6} {x.get('ramb18', '-'):>6} | {p['cells']:>15} {p['bram']:>4} "
              f"{p['us']:>5.0f}  {r['bit_exact']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0 if all(r["bit_exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
