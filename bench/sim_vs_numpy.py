"""Benchmark: snnc simulator vs plain float32 numpy matmuls of the same layer shapes.

Network: 784-256-256-10 LIF (DiscreteLIF, beta 0.9), batch 256, T steps of Poisson input.
Baseline: the same three matmuls per step in float32 numpy plus the minimal LIF update
(decay, add, compare, reset) — what a hand-written numpy loop would do. Prints the time per
sample-step of each and their ratio, measured in one run.

    .venv/bin/python bench/sim_vs_numpy.py [--steps 50] [--batch 256]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from snnc.backends.sim import Simulator
from snnc.ir.graph import Graph

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp import lif_mlp  # noqa: E402

SIZES = (784, 256, 256, 10)


def build(rng) -> tuple[Graph, list[np.ndarray]]:
    return lif_mlp(SIZES, rng, 2.0, dtype=np.float32, metadata={"dt": 1e-3, "level": "discrete"})


def numpy_baseline(x: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    """x: (T, B, 784) float32 -> output spikes (T, B, 10)."""
    T, B = x.shape[:2]
    v = [np.zeros((B, w.shape[0]), np.float32) for w in weights]
    out = np.empty((T, B, weights[-1].shape[0]), np.float32)
    for t in range(T):
        s = x[t]
        for k, w in enumerate(weights):
            h = np.float32(0.9) * v[k] + s @ w.T
            s = (h > 1.0).astype(np.float32)
            v[k] = np.where(s > 0, np.float32(0.0), h)
        out[t] = s
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    g, weights = build(rng)
    x = (rng.random((args.batch, args.steps, SIZES[0])) < 0.1).astype(np.float32)
    sim = Simulator(g, dtype=np.float32)
    sim.run(x[:, :2])  # warm-up
    t0 = time.perf_counter()
    trace = sim.run(x)
    t_sim = time.perf_counter() - t0
    xt = np.ascontiguousarray(np.moveaxis(x, 1, 0))
    numpy_baseline(xt[:2], weights)
    t0 = time.perf_counter()
    ref = numpy_baseline(xt, weights)
    t_np = time.perf_counter() - t0
    same = np.array_equal(np.moveaxis(trace.outputs["output"], 1, 0), ref)
    per = args.batch * args.steps
    print(f"network {'-'.join(map(str, SIZES))} LIF, batch {args.batch}, {args.steps} steps (float32)")
    print(f"snnc simulator      : {t_sim / per * 1e6:8.2f} us per sample-step")
    print(f"plain numpy matmuls : {t_np / per * 1e6:8.2f} us per sample-step")
    print(f"ratio sim / numpy   : {t_sim / t_np:8.2f}x   (target: within 3x)   outputs identical: {same}")


if __name__ == "__main__":
    main()
