"""Node-by-node equality of two snnc graphs, for the ``.net`` round-trip tests (loaded by path
from tests/runtime and tests/robustness, also in the Lava env)."""

from __future__ import annotations

import dataclasses

import numpy as np


def graph_difference(g1, g2) -> str | None:
    """None if ``g1`` and ``g2`` have the same nodes (same type and every dataclass field but
    ``metadata``: weights, neuron parameters, shapes, formats) and the same edges with the same
    delays; else what differs. Nodes are matched by name when both graphs use the same names,
    else in graph order (a written file may number its layers differently)."""
    n1, n2 = list(g1.nodes), list(g2.nodes)
    if len(n1) != len(n2):
        return f"{len(n1)} nodes {n1[:6]}... vs {len(n2)} nodes {n2[:6]}..."
    names = {a: a for a in n1} if set(n1) == set(n2) else dict(zip(n1, n2))
    for a, b in names.items():
        x, y = g1.nodes[a], g2.nodes[b]
        if type(x) is not type(y):
            return f"'{a}' is {type(x).__name__}, '{b}' is {type(y).__name__}"
        for f in dataclasses.fields(x):
            if f.name == "metadata":
                continue
            u, v = getattr(x, f.name), getattr(y, f.name)
            if isinstance(u, np.ndarray) or isinstance(v, np.ndarray):
                if u is None or v is None or np.shape(u) != np.shape(v) or not np.array_equal(u, v):
                    return f"'{a}'.{f.name} differs from '{b}'.{f.name}"
            elif u != v:
                return f"'{a}'.{f.name} = {u!r}, '{b}'.{f.name} = {v!r}"
    e1 = sorted((names[e.src], names[e.dst], e.delay) for e in g1.edges)
    e2 = sorted((e.src, e.dst, e.delay) for e in g2.edges)
    if e1 != e2:
        return f"edges differ: {sorted(set(e1) ^ set(e2))[:4]}"
    return None
