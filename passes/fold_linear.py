"""Pass: merge a dense synapse into the dense synapse after it (exact in real arithmetic).

``Linear/Affine (W1, b1) -> Linear/Affine (W2, b2)`` with nothing else reading the first one
becomes one ``Affine (W2 W1, W2 b1 + b2)`` (a Linear when both have no bias). Norse's
``Linear -> LIFRecurrentCell`` exports as two dense layers in a row (the cell has its own input
weights); the integer lowering needs exactly one synapse in front of each neuron.
"""

from __future__ import annotations

import numpy as np

from snnc.ir import nodes as N
from snnc.ir.graph import Edge, Graph

_DENSE = (N.Linear, N.Affine)


def fold_linear(graph: Graph) -> Graph:
    """Merge every dense -> dense pair whose first node has exactly one consumer and whose
    second node has exactly one input."""
    g = graph.copy()
    changed = True
    while changed:
        changed = False
        for name, node in list(g.nodes.items()):
            outs = g.out_edges(name)
            if not isinstance(node, _DENSE) or len(outs) != 1:
                continue
            nxt = outs[0].dst
            if not isinstance(g.nodes[nxt], _DENSE) or len(g.in_edges(nxt)) != 1:
                continue
            w1, w2 = np.asarray(node.weight), np.asarray(g.nodes[nxt].weight)
            b1 = getattr(node, "bias", None)
            b2 = getattr(g.nodes[nxt], "bias", None)
            b = None if b1 is None and b2 is None else \
                (0 if b1 is None else w2 @ np.asarray(b1)) + (0 if b2 is None else np.asarray(b2))
            merged = N.Linear(weight=w2 @ w1) if b is None else N.Affine(weight=w2 @ w1, bias=np.asarray(b))
            merged.metadata = {**g.nodes[nxt].metadata, "folded_linear": name}
            delay = outs[0].delay
            g.nodes[nxt] = merged
            g.edges = [e for e in g.edges if name not in (e.src, e.dst)] + \
                [Edge(e.src, nxt, e.delay + delay) for e in g.in_edges(name)]
            del g.nodes[name]
            changed = True
            break
    return g
