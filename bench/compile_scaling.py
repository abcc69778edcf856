"""Compile time and peak memory against network size (issue 7: growth should be linear; target:
1M synapses compiled for all targets in under 5 s).

Network: input 256 -> Linear -> LIF (n) -> Linear -> LIF (n) -> Linear -> LIF (10), n chosen so
the three weight matrices hold about S synapses. Each (size, target) is compiled in a fresh
subprocess so its peak resident memory (ru_maxrss) is its own; time covers load from .nir,
the pipeline and writing the artifact folder.

    .venv/bin/python bench/compile_scaling.py [--sizes 1e4 1e5 1e6 1e7] [--targets sim fpga loihi2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

CHILD = r"""
import json, os, resource, sys, time
import numpy as np
import snnc
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph, write_artifacts

synapses, target, folder = int(float(sys.argv[1])), sys.argv[2], sys.argv[3]
n_in = 256
n = max(8, int((-(n_in + 10) + ((n_in + 10) ** 2 + 4 * synapses) ** 0.5) / 2))   # n_in*n + n*n + 10*n = S
sys.path.insert(0, sys.argv[4])
from mlp import lif_mlp
g = lif_mlp((n_in, n, n, 10), np.random.default_rng(0), None, dtype=np.float32)[0]
src = os.path.join(folder, "model.nir")
snnc.save(g, src)
base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
graph = snnc.load(src)
low, report = compile_graph(graph, make_config(target))
write_artifacts(os.path.join(folder, "out"), low, report, force=True)
elapsed = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"synapses": report["totals"]["synapses"], "seconds": elapsed, "peak_mb": peak / 1024,
                  "model_mb": (peak - base_rss) / 1024}))
"""


def run(size: float, target: str) -> dict:
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run([sys.executable, "-c", CHILD, str(size), target, d, HERE], capture_output=True,
                             text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e4, 1e5, 1e6, 1e7])
    from snnc.runtime.targets import TARGETS

    ap.add_argument("--targets", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    args = ap.parse_args()
    print(f"{'synapses':>10} {'target':>7} {'compile s':>10} {'s per 1M syn':>13} {'peak RSS MB':>12}")
    for size in args.sizes:
        for target in args.targets:
            r = run(size, target)
            per = r["seconds"] / max(r["synapses"], 1) * 1e6
            print(f"{r['synapses']:>10} {target:>7} {r['seconds']:>10.3f} {per:>13.3f} {r['peak_mb']:>12.0f}")
    print("(growth is linear when 's per 1M syn' stays flat; target: 1M synapses < 5 s for every target)")


if __name__ == "__main__":
    main()
