"""Input vectors: random spike inputs for ``snnc verify`` and the testbench data (inputs and the
simulator's expected outputs) written into generated projects."""

from __future__ import annotations

import numpy as np

from snnc.backends.sim import Simulator
from snnc.ir.graph import Graph


def random_inputs(graph: Graph, n: int, steps: int, seed: int = 0, rate: float = 0.2) -> dict[str, np.ndarray]:
    """Bernoulli spike inputs (0/1 int64), one array (n, steps, *shape) per Input node."""
    rng = np.random.default_rng(seed)
    return {name: (rng.random((n, steps, *graph.nodes[name].shape)) < rate).astype(np.int64)
            for name in graph.input_names()}


def vectors_for_testbench(graph: Graph, samples: int = 2, steps: int = 16, seed: int = 0):
    """(inputs, expected outputs) for a generated testbench: random spike inputs ({input name:
    int64 [samples, T, ...]}, T = ``steps`` rounded up to a multiple of the graph's TimeMix
    window) and the simulator's Output node traces on them."""
    import math

    windows = [int(np.asarray(n.coefficients).shape[0]) for n in graph.nodes.values()
               if type(n).__name__ == "IntTimeMix"]
    w = math.lcm(*windows) if windows else 1
    steps = w * math.ceil(steps / w)
    inputs = random_inputs(graph, samples, steps, seed)
    trace = Simulator(graph).run(inputs)
    return inputs, trace.outputs
