"""Generated C (the fpga backend's gcc -O3 -march=native build, called through ctypes) vs the snnc
simulator, per sample-step at batch 1, on the same compiled network; outputs checked identical.

Networks: the 784-256-256-10 LIF network of bench/lava_vs_sim.py compiled for the fpga target
(8-bit weights, 24-bit state); lava-dl 0.6.0's PilotNet LIF network (5 conv + 4 dense layers,
imported from its ``.net`` as a lowered loihi2 integer graph; the wheel is fetched and cached by
tests/data_sources/lavadl_wheel.py); with ``--models``, every shipped example model
(examples/models/*.nir: the digits models and the quickstart). Both backends record only the
Output nodes. The C library is built (cached by content hash) and both models are constructed
before timing; after one untimed warm-up the two run ``--repeats`` times alternately over
``--steps`` steps of one sample (random spikes, rate 0.2); the table gives the fastest run of each
side (robust against other processes taking the CPU mid-run; the machine is shared) and the
median runs' ratio.
Target: C at least 10x faster than the simulator on every network.

    .venv/bin/python bench/fpga_vs_sim.py [--steps 200] [--models] [--pilotnet-steps 50] [--no-pilotnet]

``measure(name, graph, steps)`` is the per-network measurement (importable: bench/run_all).
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import os
import sys
import tempfile
import time

import numpy as np

import snnc
from snnc.backends.fpga import CModel
from snnc.backends.sim import Simulator
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph
from snnc.runtime.verify import random_inputs

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lava_vs_sim import network  # noqa: E402

TARGET = 10.0
PILOTNET_NET = "gts/pilotnet_lif/network.net"


def measure(name: str, graph, steps: int, repeats: int = 5) -> dict:
    """C vs simulator at batch 1 on ``graph`` (a float graph is compiled for the fpga target; a
    lowered integer graph, e.g. an imported .net, runs as it is). Returns {model, steps, sim_us,
    c_us (fastest of ``repeats`` runs, per sample-step), ratio (of those), sim_us_median,
    c_us_median, ratio_median, identical, target, met (both ratios)}."""
    lowered = graph if graph.metadata.get("level") == "integer" else compile_graph(graph, make_config("fpga"))[0]
    c_model = CModel(lowered)                   # gcc build (cached by content hash) + load
    sim = Simulator(lowered)
    steps = c_model.plan.window * max(1, steps // c_model.plan.window)
    x = random_inputs(lowered, 1, steps, seed=2, rate=0.2)
    warm = min(steps, 4 * c_model.plan.window)
    sim.run(x, steps=warm)
    c_model.run(x, steps=warm)
    t_sim, t_c, same = [], [], True
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        ref = sim.run(x)
        t_sim.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        got = c_model.run(x)
        t_c.append(time.perf_counter() - t0)
        same = same and all(np.array_equal(ref.outputs[k], got.outputs[k]) for k in ref.outputs)
    s, c = min(t_sim), min(t_c)
    sm, cm = float(np.median(t_sim)), float(np.median(t_c))
    ratio, ratio_median = s / c, sm / cm
    return {"model": name, "steps": steps, "sim_us": 1e6 * s / steps, "c_us": 1e6 * c / steps, "ratio": ratio,
            "sim_us_median": 1e6 * sm / steps, "c_us_median": 1e6 * cm / steps, "ratio_median": ratio_median,
            "identical": same, "target": TARGET, "met": min(ratio, ratio_median) >= TARGET}


def pilotnet_graph():
    """lava-dl 0.6.0's PilotNet LIF network as a lowered integer graph (the .net extracted from
    the cached wheel into a temporary folder)."""
    path = os.path.join(HERE, "..", "tests", "data_sources", "lavadl_wheel.py")
    spec = importlib.util.spec_from_file_location("snnc_bench_lavadl_wheel", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    gt = mod.NetxGroundTruth(mod.wheel())
    with tempfile.TemporaryDirectory() as tmp:
        return snnc.load(str(gt.extract(PILOTNET_NET, tmp)))


def networks(models: bool, pilotnet: bool, steps: int, pilotnet_steps: int) -> list[tuple[str, object, int]]:
    """(name, graph, steps) of every benchmarked network (PilotNet's steps capped: its simulator
    takes milliseconds per step)."""
    nets = [("784-256-256-10 LIF", network(), steps)]
    if pilotnet:
        nets.append(("PilotNet LIF (lava-dl)", pilotnet_graph(), min(steps, pilotnet_steps)))
    if models:
        for path in sorted(glob.glob(os.path.join(HERE, "..", "examples", "models", "*.nir"))):
            nets.append((os.path.basename(path), snnc.load(path), steps))
    return nets


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--models", action="store_true", help="also every examples/models/*.nir")
    ap.add_argument("--pilotnet-steps", type=int, default=50, help="steps for PilotNet (at most --steps)")
    ap.add_argument("--no-pilotnet", action="store_true", help="skip lava-dl's PilotNet (needs the cached wheel)")
    args = ap.parse_args(argv)
    rows = [measure(name, g, steps, args.repeats)
            for name, g, steps in networks(args.models, not args.no_pilotnet, args.steps, args.pilotnet_steps)]
    print(f"{'model':<24} {'steps':>6} {'sim us/step':>12} {'C us/step':>10} {'C speed-up':>10} {'median':>8}"
          f"  outputs identical  >= {TARGET:.0f}x")
    for r in rows:
        print(f"{r['model'][:24]:<24} {r['steps']:>6} {r['sim_us']:>12.1f} {r['c_us']:>10.1f} {r['ratio']:>9.1f}x "
              f"{r['ratio_median']:>7.1f}x  {r['identical']!s:<17}  {'met' if r['met'] else 'MISSED'}")
    print("times: fastest of the alternating runs per side; median: ratio of the median runs")
    print(f"target: C at least {TARGET:.0f}x faster than the simulator per sample-step at batch 1, every network")
    return 0 if all(r["identical"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
