"""snnc's RTL (yosys + nextpnr, ECP5) on the topologies of the published SNN-on-FPGA anchors,
resources and latency side by side with their published numbers (BENCHMARKS.md, RTL section).

Networks (random weights at the anchors' sizes: the accuracy is not compared, only hardware):

* Spiker+ MNIST (IEEE TETC 2024, arXiv 2401.01141): 784-128-10 LIF, 100 time steps (topology
  and steps as recalled from the paper; the paper's text was not retrievable in this session);
  published: 7,612 logic cells, 18 BRAM, 780 us per image (Xilinx Artix-7).
* Flexi-NeurA (arXiv 2602.18140): 256-128-10 LIF; published: 1,623 logic cells, 7 BRAM, 1.1 ms
  per image (time steps not found; the per-sample latency here uses the same 100 steps).

Each network is built as a float NIR graph (Linear + DiscreteLIF, binary spike input), compiled
for the rtl target (8-bit weights, 24-bit states), emitted with ``--parallel`` output neurons per
dense layer, checked bit-exact against the simulator under Verilator (1 sample, a few steps),
synthesized and placed (``synth_ecp5``, nextpnr on the smallest ECP5 that fits). Latency per
sample = cycles per step x steps / fmax. Logic cells = LUT4 + CCU2C (one ECP5 slice half each;
a Xilinx "logic cell" is 1/1.6 of a LUT6, so the comparison is approximate); BRAM: ECP5 DP16KD
(18 Kbit) next to the anchors' Xilinx blocks (36 Kbit RAMB36 or 18 Kbit: not stated).

    .venv/bin/python bench/rtl_vs_anchors.py [--parallel 128] [--steps 100] [--smoke]

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

from snnc.backends.rtl import emit_rtl, run_rtl, synth
from snnc.backends.sim import simulate
from snnc.ir import nodes as N
from snnc.ir.graph import Graph
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph

#: name -> (layer sizes, published {logic cells, BRAM, latency us per sample, note})
ANCHORS = {
    "Spiker+ MNIST": ((784, 128, 10), {"cells": 7612, "bram": 18, "us": 780.0,
                                        "note": "Artix-7, 93.85 %"}),
    "Flexi-NeurA": ((256, 128, 10), {"cells": 1623, "bram": 7, "us": 1100.0, "note": "97.23 %"}),
}


def lif_network(sizes, seed: int = 0) -> Graph:
    """A float LIF MLP with binary spike input: Linear + DiscreteLIF per layer."""
    rng = np.random.default_rng(seed)
    g = Graph(metadata={"dt": 1e-3})
    g.add_node("input", N.Input(shape=(sizes[0],)))
    prev = "input"
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        g.add_node(f"fc{k}", N.Linear(weight=(rng.standard_normal((n_out, n_in)) * 3.0 / np.sqrt(n_in))))
        g.add_node(f"lif{k}", N.DiscreteLIF(shape=(n_out,), voltage_decay=np.array(0.9), current_gain=np.array(1.0),
                                            input_gain=np.array(1.0), v_threshold=np.array(1.0),
                                            v_reset=np.array(0.0)))
        g.add_edge(prev, f"fc{k}")
        g.add_edge(f"fc{k}", f"lif{k}")
        prev = f"lif{k}"
    g.add_node("output", N.Output(shape=(sizes[-1],)))
    g.add_edge(prev, "output")
    return g


def measure(name: str, sizes, parallel: int, steps: int, folder: str, *, place_route: bool = True) -> dict:
    lowered, _ = compile_graph(lif_network(sizes), make_config("rtl"))
    # the input is a spike train (0/1): the first synapse selects weights instead of multiplying
    # (IntDense 'binary' is 1[x != 0], the same values for 0/1 inputs)
    lowered.nodes["fc0"].input_kind = "binary"
    par = {n: min(parallel, int(np.shape(lowered.nodes[n].weight)[0])) for n in lowered.nodes
           if type(lowered.nodes[n]).__name__ == "IntDense"}
    x = (np.random.default_rng(1).random((1, 4, sizes[0])) < 0.2).astype(np.int64)
    t0 = time.time()
    ref = simulate(lowered, x, record="outputs")
    got = run_rtl(lowered, x, record="outputs", record_states=False, parallelism=par, input_bits=2)
    exact = all(np.array_equal(got.outputs[k], v) for k, v in ref.outputs.items())
    t_verify = time.time() - t0
    design = os.path.join(folder, name.replace(" ", "_").replace("+", "p"))
    rep = emit_rtl(lowered, design, parallelism=par, input_bits=2, force=True)
    res = synth(design, "ecp5", place_route=place_route)
    t = res["total"]
    cells = t["lut"] + t["carry"]
    us_sample = res["us_per_step"] * steps if res["us_per_step"] else None
    return {"name": name, "sizes": "-".join(map(str, sizes)), "parallel": par, "bit_exact": exact,
            "verify_s": round(t_verify, 1), "part": res["part"], "lut4": t["lut"], "ccu2c": t["carry"],
            "cells": cells, "ff": t["ff"], "bram": t["bram"], "dsp": t["dsp"], "lutram": t.get("lutram", 0),
            "fmax_mhz": res["fmax_mhz"], "cycles_per_step": rep["cycles_per_step"],
            "us_per_step": res["us_per_step"], "us_per_sample": us_sample, "steps": steps,
            "seconds": res["seconds"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parallel", type=int, default=128, help="output neurons per dense layer in parallel")
    ap.add_argument("--steps", type=int, default=100, help="time steps per sample")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, synthesis only (for tests)")
    ap.add_argument("--json", default=None, help="also write the rows to this file")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="snnc-rtl-bench-") as folder:
        for name, (sizes, pub) in ANCHORS.items():
            if args.smoke:
                sizes = (32, 8, 4)
            row = measure(name, sizes, args.parallel, args.steps, folder, place_route=not args.smoke)
            row["published"] = pub
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print(f"{'network':<16} {'topology':<11} {'P':>4} {'LUT4+CCU2C':>10} {'FF':>6} {'BRAM':>5} {'DSP':>4} "
          f"{'fmax MHz':>8} {'cyc/step':>8} {'us/sample':>10} | {'published cells':>15} {'BRAM':>5} "
          f"{'us/sample':>9}  exact")
    for r in rows:
        p = r["published"]
        fmax = f"{r['fmax_mhz']:.1f}" if r["fmax_mhz"] else "-"
        us = f"{r['us_per_sample']:.0f}" if r["us_per_sample"] else "-"
        pmax = max(r["parallel"].values())
        print(f"{r['name']:<16} {r['sizes']:<11} {pmax:>4} {r['cells']:>10} {r['ff']:>6} {r['bram']:>5} "
              f"{r['dsp']:>4} {fmax:>8} {r['cycles_per_step']:>8} {us:>10} | {p['cells']:>15} {p['bram']:>5} "
              f"{p['us']:>9.0f}  {r['bit_exact']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0 if all(r["bit_exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
