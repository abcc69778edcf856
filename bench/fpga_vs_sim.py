"""Generated C (the fpga backend's gcc build, called through ctypes) vs the snnc simulator, per
sample-step at batch 1, on the same compiled network; outputs checked identical.

Network: the 784-256-256-10 LIF network of bench/lava_vs_sim.py compiled for the fpga target
(8-bit weights, 24-bit state), and every shipped example model (examples/models/*.nir). Both
backends record only the Output nodes. The C library is built (cached by content hash) and both
models are constructed before timing; each side runs once over ``--steps`` steps of one sample,
after one untimed warm-up.

    .venv/bin/python bench/fpga_vs_sim.py [--steps 1000] [--models]
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time

import numpy as np

import snnc
from snnc.backends.fpga import CModel
from snnc.backends.sim import Simulator
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph
from snnc.runtime.verify import random_inputs

sys.path.insert(0, os.path.dirname(__file__))
from lava_vs_sim import network  # noqa: E402


def measure(name: str, graph, steps: int) -> dict:
    lowered, _ = compile_graph(graph, make_config("fpga"))
    c_model = CModel(lowered)                   # gcc build (cached by content hash) + load
    sim = Simulator(lowered)
    steps = c_model.plan.window * max(1, steps // c_model.plan.window)
    x = random_inputs(lowered, 1, steps, seed=2, rate=0.2)
    warm = min(steps, 4 * c_model.plan.window)
    sim.run(x, steps=warm)
    c_model.run(x, steps=warm)
    t0 = time.perf_counter()
    ref = sim.run(x)
    t_sim = time.perf_counter() - t0
    t0 = time.perf_counter()
    got = c_model.run(x)
    t_c = time.perf_counter() - t0
    same = all(np.array_equal(ref.outputs[k], got.outputs[k]) for k in ref.outputs)
    return {"model": name, "steps": steps, "sim_us": 1e6 * t_sim / steps, "c_us": 1e6 * t_c / steps,
            "ratio": t_sim / t_c, "identical": same}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--models", action="store_true", help="also every examples/models/*.nir")
    args = ap.parse_args(argv)
    rows = [measure("784-256-256-10 LIF", network(), args.steps)]
    if args.models:
        here = os.path.join(os.path.dirname(__file__), "..", "examples", "models")
        for path in sorted(glob.glob(os.path.join(here, "*.nir"))):
            rows.append(measure(os.path.basename(path), snnc.load(path), args.steps))
    print(f"{'model':<24} {'steps':>6} {'sim us/step':>12} {'C us/step':>10} {'C speed-up':>10}  outputs identical")
    for r in rows:
        print(f"{r['model']:<24} {r['steps']:>6} {r['sim_us']:>12.1f} {r['c_us']:>10.1f} {r['ratio']:>9.1f}x  "
              f"{r['identical']}")
    print("target: C at least 10x faster than the simulator per sample-step at batch 1")
    return 0 if all(r["identical"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
