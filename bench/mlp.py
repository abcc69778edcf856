"""The fully connected LIF network several benchmarks build: input -> (Linear -> DiscreteLIF) per
layer -> Output, Gaussian weights scaled by ``scale / sqrt(fan-in)``."""

from __future__ import annotations

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.graph import Graph


def lif(shape) -> N.DiscreteLIF:
    """The benchmarks' LIF: voltage decay 0.9, threshold 1, reset to 0."""
    return N.DiscreteLIF(shape=tuple(shape), voltage_decay=np.array(0.9), current_gain=np.array(1.0),
                         input_gain=np.array(1.0), v_threshold=np.array(1.0), v_reset=np.array(0.0))


def lif_mlp(sizes, rng: np.random.Generator, scale: float | None, *, dtype=None,
            metadata: dict | None = None) -> tuple[Graph, list[np.ndarray]]:
    """``sizes = (n_in, n_1, ..., n_out)`` -> (graph, the weight matrices [n_out, n_in]). Layer k's
    weights are ``rng.standard_normal((n_out, n_in)) * scale / sqrt(n_in)`` (unscaled for
    ``scale=None``), drawn in layer order, cast to ``dtype`` when given."""
    g = Graph(metadata=dict(metadata or {"dt": 1e-3}))
    g.add_node("input", N.Input(shape=(sizes[0],)))
    prev, weights = "input", []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = rng.standard_normal((n_out, n_in))
        if scale is not None:
            w = w * scale / np.sqrt(n_in)
        w = w if dtype is None else w.astype(dtype)
        weights.append(w)
        g.add_node(f"fc{k}", N.Linear(weight=w))
        g.add_node(f"lif{k}", lif((n_out,)))
        g.add_edge(prev, f"fc{k}")
        g.add_edge(f"fc{k}", f"lif{k}")
        prev = f"lif{k}"
    g.add_node("output", N.Output(shape=(sizes[-1],)))
    g.add_edge(prev, "output")
    return g, weights
