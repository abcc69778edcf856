"""Write the quickstart model ``examples/models/quickstart_lif.nir`` and an input file.

A small 2-layer LIF network in plain NIR (no torch needed): 16 inputs -> 32 LIF -> 4 LIF,
random weights (seed 0), tau_mem = 5 ms, dt = 1 ms, recorded as the graph's metadata.
Input: Poisson spikes, 8 samples x 60 steps x 16 channels. Run:

    python examples/make_quickstart_model.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import snnc
from snnc.ir import nodes as N
from snnc.ir.graph import Graph

HERE = Path(__file__).parent


def build(seed: int = 0) -> Graph:
    rng = np.random.default_rng(seed)
    g = Graph(metadata={"dt": 1e-3, "producer": "snnc examples/make_quickstart_model.py"})
    g.add_node("input", N.Input(shape=(16,)))
    g.add_node("fc1", N.Affine(weight=rng.normal(0.4, 0.6, (32, 16)).astype(np.float32),
                               bias=np.zeros(32, np.float32)))
    g.add_node("lif1", N.LIF(tau=np.full(32, 5e-3), r=np.full(32, 5.0), v_leak=np.zeros(32),
                             v_threshold=np.ones(32), v_reset=np.zeros(32)))
    g.add_node("fc2", N.Affine(weight=rng.normal(0.3, 0.5, (4, 32)).astype(np.float32),
                               bias=np.zeros(4, np.float32)))
    g.add_node("lif2", N.LIF(tau=np.full(4, 5e-3), r=np.full(4, 5.0), v_leak=np.zeros(4),
                             v_threshold=np.ones(4), v_reset=np.zeros(4)))
    g.add_node("output", N.Output(shape=(4,)))
    for s, d in [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "output")]:
        g.add_edge(s, d)
    return g


def main() -> None:
    snnc.save(build(), HERE / "models" / "quickstart_lif.nir")
    rng = np.random.default_rng(1)
    np.save(HERE / "data" / "quickstart_input.npy", (rng.random((8, 60, 16)) < 0.2).astype(np.float32))
    print("wrote examples/models/quickstart_lif.nir and examples/data/quickstart_input.npy")


if __name__ == "__main__":
    main()
