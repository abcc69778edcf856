"""Integer simulator on real networks vs its limits (issue 20), one table.

For every network of bench/networks.py, measured side by side in one process:

* the simulator per sample-step at batch 1 and batch 32 (``Simulator.run``, Output nodes recorded);
* the float32 torch equivalent of the same shapes at batch 1 and 32 (bench/torch_limit.py: the
  limit), interleaved with the simulator runs; ``--repeat`` rounds, min and median reported;
* the generated C (backends/fpga ``CModel``, gcc) per step at batch 1, outputs checked equal to the
  simulator's;
* the simulator's first run (fresh process, fresh Simulator, batch 32) against its steady state:
  the median over ``--cold-runs`` fresh processes (the first one is the process that measures
  everything else; a first run is one sample per process, and on this shared machine one sample
  in a few takes twice as long as the others);
* peak memory: numpy arrays alive at once during a batch-32 run (tracemalloc) and the process's
  peak RSS;
* ``--threads`` (default 1) BLAS and torch threads on both sides;
* ``--block-steps`` the simulator's steps per block (default: its own choice; 0: one block of
  the whole run, the node-major execution before time-blocked execution, for comparisons);
* with ``--lava`` and a Lava environment: Lava CPU per step on one sample (two run lengths: end to
  end and marginal), for the networks lowered for loihi2.

Each network runs in its own subprocess (so first-run and peak-memory figures are its own);
``--quick`` runs small sizes in one process (a smoke run: the figures are not meaningful).

    .venv/bin/python bench/sim_networks.py [--networks dense pilotnet ...] [--repeat 3] [--lava]
    .venv/bin/python bench/sim_networks.py --quick
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

#: steps per run: (batch-32 runs, batch-1 runs); chosen so one run takes roughly 0.1-2 s. The
#: first-run figure compares the first batch-32 run with the warm ones: a first run pays a fixed
#: one-time cost (first touch of the neuron states and of the first time block, numpy's first
#: calls; ~0.2 s for PilotNet at batch 32), so the batch-32 runs are at least 12 steps long for the
#: conv nets (4-6 steps before: the fixed cost was then a third to a half of the run)
STEPS = {"dense": (50, 200), "pilotnet": (12, 16), "ntidigits": (100, 100), "sinabs": (40, 100),
         "sinabs_large": (12, 16)}
DIGITS_STEPS = (300, 300)
ORDER = ["dense", "digits_clif", "digits_cubalif", "digits_lif", "digits_lifb", "digits_lmht", "digits_lnm",
         "digits_rf", "pilotnet", "ntidigits", "sinabs", "sinabs_large"]
QUICK = ["dense", "digits_lif", "pilotnet", "sinabs"]
BIG = 32
#: loihi2 networks not run on Lava (none: NTIDIGITS's per-delay synapse layers, 95 Lava processes
#: whose start-up took minutes, are planned as one DelayDense per layer since the delay merge)
LAVA_SKIP: set[str] = set()
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _window(graph) -> int:
    ws = [int(np.asarray(n.coefficients).shape[0]) for n in graph.nodes.values() if type(n).__name__ == "IntTimeMix"]
    return math.lcm(*ws) if ws else 1


def _steps(graph, steps: int) -> int:
    w = _window(graph)
    return w * max(1, math.ceil(steps / w))


def _timed(fn):
    t0 = time.perf_counter()
    r = fn()
    return time.perf_counter() - t0, r


def _lava_available() -> bool:
    """The Lava env the runtime would use ($SNNC_LAVA_PYTHON, else the repository's .venv-lava)."""
    from snnc.backends.lava.run import lava_python
    from snnc.ir.errors import SnncError

    try:
        lava_python()
    except SnncError:
        return False
    return True


def measure(name: str, *, repeat: int, scale: float, c: bool, lava: bool, big: int = BIG,
            block_steps: int | None = None) -> dict:
    """All figures of one network (times in microseconds per sample-step)."""
    from networks import build, inputs
    from torch_limit import TorchLimit

    from snnc.backends.sim import Simulator

    graph, target, rate = build(name)
    t_big, t_one = STEPS.get(name, DIGITS_STEPS)
    t_big, t_one = _steps(graph, max(2, int(t_big * scale))), _steps(graph, max(2, int(t_one * scale)))
    x_big = inputs(name, graph, big, t_big, seed=1, rate=rate)
    x_one = inputs(name, graph, 1, t_one, seed=2, rate=rate)
    # block_steps 0: one block of the whole run (the node-major execution before time blocks)
    sim = Simulator(graph, block_steps=None if block_steps is None else (block_steps or 10 ** 9))
    cold, ref = _timed(lambda: sim.run(x_big))
    limit = TorchLimit(graph)
    limit.run({k: v[:, :2] for k, v in x_big.items()})            # torch warm-up (lazy init, threads)
    runs = {"sim32": [], "torch32": [], "sim1": [], "torch1": []}
    for _ in range(repeat):
        dt, again = _timed(lambda: sim.run(x_big))
        runs["sim32"].append(dt / (big * t_big))
        assert all(np.array_equal(again.outputs[k], ref.outputs[k]) for k in ref.outputs), "simulator not deterministic"
        runs["torch32"].append(_timed(lambda: limit.run(x_big))[0] / (big * t_big))
        runs["sim1"].append(_timed(lambda: sim.run(x_one))[0] / t_one)
        runs["torch1"].append(_timed(lambda: limit.run(x_one))[0] / t_one)
    res = {"network": name, "target": target, "nodes": len(graph.nodes), "steps_b32": t_big, "steps_b1": t_one,
           "batch": big, "cold_b32_us": 1e6 * cold / (big * t_big),
           "group_b32": sim.sample_groups(t_big, big)[0][1],
           "block_steps_b32": sim.steps_per_block(t_big, sim.sample_groups(t_big, big)[0][1]),
           "block_steps_b1": sim.steps_per_block(t_one, 1)}
    for k, v in runs.items():
        res[f"{k}_min_us"] = 1e6 * min(v)
        res[f"{k}_med_us"] = 1e6 * statistics.median(v)
    if c:
        from snnc.backends.fpga import CModel

        model = CModel(graph)
        model.run(x_one, steps=min(t_one, 4))
        dt, got = _timed(lambda: model.run(x_one))
        want = sim.run(x_one)
        res["c_b1_us"] = 1e6 * dt / t_one
        res["c_identical"] = all(np.array_equal(want.outputs[k], got.outputs[k]) for k in want.outputs)
    tracemalloc.start()
    sim.run(x_big)
    res["peak_arrays_mb"] = tracemalloc.get_traced_memory()[1] / 2 ** 20
    tracemalloc.stop()
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if lava and target == "loihi2" and name not in LAVA_SKIP and _lava_available():
        from snnc.backends.lava.run import run_lava

        short, long = 2, max(4, int(8 * scale))
        xs = {k: v[:1, :long] for k, v in x_big.items()}
        t_short, _ = _timed(lambda: run_lava(graph, {k: v[:, :short] for k, v in xs.items()}))
        t_long, got = _timed(lambda: run_lava(graph, xs))
        want = sim.run(xs)
        res["lava_e2e_us"] = 1e6 * t_long / long
        res["lava_marginal_us"] = 1e6 * (t_long - t_short) / (long - short)
        res["lava_identical"] = all(np.array_equal(want.outputs[k], got.outputs[k]) for k in want.outputs)
    return res


def cold_ratio(name: str, block_steps: int | None = None, scale: float = 1.0) -> float:
    """One more first run in this (fresh) process: the first batch-32 run over the median of two
    warm ones, as :func:`measure` does."""
    from networks import build, inputs

    from snnc.backends.sim import Simulator

    graph, _, rate = build(name)
    t_big = _steps(graph, max(2, int(STEPS.get(name, DIGITS_STEPS)[0] * scale)))
    x = inputs(name, graph, BIG, t_big, seed=1, rate=rate)
    sim = Simulator(graph, block_steps=None if block_steps is None else (block_steps or 10 ** 9))
    cold = _timed(lambda: sim.run(x))[0]
    return cold / statistics.median(_timed(lambda: sim.run(x))[0] for _ in range(2))


def child(args) -> int:
    if args.cold_only:
        for name in args.networks:
            ratio = cold_ratio(name, args.block_steps, args.scale)
            print("COLD " + json.dumps({"network": name, "ratio": ratio}), flush=True)
        return 0
    import torch

    torch.set_num_threads(args.threads)
    for name in args.networks:
        r = measure(name, repeat=args.repeat, scale=args.scale, c=not args.no_c, lava=args.lava,
                    block_steps=args.block_steps)
        print("RESULT " + json.dumps(r), flush=True)
    return 0


def table(rows: list[dict]) -> list[str]:
    head = (f"{'network':<14} {'sim b1':>8} {'sim b32':>8} {'torch b32':>9} {'sim/torch':>9} {'b32/b1':>6} "
            f"{'C b1':>7} {'sim/C':>6} {'cold/warm':>9} {'Lava/sim':>8} {'peak MB':>8}")
    out = [head, "(us per sample-step; min of the repeats, median in brackets for the ratios; cold/warm: the first "
                 "run over the median warm run, median over the fresh processes of --cold-runs)"]
    for r in rows:
        ratio = r["sim32_min_us"] / r["torch32_min_us"]
        ratio_med = r["sim32_med_us"] / r["torch32_med_us"]
        cold = r.get("cold_ratio_med", r["cold_b32_us"] / r["sim32_med_us"])
        scale = r["sim32_min_us"] / r["sim1_min_us"]
        c = f"{r['c_b1_us']:7.1f}" if "c_b1_us" in r else f"{'-':>7}"
        sc = f"{r['sim1_min_us'] / r['c_b1_us']:5.1f}x" if "c_b1_us" in r else f"{'-':>6}"
        lava = f"{r['lava_e2e_us'] / r['sim32_min_us']:7.0f}x" if "lava_e2e_us" in r else f"{'-':>8}"
        out.append(f"{r['network']:<14} {r['sim1_min_us']:8.1f} {r['sim32_min_us']:8.1f} {r['torch32_min_us']:9.1f} "
                   f"{ratio:5.2f}x ({ratio_med:4.2f}) {scale:5.2f} {c} {sc} "
                   f"{cold:8.2f}x {lava} {r['peak_arrays_mb']:8.1f}")
    return out


def targets(rows: list[dict]) -> list[tuple[str, str, str, bool]]:
    """(benchmark, measured, target, met) rows for bench/run_all's summary table."""
    worst = max(rows, key=lambda r: r["sim32_min_us"] / r["torch32_min_us"])
    w = worst["sim32_min_us"] / worst["torch32_min_us"]
    grow = max(rows, key=lambda r: r["sim32_min_us"] / r["sim1_min_us"])
    g = grow["sim32_min_us"] / grow["sim1_min_us"]
    # one first run against the median warm run (the min of the warm repeats would compare one
    # sample with the best of several on a noisy machine)
    def first_run(r):
        return r.get("cold_ratio_med", r["cold_b32_us"] / r["sim32_med_us"])

    cold = max(rows, key=first_run)
    cw = first_run(cold)
    out = [(f"simulator vs float32 torch, batch {BIG}, worst network", f"{w:.2f}x ({worst['network']})",
            "within 3x", w <= 3),
           ("simulator per sample-step, batch 32 / batch 1, worst", f"{g:.2f} ({grow['network']})",
            "at most 1 (non-increasing)", g <= 1),
           ("simulator first run / steady state, batch 32, worst", f"{cw:.2f}x ({cold['network']})", "within 1.5x",
            cw <= 1.5)]
    lava = [r for r in rows if "lava_e2e_us" in r]
    if lava:
        low = min(lava, key=lambda r: r["lava_e2e_us"] / r["sim32_min_us"])
        lr = low["lava_e2e_us"] / low["sim32_min_us"]
        out.append(("Lava CPU end to end / simulator batch 32, lowest", f"{lr:.0f}x ({low['network']})",
                    "at least 500x", lr >= 500))
    csim = [r for r in rows if "c_b1_us" in r]
    if csim:
        same = all(r["c_identical"] for r in csim)
        out.append(("generated C identical to the simulator, every network", str(same), "True", same))
    return out


def _child(options: list[str], group: list[str], args, env: dict, tag: str) -> list[dict]:
    """Run this script as a child process on ``group`` with ``options``; its ``TAG {json}``
    lines, parsed (a failed child stops the bench with its output)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", *options, "--networks", *group,
           "--scale", str(args.scale)]
    cmd += [] if args.block_steps is None else ["--block-steps", str(args.block_steps)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(proc.stdout + proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"bench/sim_networks.py {' '.join(options)} failed on {group}")
    return [json.loads(line[len(tag) + 1:]) for line in proc.stdout.splitlines() if line.startswith(tag + " ")]


def _more_first_runs(rows: list[dict], group: list[str], args, env: dict) -> None:
    """``--cold-runs - 1`` more fresh processes per network; each row gets the median first-run
    ratio over all of them (``cold_ratio_med``) and the list (``cold_ratios``)."""
    for r in rows:
        if r["network"] in group:
            r["cold_ratios"] = [r["cold_b32_us"] / r["sim32_med_us"]]
    for _ in range(args.cold_runs - 1):
        for c in _child(["--cold-only"], group, args, env, "COLD"):
            for r in rows:
                if r["network"] == c["network"]:
                    r["cold_ratios"].append(c["ratio"])
    for r in rows:
        if r["network"] in group and "cold_ratios" in r:
            r["cold_ratio_med"] = statistics.median(r["cold_ratios"])
            print(f"first runs {r['network']}: " + ", ".join(f"{v:.2f}x" for v in r["cold_ratios"]), flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--networks", nargs="+", default=None, choices=ORDER)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every step count")
    ap.add_argument("--no-c", action="store_true", help="skip the generated C")
    ap.add_argument("--lava", action="store_true", help="also Lava CPU (loihi2 networks, needs the Lava env)")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS / torch threads of both sides (default 1: on a shared, loaded machine multi-threaded "
                         "BLAS and torch stall on descheduled threads, and the ratios stop being reproducible)")
    ap.add_argument("--block-steps", type=int, default=None,
                    help="simulator steps per block (default: chosen from the layer sizes; 0: the whole run as one "
                         "block, node-major execution as before time blocks)")
    ap.add_argument("--cold-runs", type=int, default=1,
                    help="fresh processes whose first run is measured per network (median reported; default 1: "
                         "the measuring process only)")
    ap.add_argument("--cold-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="smoke run: small sizes, one process")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.networks = args.networks or QUICK
        args.repeat, args.scale = 1, min(args.scale, 0.05)
    args.networks = args.networks or ORDER
    if args.child:
        return child(args)
    if args.lava and not _lava_available():
        print("note: --lava: no Lava env ($SNNC_LAVA_PYTHON or .venv-lava): the Lava column stays empty",
              file=sys.stderr)
    if args.quick:
        groups = [args.networks]
    else:
        groups = [[n] for n in args.networks]
    rows = []
    for group in groups:
        options = ["--repeat", str(args.repeat), "--threads", str(args.threads)]
        options += (["--no-c"] if args.no_c else []) + (["--lava"] if args.lava else [])
        env = {**os.environ, **{v: str(args.threads) for v in THREAD_VARS}}
        for r in _child(options, group, args, env, "RESULT"):
            rows.append(r)
            print("RESULT " + json.dumps(r), flush=True)
        if args.cold_runs > 1 and not args.quick:
            _more_first_runs(rows, group, args, env)
    print()
    print("\n".join(table(rows)))
    print()
    for name, got, want, ok in targets(rows):
        print(f"target: {name:<52} {got:<26} {want:<28} {'yes' if ok else 'NO'}")
    if args.quick:
        print("(--quick: small sizes, the figures are not meaningful)")
    ok = all(r.get("c_identical", True) and r.get("lava_identical", True) for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
