"""The integer simulator on one network under several (sample group, block length) settings,
interleaved in one process (issue 20).

A batch of an integer graph runs as groups of samples, each over blocks of steps
(:meth:`snnc.backends.sim.Simulator.sample_groups`, :meth:`~snnc.backends.sim.Simulator.steps_per_block`).
This script runs the same batch-32 input under each ``--settings`` entry ``GxT`` (G samples per
group, blocks of T steps; ``0x0`` = the simulator's own choice) and a batch-1 run of the same
network, one run of each in turn per round (so a noisy moment of this shared machine hits every
setting alike), and prints process time in us per sample-step: minimum and median over the
rounds after the first (the first is a warm-up). Every setting's outputs are checked equal to
the default's. BLAS runs on 1 thread unless the thread variables are set (process time sums the
threads: a second BLAS thread's spinning would count).

    .venv/bin/python bench/sim_blocking.py [--network pilotnet] [--settings 0x0,32x2,8x8,4x12,1x12]
        [--rounds 7] [--steps 12]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--network", default="pilotnet")
    ap.add_argument("--settings", default="0x0,32x2,8x8,4x12,1x12")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--steps", type=int, default=12, help="steps of the batch-32 run (batch 1: 16)")
    args = ap.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")              # before numpy loads its BLAS
    import numpy as np
    from networks import build, inputs

    from snnc.backends.sim import Simulator

    graph, _, rate = build(args.network)
    batch, steps, steps_one = 32, args.steps, 16
    x = inputs(args.network, graph, batch, steps, seed=1, rate=rate)
    x_one = inputs(args.network, graph, 1, steps_one, seed=2, rate=rate)
    sims = {}
    for s in args.settings.split(","):
        g, t = (int(v) for v in s.split("x"))
        sims[s] = Simulator(graph, group_samples=g or None, block_steps=t or None)
    sims["batch 1"] = Simulator(graph)
    ref = sims[next(iter(sims))].run(x)
    for s, sim in sims.items():
        if s != "batch 1":
            got = sim.run(x)
            assert all(np.array_equal(ref.outputs[k], got.outputs[k]) for k in ref.outputs), f"{s} differs"
    times = {s: [] for s in sims}
    for _ in range(args.rounds):
        for s, sim in sims.items():
            xs, n = (x_one, steps_one) if s == "batch 1" else (x, batch * steps)
            t0 = time.process_time()
            sim.run(xs)
            times[s].append(1e6 * (time.process_time() - t0) / n)
    default = sims[next(iter(sims))]
    group = default.sample_groups(steps, batch)[0][1]
    print(f"{args.network}, batch {batch} x {steps} steps (default: groups of {group} samples, blocks of "
          f"{default.steps_per_block(steps, group)} steps); batch 1 x {steps_one} steps; process time, "
          f"us per sample-step, {os.environ['OPENBLAS_NUM_THREADS']} BLAS thread(s)")
    print(f"{'setting':12s} {'min':>8s} {'median':>8s}")
    for s, v in times.items():
        v = v[1:] or v
        print(f"{s:12s} {min(v):8.1f} {statistics.median(v):8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
