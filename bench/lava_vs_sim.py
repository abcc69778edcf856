"""Lava (CPU, Loihi2SimCfg fixed_pt) vs the snnc simulator on one compiled network.

Network: input 784 -> Linear -> LIF 256 -> Linear -> LIF 256 -> Linear -> LIF 10, compiled for
loihi2 (8-bit weights, Lava LIF arithmetic, one step of latency per synapse). The simulator runs
a batch of 256 samples at once; Lava runs one sample at a time (a fresh process network per
sample, as ``run_lava`` does). Both record the Output node only, and the Lava outputs are
checked identical to the simulator's for the same samples.

Reported per sample-step: the simulator's time; Lava end to end (emit + start + run + read back,
divided by samples x steps); and Lava's marginal cost of one more step (from two run lengths,
i.e. without the ~1 s start-up). One run, no repetitions.

BLAS threads (both sides; Lava's processes inherit them): ``--threads`` (default 1), set before
numpy loads: with 2 threads on this shared 2-core machine BLAS stalls on descheduled threads and
the simulator's figure stops being reproducible (as in bench/sim_networks.py).

    .venv/bin/python bench/lava_vs_sim.py [--steps 100] [--lava-samples 2] [--batch 256] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _threads(argv) -> int:
    """The ``--threads`` value, read before numpy is imported (BLAS reads its thread count once)."""
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return 1


if __name__ == "__main__":
    for _v in THREAD_VARS:
        os.environ[_v] = str(_threads(sys.argv[1:]))

import numpy as np  # noqa: E402

from snnc.backends.lava.run import run_lava  # noqa: E402
from snnc.backends.sim import Simulator  # noqa: E402
from snnc.ir.graph import Graph  # noqa: E402
from snnc.passes.targets import make_config  # noqa: E402
from snnc.runtime.compile import compile_graph  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp import lif_mlp  # noqa: E402


def network(seed: int = 0) -> Graph:
    """784-256-256-10 LIF MLP (float; compiled for loihi2 by the callers)."""
    return lif_mlp((784, 256, 256, 10), np.random.default_rng(seed), 2.5, dtype=np.float32)[0]


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished children (Lava's processes)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--lava-samples", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads of both sides (set before numpy loads)")
    ap.add_argument("--python", default=None, help="Lava interpreter (default: .venv-lava or $SNNC_LAVA_PYTHON)")
    args = ap.parse_args(argv)
    graph, _ = compile_graph(network(), make_config("loihi2"))
    rng = np.random.default_rng(1)
    T, B = args.steps, args.batch
    x = (rng.random((B, T, 784)) < 0.2).astype(np.int64)

    sim = Simulator(graph)
    c0, t0 = time.process_time(), time.perf_counter()
    ref = sim.run(x, record="outputs").outputs["output"]
    t_sim = time.perf_counter() - t0          # cold: first run, fresh heap pages (what the ratio uses)
    c_sim = time.process_time() - c0          # its CPU time (robust against other jobs on the machine)
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
    c0, t0 = _children_cpu(), time.perf_counter()
    lava = run_lava(graph, x[:n], record="outputs", python=args.python).outputs["output"]
    t_lava = time.perf_counter() - t0
    c_lava = _children_cpu() - c0             # CPU time of Lava's processes (all of them)

    same = np.array_equal(lava, ref[:n]) and np.array_equal(lava_short, sim.run(x[:n, :short]).outputs["output"])
    sim_ps = t_sim / (B * T)
    lava_ps = t_lava / (n * T)
    lava_marginal = (t_lava - t_short) / (n * (T - short))
    print(f"network 784-256-256-10 LIF (loihi2), {T} steps, input spike rate 0.2, output spikes "
          f"{int(ref.sum())} in {B} samples; {os.environ.get('OPENBLAS_NUM_THREADS', 'default')} BLAS thread(s)")
    warm_ps = t_warm / (B * T)
    print(f"snnc simulator: batch {B}: {t_sim:.3f} s = {sim_ps * 1e6:.1f} us per sample-step (first run); "
          f"warm {t_warm:.3f} s = {warm_ps * 1e6:.1f} us (best of 2 more runs)")
    print(f"Lava CPU (Loihi2SimCfg fixed_pt): {n} samples one at a time: {t_lava:.2f} s = "
          f"{lava_ps * 1e3:.2f} ms per sample-step end to end; marginal {lava_marginal * 1e3:.2f} ms per step "
          f"(run of {short} steps: {t_short:.2f} s)")
    print(f"CPU time per sample-step (both first runs): simulator {c_sim / (B * T) * 1e6:.1f} us, Lava "
          f"{c_lava / (n * T) * 1e3:.2f} ms (its processes); ratio {c_lava / (n * T) / (c_sim / (B * T)):.0f}x")
    print(f"outputs identical: {same}")
    if lava_marginal <= 0:
        print("note: the longer Lava run took no longer than the short one: its marginal step is below the "
              "run-to-run noise of its start-up, and the marginal ratios below mean nothing")
    print(f"ratio Lava/simulator per sample-step: {lava_ps / sim_ps:.0f}x end to end, "
          f"{lava_marginal / sim_ps:.0f}x marginal")
    print(f"steady state (Lava marginal / simulator warm): {lava_marginal / warm_ps:.0f}x; "
          f"Lava end to end / simulator warm: {lava_ps / warm_ps:.0f}x (not a like-for-like ratio: Lava's "
          "figure includes its start-up)")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
