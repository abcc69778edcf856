"""NTIDIGITS on Lava CPU with and without merging the per-delay parts into one DelayDense.

snnc's netx import splits each delayed dense layer of lava-dl's NTIDIGITS ``.net`` into one
``IntDense`` per distinct delay value; the Lava emitter plans such a group as one ``DelayDense``
with a per-synapse delay matrix (backends/lava/merged_dense.py). This script emits the network
both ways and times ``run_lava`` (emit + Lava build + run, one sample, ``--steps`` steps, in the
Lava env as a subprocess), checks the outputs against the simulator, and prints the process
counts and times (every output and state recorded and compared, as ``snnc verify`` does):

    .venv/bin/python bench/lava_delay_merge.py [--steps 4] [--no-split] [--timeout 900]

``--no-split`` measures the merged network only (the split one takes minutes).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _measure(merge: bool, steps: int, queue) -> None:
    from networks import build

    from snnc.backends.lava import mapping
    from snnc.backends.lava.run import run_lava
    from snnc.backends.sim import simulate
    from snnc.runtime.verify import compare_traces, random_inputs

    if not merge:
        mapping.plan_delay_groups = lambda pl, links_in, links_out: {}
    graph, _, rate = build("ntidigits")
    plan = mapping.plan_network(graph)
    x = random_inputs(graph, 1, steps, seed=2, rate=rate)
    t0 = time.perf_counter()
    got = run_lava(graph, x, record="all", record_states=True)
    dt = time.perf_counter() - t0
    want = simulate(graph, x, record="all", record_states=True)
    cmp = compare_traces({"sim": want, "lava": got})
    spikes = sum(int(want.outputs[n].sum()) for n, node in graph.nodes.items() if type(node).__name__ == "IntCubaLIF")
    queue.put({"merged": merge, "processes": len(plan.procs), "steps": steps, "seconds": round(dt, 1),
               "identical": cmp.bit_exact, "compared": cmp.compared, "unobserved": len(cmp.unobserved),
               "lif_spikes": spikes})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--no-split", action="store_true", help="measure only the merged network")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds before a run is given up")
    args = ap.parse_args(argv)
    ok = True
    for merge in ([True] if args.no_split else [True, False]):
        queue = mp.Queue()
        proc = mp.Process(target=_measure, args=(merge, args.steps, queue))
        t0 = time.perf_counter()
        proc.start()
        proc.join(args.timeout)
        if proc.is_alive():
            proc.terminate()
            proc.join()
            print(json.dumps({"merged": merge, "steps": args.steps,
                              "seconds": f"> {time.perf_counter() - t0:.0f} (given up)"}))
            continue
        row = queue.get() if not queue.empty() else {"merged": merge, "error": f"exit {proc.exitcode}"}
        ok = ok and row.get("identical", False)
        print(json.dumps(row))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
