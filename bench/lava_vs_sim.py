"""Lava (CPU, Loihi2SimCfg fixed_pt) vs the snnc simulator on one compiled network.

Network: input 784 -> Linear -> LIF 256 -> Linear -> LIF 256 -> Linear -> LIF 10, compiled for
loihi2 (8-bit weights, Lava LIF arithmetic, one step of latency per synapse). The simulator runs
a batch of 256 samples at once; Lava runs one sample at a time (a fresh process network per
sample, as ``run_lava`` does). Both record the Output node only, and the Lava outputs are
checked identical to the simulator's for the same samples.

Reported per sample-step: the simulator's time; Lava end to end (emit + start + run + read back,
divided by samples x steps); and Lava's marginal cost of one more step (from two run lengths,
i.e. without the ~1 s start-up). One run, no repetitions.

    .venv/bin/python bench/lava_vs_sim.py [--steps 100] [--lava-samples 2] [--batch 256]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from snnc.backends.lava.run import run_lava
from snnc.backends.sim import Simulator
from snnc.ir import nodes as N
from snnc.ir.graph import Graph
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph


def network(seed: int = 0) -> Graph:
    rng = np.random.default_rng(seed)
    g = Graph(metadata={"dt": 1e-3})
    g.add_node("input", N.Input(shape=(784,)))
    prev, size = "input", 784
    for k, m in enumerate((256, 256, 10)):
        g.add_node(f"fc{k}", N.Linear(weight=(rng.standard_normal((m, size)) * 2.5 / np.sqrt(size)).astype(np.float32)))
        g.add_node(f"lif{k}", N.DiscreteLIF(shape=(m,), voltage_decay=np.array(0.9), current_gain=np.array(1.0),
                                            input_gain=np.array(1.0), v_threshold=np.array(1.0),
                                            v_reset=np.array(0.0)))
        g.add_edge(prev, f"fc{k}")
        g.add_edge(f"fc{k}", f"lif{k}")
        prev, size = f"lif{k}", m
    g.add_node("output", N.Output(shape=(10,)))
    g.add_edge(prev, "output")
    return g


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--lava-samples", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--python", default=None, help="Lava interpreter (default: .venv-lava or $SNNC_LAVA_PYTHON)")
    args = ap.parse_args(argv)
    graph, _ = compile_graph(network(), make_config("loihi2"))
    rng = np.random.default_rng(1)
    T, B = args.steps, args.batch
    x = (rng.random((B, T, 784)) < 0.2).astype(np.int64)

    sim = Simulator(graph)
    t0 = time.perf_counter()
    ref = sim.run(x, record="outputs").outputs["output"]
    t_sim = time.perf_counter() - t0          # cold: first run, fresh heap pages (what the ratio uses)
    warm = []
    for _ in range(2):                         # steady state: the same run again, pages mapped
        t0 = time.perf_counter()
        again = sim.run(x, record="outputs").outputs["output"]
        warm.append(time.perf_counter() - t0)
        assert np.array_equal(again, ref)
    t_warm = min(warm)

    n = args.lava_samples
    short = max(2, T // 5)
    t0 = time.perf_counter()
    lava_short = run_lava(graph, x[:n, :short], record="outputs", python=args.python).outputs["output"]
    t_short = time.perf_counter() - t0
    t0 = time.perf_counter()
    lava = run_lava(graph, x[:n], record="outputs", python=args.python).outputs["output"]
    t_lava = time.perf_counter() - t0

    same = np.array_equal(lava, ref[:n]) and np.array_equal(lava_short, sim.run(x[:n, :short]).outputs["output"])
    sim_ps = t_sim / (B * T)
    lava_ps = t_lava / (n * T)
    lava_marginal = (t_lava - t_short) / (n * (T - short))
    print(f"network 784-256-256-10 LIF (loihi2), {T} steps, input spike rate 0.2, output spikes "
          f"{int(ref.sum())} in {B} samples")
    warm_ps = t_warm / (B * T)
    print(f"snnc simulator: batch {B}: {t_sim:.3f} s = {sim_ps * 1e6:.1f} us per sample-step (first run); "
          f"warm {t_warm:.3f} s = {warm_ps * 1e6:.1f} us (best of 2 more runs)")
    print(f"Lava CPU (Loihi2SimCfg fixed_pt): {n} samples one at a time: {t_lava:.2f} s = "
          f"{lava_ps * 1e3:.2f} ms per sample-step end to end; marginal {lava_marginal * 1e3:.2f} ms per step "
          f"(run of {short} steps: {t_short:.2f} s)")
    print(f"outputs identical: {same}")
    print(f"ratio Lava/simulator per sample-step: {lava_ps / sim_ps:.0f}x end to end, "
          f"{lava_marginal / sim_ps:.0f}x marginal")
    print(f"steady state (Lava marginal / simulator warm): {lava_marginal / warm_ps:.0f}x; "
          f"Lava end to end / simulator warm: {lava_ps / warm_ps:.0f}x (not a like-for-like ratio: Lava's "
          "figure includes its start-up)")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
